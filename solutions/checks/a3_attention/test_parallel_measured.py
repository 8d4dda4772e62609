"""Hidden checks of a3_attention: parallelism measured from outside the submission's process.

The operation counts of test_parallelism.py are taken inside the child, next to the
submission's code. These checks time the child's CPU from outside (the kernel's
accounting), on inputs where each position, batch item or head costs almost nothing to
compute: a loop then costs orders of magnitude more than one batched operation, whatever
the child reports about itself (see docs/writing-checks.md, "What a structural check proves").
"""

from types import SimpleNamespace

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


HEADS = 128  # embed_dim = heads (one dimension per head): a loop over 128 heads costs ~10 ms, batched ones ~0.3 ms


def _mha_case(d, ref):
    """The run's modules (2 and HEADS heads, one dimension per head) and inputs, drawn once per run."""
    def module(heads):
        r = ref.MultiHeadAttention(embed_dim=heads, num_heads=heads).to(F32)
        state = d.perturb_state(r)
        r.load_state_dict(state)
        return r, state

    def args(B, L, S, E):
        return (d.randn(B, L, E, dtype=F32), d.randn(B, S, E, dtype=F32), d.randn(B, S, E, dtype=F32)), {}

    return SimpleNamespace(small=module(2), many=module(HEADS), short=args(2, 4, 2, 2), long=args(2, 2048, 2, 2),
                           few_heads=args(2, 2, 2, 2), many_heads=args(2, 2, 2, HEADS))


@check(points=0.5, description="MultiHeadAttention's time does not grow like a loop over heads or positions "
                               "(measured from outside)", kind="parallelism", promises=("parallel.no-loop",),
       targets=("MultiHeadAttention",),
       timeout=40)
def test_mha_parallel_measured(sub, ref, once):
    c = once(lambda d: _mha_case(d, ref))
    (r2, state2), (rh, stateh) = c.small, c.many
    m2 = sub.build("MultiHeadAttention", state2, embed_dim=2, num_heads=2, dtype=F32)
    measured_growth(sub, m2, {"L=4": c.short, "L=2048": c.long}, r2,
                    what="MultiHeadAttention", why="it loops over query positions")
    # heads: one module per head count, each call compared with its own reference module
    mh = sub.build("MultiHeadAttention", stateh, embed_dim=HEADS, num_heads=HEADS, dtype=F32)
    measured_growth(sub, m2, {"2 heads": Config(*c.few_heads, m2, r2),
                              f"{HEADS} heads": Config(*c.many_heads, mh, rh)}, r2,
                    what="MultiHeadAttention", why="it loops over heads (reshape [B,L,E] to [B,heads,L,d] and "
                                                   "attend for every head at once)")
