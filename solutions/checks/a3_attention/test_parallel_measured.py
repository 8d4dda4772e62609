"""Hidden checks of a3_attention: parallelism measured from outside the submission's process.

The operation counts of test_parallelism.py are taken inside the child, next to the
submission's code. These checks time the child's CPU from outside (the kernel's
accounting), on inputs where each position, batch item or head costs almost nothing to
compute: a loop then costs orders of magnitude more than one batched operation, whatever
the child reports about itself (see docs/writing-checks.md, "What a structural check proves").
"""

import torch

from grader.checks import check
from grader.checks.parallel import measured_growth

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
    # heads: one module per head count; each call is compared with its own reference module
    r256, m256 = module(256)
    base, big = args(2, 2, 2, 2), args(2, 2, 2, 256)
    from grader.checks.parallel import counted_ops, _cpu_of_reference, GROWTH_ABS, GROWTH_REL, REPEATS
    from grader.checks import fail
    cpu = {}
    for label, m, r, (a, kw) in (("2 heads", m2, r2, base), ("256 heads", m256, r256, big)):
        expected = r(*a, **kw)
        cpu[label] = min(counted_ops(sub, m, *a, expected=expected, what="MultiHeadAttention").cpu_ns or 1
                         for _ in range(REPEATS))
    ref_growth = _cpu_of_reference(r256, big[0], {}) / _cpu_of_reference(r2, base[0], {})
    growth = cpu["256 heads"] / max(cpu["2 heads"], 1)
    if growth > max(GROWTH_ABS, GROWTH_REL * ref_growth):
        fail(f"MultiHeadAttention: measured from outside your process, its CPU time grew {growth:.0f}x from 2 "
             f"to 256 heads (a correct implementation: {ref_growth:.1f}x): it loops over heads (reshape "
             "[B,L,E] to [B,heads,L,d] and attend for every head at once)")
