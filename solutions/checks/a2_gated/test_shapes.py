"""Hidden checks of shapes, dtypes and parameter layout: unbatched inputs, batch size 1, float32.

Values are compared too (float32 at the contract's float32 tolerance), so a
result of the right shape in the wrong layout does not pass.
"""

from __future__ import annotations

import torch

from grader.checks import assert_close, check, expect_tensor, expect_tuple, fail, load_cases


cases = load_cases(__file__)


def _cell_cases(d, ref):
    I, H, B = d.distinct(3, 2, 8)
    out = []
    for kind in ("LSTM", "GRU"):
        kwargs = dict(input_size=I, hidden_size=H)
        module = getattr(ref, kind + "Cell")(**kwargs).double()
        state = d.perturb_state(module, 0.6)
        module.load_state_dict(state)
        n = 2 if kind == "LSTM" else 1

        def pack(states):
            return states if kind == "LSTM" else states[0]

        x = d.randn(I)
        states = tuple(d.randn(H) for _ in range(n))
        out.append((kind, kwargs, state, torch.float64, "unbatched input [I] with states [H]",
                    (x, pack(states)), module(x, pack(states))))
        out.append((kind, kwargs, state, torch.float64, "unbatched input [I] without states", (x,), module(x)))
        x = d.randn(1, I)
        states = tuple(d.randn(1, H) for _ in range(n))
        out.append((kind, kwargs, state, torch.float64, "batch of one [1, I]", (x, pack(states)),
                    module(x, pack(states))))
        m32 = getattr(ref, kind + "Cell")(**kwargs).float()
        m32.load_state_dict(state)
        x = d.randn(B, I, dtype=torch.float32)
        states = tuple(d.randn(B, H, dtype=torch.float32) for _ in range(n))
        out.append((kind, kwargs, {k: v.float() for k, v in state.items()}, torch.float32, "float32",
                    (x, pack(states)), m32(x, pack(states))))
    return [(k, kw, s, dt, w, a, tuple(t.detach() for t in e) if isinstance(e, tuple) else (e.detach(),))
            for k, kw, s, dt, w, a, e in out]


@check(points=1, description="LSTMCell and GRUCell: unbatched [I] input gives [H]; batch of one; float32 stays float32",
       kind="shapes", promises=("gated.unbatched", "batch.any", "dtype.float32-float64", "device.cpu-cuda"),
       targets=("LSTMCell", "GRUCell"))
def test_cell_shapes(sub, ref, once):
    handles = {}
    for kind, kwargs, state, dtype, what, args, expected in once(lambda d: _cell_cases(d, ref)):
        if (kind, dtype) not in handles:
            handles[kind, dtype] = sub.build(kind + "Cell", state, **kwargs, dtype=dtype)
        got = sub.call(handles[kind, dtype], *args).value
        label = f"{kind}Cell, {what}"
        if kind == "LSTM":
            got = expect_tuple(got, f"{label}: result (h', c')", 2)
        else:
            got = (got,)
        for name, g, e in zip(("h'", "c'"), got, expected):
            if isinstance(g, torch.Tensor) and g.shape != e.shape and what.startswith("unbatched") \
                    and tuple(g.shape) == (1,) + tuple(e.shape):
                fail(f"{label}: {name} should have shape {tuple(e.shape)}, got {tuple(g.shape)}: an unbatched "
                     f"input gives unbatched states (squeeze the batch dimension you added)")
            expect_tensor(g, f"{label}: {name}", e.shape, dtype)
            assert_close(g, e, f"{label}: {name}")


def _net_cases(d, ref):
    T, B, I, H = cases.sizes(d)
    out = []
    for kind in ("LSTM", "GRU"):
        out += [
            ("unbatched [T, I] input, two layers, bidirectional",
             cases.net_case(d, ref, kind, T=T, B=1, I=I, H=H, L=2, bidir=True, unbatched=True)),
            ("unbatched [T, I] input without initial states",
             cases.net_case(d, ref, kind, T=T, B=1, I=I, H=H, unbatched=True, hx=False)),
            ("batch of one [T, 1, I]", cases.net_case(d, ref, kind, T=T, B=1, I=I, H=H, L=2)),
            ("float32, batch_first, bidirectional",
             cases.net_case(d, ref, kind, T=T, B=B, I=I, H=H, bidir=True, batch_first=True, dtype=torch.float32)),
            ("a sequence of length one [1, B, I], two layers, bidirectional",
             cases.net_case(d, ref, kind, T=1, B=B, I=I, H=H, L=2, bidir=True)),
        ]
    return out


@check(points=1, description="LSTM and GRU: unbatched [T, I] input, batch of one, length one, float32; shapes and "
                             "dtypes",
       kind="shapes", promises=("gated.unbatched", "batch.any", "dtype.float32-float64", "length.one"),
       targets=("LSTM", "GRU"))
def test_net_shapes(sub, ref, once):
    for what, c in once(lambda d: _net_cases(d, ref)):
        m = cases.build(sub, c)
        got = sub.call(m, *cases.call_args(c)).value
        label = f"{c.kind}, {what}"
        out, finals = cases.check_shapes(got, c, label)
        for name, t in zip(("output",) + cases.state_names(c.kind), [out] + finals):
            expect_tensor(t, f"{label}: {name}", dtype=c.dtype)
        cases.check_result(got, c, label)


def _layouts(d, ref):
    I, H = d.distinct(2, 2, 8)
    out = []
    for name, kwargs in (("LSTMCell", dict(input_size=I, hidden_size=H)),
                         ("GRUCell", dict(input_size=I, hidden_size=H, bias=False)),
                         ("LSTM", dict(input_size=I, hidden_size=H, num_layers=2, bidirectional=True)),
                         ("GRU", dict(input_size=I, hidden_size=H, num_layers=2, bidirectional=True)),
                         ("GRU", dict(input_size=I, hidden_size=H, num_layers=2, bias=False))):
        module = getattr(ref, name)(**kwargs)
        out.append((name, kwargs, [(n, tuple(p.shape)) for n, p in module.named_parameters()]))
    return out


@check(points=1, description="Parameter names and shapes are torch's (gate blocks stacked: 4H for LSTM, 3H for GRU)",
       kind="shapes", promises=("gated.params", "params.names", "ctor.keywords", "ctor.torch-args", "gated.options"),
       targets=("LSTMCell", "GRUCell", "LSTM", "GRU"))
def test_parameters(sub, ref, once):
    for name, kwargs, expected in once(lambda d: _layouts(d, ref)):
        m = sub.new(name, **kwargs, dtype=torch.float64)
        got = {n: s for n, s, _ in sub.parameters(m)}
        want = dict(expected)
        desc = f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
        missing = [n for n in want if n not in got]
        extra = [n for n in got if n not in want]
        if missing or extra:
            fail(f"{desc}: parameter names differ from torch's: missing {missing}, unexpected {extra}"
                 + (" (with bias=False there are no bias parameters at all)" if not kwargs.get("bias", True)
                    else ""))
        for n, shape in want.items():
            if tuple(got[n]) != shape:
                fail(f"{desc}: {n} should have shape {list(shape)}, got {list(got[n])} (the gate blocks are "
                     f"stacked along the first dimension; layer k > 0 reads D*H features)")
