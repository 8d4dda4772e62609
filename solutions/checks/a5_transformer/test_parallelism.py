"""Hidden checks of a5_transformer: the layers process all positions, heads and batch items at once.

The sandbox counts the tensor operations executed in one forward call; without a Python
loop over positions, heads or batch items the count does not depend on them. Every size
is >= 2 (a dimension of size 1 can make a reshape free and change the count legitimately).
"""

import torch

from grader.checks import check, fail
from grader.checks.parallel import counted_ops

F32 = torch.float32

WHY = {
    "length": "the number of tensor operations grows with the sequence length: do not loop over positions",
    "batch": "the number of tensor operations grows with the batch size: do not loop over batch items",
    "heads": "the number of tensor operations grows with the number of heads: do not loop over heads",
}


@check(points=2, description="encoder and decoder layers: no Python loop over positions, heads or batch items",
       kind="parallelism", promises=("parallel.no-loop",),
       targets=("TransformerEncoderLayer", "TransformerDecoderLayer"))
def test_layers_parallel(sub, ref, draw):
    hd = draw.int(2, 3)
    E = 4 * hd
    ff = draw.int(3, 6)
    L2, S2, B2 = draw.int(9, 13), draw.int(9, 13), draw.int(5, 7)
    configs = [("base", 2, 2, 3, 4), ("length", 2, 2, L2, S2), ("batch", 2, B2, 3, 4), ("heads", 4, 2, 3, 4)]
    for name in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        mods = {}
        for nh in (2, 4):
            r = getattr(ref, name)(E, nh, ff).double()
            state = draw.perturb_state(r)
            r.load_state_dict(state)
            mods[nh] = (r, sub.build(name, {k: v.float() for k, v in state.items()}, E, nh, ff, dtype=F32))
        def count(nh, B, L, S):
            pad = torch.ones(B, 1, S, dtype=torch.bool)
            pad[1:, :, -1] = False
            r, m = mods[nh]
            if name == "TransformerEncoderLayer":
                x = draw.randn(B, S, E, dtype=F32)
                return counted_ops(sub, m, x, src_mask=pad, expected=r(x.double(), src_mask=pad), what=name)
            causal = torch.ones(L, L, dtype=torch.bool).tril()
            x, mem = draw.randn(B, L, E, dtype=F32), draw.randn(B, S, E, dtype=F32)
            return counted_ops(sub, m, x, mem, tgt_mask=causal, memory_mask=pad,
                               expected=r(x.double(), mem.double(), tgt_mask=causal, memory_mask=pad), what=name)

        _, nh, B, L, S = configs[0]
        base, base_desc = count(nh, B, L, S), f"{nh} heads, B={B}, L={L}, S={S}"
        if count(4, B2, L2, S2) == base:  # the usual case: one call with heads, batch and lengths all grown
            continue
        for label, nh, B, L, S in configs[1:]:
            n = count(nh, B, L, S)
            if n != base:
                fail(f"{name}: {WHY[label]} ({base} operations for {base_desc}, {n} for {nh} heads, B={B}, L={L}, "
                     f"S={S})")
