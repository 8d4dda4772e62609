"""Hidden checks of LSTM's and GRU's values: output and final states against the reference, in float64.

Cases include B == T (a layout mix-up keeps the shapes then), several layers,
both directions, batch_first, initial states given or not, and bias=False.
"""

from __future__ import annotations


from grader.checks import check, load_cases


cases = load_cases(__file__)

KINDS = ("LSTM", "GRU")


def _case(d, ref, kind, square_bt=False, **kw):
    T, B, I, H = cases.sizes(d, square_bt=square_bt)
    return cases.net_case(d, ref, kind, T=T, B=B, I=I, H=H, **kw)


def _desc(kind, c, extra=""):
    states = "(h0, c0)" if kind == "LSTM" else "h0"
    return f"{kind}({extra})(x, {states})" if c.states is not None else f"{kind}({extra})(x)"


@check(points=2, description="LSTM (one layer, time-first, B == T) gives the reference's output, h_n and c_n",
       kind="values", promises=("gated.forward", "lstm.gate-order", "lstm.state-pair"),
       targets=("LSTM",))
def test_lstm_values(sub, ref, once):
    c = once(lambda d: _case(d, ref, "LSTM", square_bt=True))
    cases.run_values(sub, c, _desc("LSTM", c))


@check(points=2, description="GRU (one layer, time-first, B == T) gives the reference's output and h_n",
       kind="values", promises=("gated.forward", "gru.gate-order"),
       targets=("GRU",))
def test_gru_values(sub, ref, once):
    c = once(lambda d: _case(d, ref, "GRU", square_bt=True))
    cases.run_values(sub, c, _desc("GRU", c))


@check(points=2, description="LSTM and GRU with batch_first=True: [B, T, *] input and output, states still [D*L, B, H]",
       kind="values", promises=("layout.time-first", "gated.initial-state"),
       targets=("LSTM", "GRU"))
def test_batch_first(sub, ref, once):
    for kind in KINDS:
        c = once(lambda d: _case(d, ref, kind, batch_first=True), key=kind)
        cases.run_values(sub, c, _desc(kind, c, "batch_first=True"))
        c = once(lambda d: _case(d, ref, kind, batch_first=True, square_bt=True, hx=False), key=kind + "square")
        cases.run_values(sub, c, _desc(kind, c, "batch_first=True") + " with B == T")


@check(points=2, description="Bidirectional LSTM and GRU (one layer): both directions' outputs and final states",
       kind="values", promises=("gated.layers-directions",),
       targets=("LSTM", "GRU"))
def test_bidirectional(sub, ref, once):
    for kind in KINDS:
        c = once(lambda d: _case(d, ref, kind, bidir=True), key=kind)
        cases.run_values(sub, c, _desc(kind, c, "bidirectional=True"))


@check(points=2, description="Multi-layer bidirectional LSTM and GRU: outputs, states (row layer * D + direction)",
       kind="values", promises=("gated.layers-directions",),
       targets=("LSTM", "GRU"))
def test_multilayer_bidirectional(sub, ref, once):
    for kind in KINDS:
        c = once(lambda d: _case(d, ref, kind, L=d.int(2, 3), bidir=True), key=kind)
        cases.run_values(sub, c, _desc(kind, c, f"num_layers={c.L}, bidirectional=True"))
        c = once(lambda d: _case(d, ref, kind, L=2), key=kind + "uni")
        cases.run_values(sub, c, _desc(kind, c, "num_layers=2"))


@check(points=1, description="LSTM and GRU with bias=False (no bias parameters at all)",
       kind="values", promises=("gated.options",),
       targets=("LSTM", "GRU"))
def test_no_bias(sub, ref, once):
    for kind in KINDS:
        c = once(lambda d: _case(d, ref, kind, L=2, bidir=True, bias=False), key=kind)
        cases.run_values(sub, c, _desc(kind, c, "bias=False, num_layers=2, bidirectional=True"))
