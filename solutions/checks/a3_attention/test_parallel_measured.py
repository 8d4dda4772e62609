"""Hidden checks of a3_attention: parallelism measured from outside the submission's process.

The operation counts of test_parallelism.py are taken inside the child, next to the
submission's code. These checks time the child's CPU from outside (the kernel's
accounting), on inputs where each position, batch item or head costs almost nothing to
compute: a loop then costs orders of magnitude more than one batched operation, whatever
the child reports about itself (see docs/writing-checks.md, "What a structural check proves").
"""

import torch

from grader.checks import check
from grader.checks.parallel import Config, measured_growth

F32 = torch.float32


def _sdpa_args(draw, B, L, S, E=2):
    q, k, v = draw.randn(B, L, E, dtype=F32), draw.randn(B, S, E, dtype=F32), draw.randn(B, S, E, dtype=F32)
    return (q, k, v), {}


@check(points=0.5, description="scaled_dot_product_attention's time does not grow like a loop over positions "
                               "or batch items (measured from outside)", kind="parallelism",
       promises=("parallel.no-loop",),
       targets=("scaled_dot_product_attention",), timeout=40)
def test_sdpa_parallel_measured(sub, ref, draw):
    measured_growth(sub, "scaled_dot_product_attention",
                    {"L=4": _sdpa_args(draw, 2, 4, 2), "L=2048": _sdpa_args(draw, 2, 2048, 2)},
                    ref.scaled_dot_product_attention, what="scaled_dot_product_attention",
                    why="it loops over query positions (compute every query's scores at once)")
    measured_growth(sub, "scaled_dot_product_attention",
                    {"B=2": _sdpa_args(draw, 2, 3, 2), "B=2048": _sdpa_args(draw, 2048, 3, 2)},
                    ref.scaled_dot_product_attention, what="scaled_dot_product_attention",
                    why="it loops over batch items (matmul and softmax work on batched tensors)")


@check(points=0.5, description="MultiHeadAttention's time does not grow like a loop over heads or positions "
                               "(measured from outside)", kind="parallelism", promises=("parallel.no-loop",),
       targets=("MultiHeadAttention",),
       timeout=40)
def test_mha_parallel_measured(sub, ref, draw):
    def module(heads):
        r = ref.MultiHeadAttention(embed_dim=heads, num_heads=heads).to(F32)
        state = draw.perturb_state(r)
        r.load_state_dict(state)
        return r, sub.build("MultiHeadAttention", state, embed_dim=heads, num_heads=heads, dtype=F32)

    def args(B, L, S, E):
        return (draw.randn(B, L, E, dtype=F32), draw.randn(B, S, E, dtype=F32), draw.randn(B, S, E, dtype=F32)), {}

    r2, m2 = module(2)
    measured_growth(sub, m2, {"L=4": args(2, 4, 2, 2), "L=2048": args(2, 2048, 2, 2)}, r2,
                    what="MultiHeadAttention", why="it loops over query positions")
    # heads: one module per head count, each call compared with its own reference module
    r256, m256 = module(256)
    measured_growth(sub, m2, {"2 heads": Config(*args(2, 2, 2, 2), m2, r2),
                              "256 heads": Config(*args(2, 2, 2, 256), m256, r256)}, r2,
                    what="MultiHeadAttention", why="it loops over heads (reshape [B,L,E] to [B,heads,L,d] and "
                                                   "attend for every head at once)")
