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


def _layer_cases(d, ref):
    """Per layer: its modules (2 and 4 heads) and, per configuration (heads, B, L, S), its inputs and the
    reference's output: drawn once per run, as every submission of a run gets the same ones."""
    hd = d.int(2, 3)
    E = 4 * hd
    ff = d.int(3, 6)
    L2, S2, B2 = d.int(9, 13), d.int(9, 13), d.int(5, 7)
    configs = {"base": (2, 2, 3, 4), "grown": (4, B2, L2, S2), "length": (2, 2, L2, S2), "batch": (2, B2, 3, 4),
               "heads": (4, 2, 3, 4)}
    layers = {}
    for name in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        states, calls = {}, {}
        refs = {}
        for nh in (2, 4):
            r = getattr(ref, name)(E, nh, ff).double()
            state = d.perturb_state(r)
            r.load_state_dict(state)
            refs[nh], states[nh] = r, {k: v.float() for k, v in state.items()}
        for label, (nh, B, L, S) in configs.items():
            pad = torch.ones(B, 1, S, dtype=torch.bool)
            pad[1:, :, -1] = False
            r = refs[nh]
            with torch.no_grad():
                if name == "TransformerEncoderLayer":
                    x = d.randn(B, S, E, dtype=F32)
                    calls[label] = ((x,), dict(src_mask=pad), r(x.double(), src_mask=pad))
                else:
                    causal = torch.ones(L, L, dtype=torch.bool).tril()
                    x, mem = d.randn(B, L, E, dtype=F32), d.randn(B, S, E, dtype=F32)
                    calls[label] = ((x, mem), dict(tgt_mask=causal, memory_mask=pad),
                                    r(x.double(), mem.double(), tgt_mask=causal, memory_mask=pad))
        layers[name] = (states, calls)
    return E, ff, configs, layers


@check(points=2, description="encoder and decoder layers: no Python loop over positions, heads or batch items",
       kind="parallelism", promises=("parallel.no-loop",),
       targets=("TransformerEncoderLayer", "TransformerDecoderLayer"))
def test_layers_parallel(sub, ref, once):
    E, ff, configs, layers = once(lambda d: _layer_cases(d, ref))
    for name, (states, calls) in layers.items():
        mods = {nh: sub.build(name, states[nh], E, nh, ff, dtype=F32) for nh in (2, 4)}

        def count(label):
            args, kwargs, expected = calls[label]
            return counted_ops(sub, mods[configs[label][0]], *args, expected=expected, what=name, **kwargs)

        base = count("base")
        if count("grown") == base:  # the usual case: one call with heads, batch and lengths all grown
            continue
        for label in ("length", "batch", "heads"):
            n = count(label)
            if n != base:
                fail(f"{name}: {WHY[label]} ({base} operations for {_desc(configs['base'])}, {n} for "
                     f"{_desc(configs[label])})")


def _desc(config) -> str:
    nh, B, L, S = config
    return f"{nh} heads, B={B}, L={L}, S={S}"
