"""Hidden check of a5_transformer: a decoder layer on a target of >= 2048 positions.

One small layer (batch 1, one head, tiny d_model, a short padded memory) keeps it cheap;
the causal self-attention is >= 2048 x 2048.
"""

from types import SimpleNamespace

import torch

from grader.checks import assert_close, check, expect_tensor, fail

F32 = torch.float32


def _case(d, ref):
    T = d.int(2048, 2080)
    S = d.int(16, 48)
    E, nh, ff = 2, 1, d.int(2, 4)
    m = ref.TransformerDecoderLayer(E, nh, ff)
    state = d.perturb_state(m, 0.5)
    m.load_state_dict(state)
    y, mem = d.randn(1, T, E, dtype=F32), d.randn(1, S, E, dtype=F32)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    pad = (torch.arange(S) < S - d.int(1, 8)).view(1, 1, S)
    with torch.no_grad():
        out = m(y, mem, causal, pad)
    return SimpleNamespace(args=(E, nh, ff), state=state, y=y, mem=mem, causal=causal, pad=pad, out=out, T=T, S=S)


@check(points=1, timeout=30,
       description="TransformerDecoderLayer on a target of T >= 2048 positions: finite and equal to the reference",
       kind="long_sequence", promises=("dec-layer.math",),
       targets=("TransformerDecoderLayer",))
def test_long_sequence(sub, ref, once):
    c = once(lambda d: _case(d, ref))
    m = sub.build("TransformerDecoderLayer", c.state, *c.args, dtype=F32)
    got = expect_tensor(sub.call(m, c.y, c.mem, tgt_mask=c.causal, memory_mask=c.pad).value,
                        "TransformerDecoderLayer output", c.out.shape, F32)
    what = f"TransformerDecoderLayer with T = {c.T}, S = {c.S} (causal tgt_mask, padded memory)"
    if not torch.isfinite(got).all():
        fail(f"{what}: the output contains NaN or inf on a long sequence")
    assert_close(got, c.out, what)
