"""Hidden checks of a2_gated in the configurations short checks leave out, each built into its case:
three layers (with and without both directions and initial states, bias=False, batch_first) and
inputs that are non-contiguous views (transposed, sliced), for LSTM, GRU and their cells.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, check, expect_tuple, load_cases, view_hint
from grader.sandbox.wire import Strided

cases = load_cases(__file__)
KINDS = ("LSTM", "GRU")


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise RuntimeError(f"internal error: the check's case lacks its situation ({what})")


def _desc(c, extra):
    states = "(h0, c0)" if c.kind == "LSTM" else "h0"
    return f"{c.kind}({extra})(x, {states})" if c.states is not None else f"{c.kind}({extra})(x)"


def _deep_cases(d, ref):
    T, B, I, H = cases.sizes(d)
    out = []
    for kind in KINDS:
        c = cases.net_case(d, ref, kind, T=T, B=B, I=I, H=H, L=3, bidir=True)
        out.append((_desc(c, "num_layers=3, bidirectional=True"), c))
        c = cases.net_case(d, ref, kind, T=T, B=B, I=I, H=H, L=3, bias=False, batch_first=True, hx=False)
        out.append((_desc(c, "num_layers=3, bias=False, batch_first=True"), c))
    _require(all(c.L >= 3 and c.T > 1 and c.B > 1 for _, c in out), "three layers, T > 1, B > 1")
    _require({(c.bidir, c.states is None) for _, c in out} == {(True, False), (False, True)},
             "with and without both directions and initial states")
    return out


@check(points=2, description="LSTM and GRU with three layers: bidirectional or not, with or without initial "
                             "states, bias=False", kind="values",
       promises=("gated.layers-directions", "gated.initial-state", "gated.options"), targets=("LSTM", "GRU"))
def test_three_layers(sub, ref, once):
    for what, c in once(lambda d: _deep_cases(d, ref)):
        cases.run_values(sub, c, what)


def _cell_case(d, ref, kind, B, I, H):
    module = getattr(ref, kind + "Cell")(I, H).double()
    state = d.perturb_state(module, 0.6)
    module.load_state_dict(state)
    x = d.randn(B, I)
    states = tuple(d.randn(B, H) for _ in range(2 if kind == "LSTM" else 1))
    with torch.no_grad():
        out = module(x, states if kind == "LSTM" else states[0])
    return SimpleNamespace(kind=kind, kwargs=dict(input_size=I, hidden_size=H), state=state, x=x, states=states,
                           outs=list(out) if kind == "LSTM" else [out])


def _strided_cases(d, ref):
    T, B, I, H = cases.sizes(d)
    nets = [cases.net_case(d, ref, "LSTM", T=T, B=B, I=I, H=H, L=2, bidir=True),
            cases.net_case(d, ref, "GRU", T=T, B=B, I=I, H=H, batch_first=True)]
    cells = [_cell_case(d, ref, kind, B, I, H) for kind in KINDS]
    return nets, cells


@check(points=1, description="LSTM, GRU and their cells accept non-contiguous views (transposed, sliced) as "
                             "inputs and states", kind="values",
       promises=("input.non-contiguous", "gated.forward"), targets=("LSTM", "GRU", "LSTMCell", "GRUCell"))
def test_noncontiguous_inputs(sub, ref, once):
    nets, cells = once(lambda d: _strided_cases(d, ref))
    for c in nets:
        m = cases.build(sub, c)
        x = Strided(c.x, "transposed")
        states = [Strided(s, how) for s, how in zip(c.states, ("sliced", "transposed"))]
        args = (x, tuple(states)) if c.kind == "LSTM" else (x, states[0])
        what = (f"{c.kind}({'num_layers=2, bidirectional=True' if c.bidir else 'batch_first=True'}) with a "
                "transposed input and sliced/transposed initial states")
        got = sub.call(m, *args).value
        with view_hint():
            cases.check_result(got, c, what)
    for c in cells:
        m = sub.build(c.kind + "Cell", c.state, **c.kwargs, dtype=torch.float64)
        states = tuple(Strided(s, how) for s, how in zip(c.states, ("transposed", "sliced")))
        got = sub.call(m, Strided(c.x, "sliced"), states if c.kind == "LSTM" else states[0]).value
        what = f"{c.kind}Cell with a sliced input and transposed/sliced states"
        got = list(expect_tuple(got, f"{what}: result (h', c')", 2)) if c.kind == "LSTM" else [got]
        for name, g, e in zip(("h'", "c'"), got, c.outs):
            with view_hint():
                assert_close(g, e, f"{what}: {name}")
