"""Hidden checks of shapes and dtypes: unbatched inputs, batch size 1, float32, for RNNCell and RNN.

Values are compared too (float32 at the contract's float32 tolerance), so a
result of the right shape but wrong layout does not pass.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, check, expect_tensor, fail, load_cases


cases = load_cases(__file__)


def _cell_cases(d, ref):
    I, H, B = d.distinct(3, 2, 9)
    kwargs = dict(input_size=I, hidden_size=H, nonlinearity="tanh")
    module = ref.RNNCell(**kwargs).double()
    state = d.perturb_state(module, 0.6)
    module.load_state_dict(state)
    out = []
    x, h = d.randn(I), d.randn(H)
    out.append(("unbatched input [I] with hx [H]", torch.float64, (x, h), module(x, h)))
    out.append(("unbatched input [I] without hx", torch.float64, (x,), module(x)))
    x, h = d.randn(1, I), d.randn(1, H)
    out.append(("batch of one [1, I] with hx [1, H]", torch.float64, (x, h), module(x, h)))
    x, h = d.randn(B, I, dtype=torch.float32), d.randn(B, H, dtype=torch.float32)
    m32 = ref.RNNCell(**kwargs).float()
    m32.load_state_dict(state)
    out.append(("float32 module and input", torch.float32, (x, h), m32(x, h)))
    return SimpleNamespace(kwargs=kwargs, state=state, cases=[(w, dt, a, e.detach()) for w, dt, a, e in out])


@check(points=1, description="RNNCell: unbatched [I] input gives [H]; batch of one; float32 stays float32",
       kind="shapes", promises=("rnncell.forward", "rnn.unbatched", "batch.any", "dtype.float32-float64",
                                "device.cpu-cuda"),
       targets=("RNNCell",))
def test_rnncell_shapes(sub, ref, once):
    c = once(lambda d: _cell_cases(d, ref))
    handles = {}
    for what, dtype, args, expected in c.cases:
        if dtype not in handles:
            state = {k: v.to(dtype) for k, v in c.state.items()}
            handles[dtype] = sub.build("RNNCell", state, **c.kwargs, dtype=dtype)
        got = sub.call(handles[dtype], *args).value
        if isinstance(got, torch.Tensor) and args[0].dim() == 1 and tuple(got.shape) == (1,) + tuple(expected.shape):
            fail(f"RNNCell, {what}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}: an unbatched "
                 f"input gives an unbatched result (squeeze the batch dimension you added)")
        expect_tensor(got, f"RNNCell, {what}", expected.shape, dtype)
        assert_close(got, expected, f"RNNCell, {what}")


def _rnn_cases(d, ref):
    T, B, I, H = cases.sizes(d)
    return [
        ("unbatched [T, I] input, two layers, bidirectional, hx [D*L, H]",
         cases.rnn_case(d, ref, T=T, B=1, I=I, H=H, L=2, bidir=True, unbatched=True, variants=False)),
        ("unbatched [T, I] input without hx",
         cases.rnn_case(d, ref, T=T, B=1, I=I, H=H, unbatched=True, hx=False, variants=False)),
        ("batch of one [T, 1, I]",
         cases.rnn_case(d, ref, T=T, B=1, I=I, H=H, L=2, variants=False)),
        ("float32, batch_first, bidirectional",
         cases.rnn_case(d, ref, T=T, B=B, I=I, H=H, bidir=True, batch_first=True, dtype=torch.float32,
                        variants=False)),
        ("a sequence of length one [1, B, I], two layers, bidirectional",
         cases.rnn_case(d, ref, T=1, B=B, I=I, H=H, L=2, bidir=True, variants=False)),
        ("length one and batch of one, batch_first [1, 1, I], without hx",
         cases.rnn_case(d, ref, T=1, B=1, I=I, H=H, batch_first=True, hx=False, variants=False)),
    ]


@check(points=1, description="RNN: unbatched [T, I] input, batch of one, length one, float32; output and h_n "
                             "shapes and dtypes",
       kind="shapes", promises=("rnn.forward", "rnn.unbatched", "batch.any", "dtype.float32-float64", "rnn.hx-layout",
                                "length.one"),
       targets=("RNN",))
def test_rnn_shapes(sub, ref, once):
    for what, c in once(lambda d: _rnn_cases(d, ref)):
        m = cases.build(sub, c)
        args = (c.x,) if c.h0 is None else (c.x, c.h0)
        got = sub.call(m, *args).value
        out, h_n = cases.check_shapes(got, c, f"RNN, {what}")
        expect_tensor(out, f"RNN, {what}: output", dtype=c.dtype)
        expect_tensor(h_n, f"RNN, {what}: h_n", dtype=c.dtype)
        cases.check_result(got, c, f"RNN, {what}")
