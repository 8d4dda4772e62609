"""Hidden checks of RNN's values: output and h_n against the reference, in float64.

Sizes are drawn at grading time; the cases include B == T (a layout mix-up
keeps the shapes then), several layers, both directions, batch_first, relu,
hx given or not, and bias=False.
"""

from __future__ import annotations


from grader.checks import check, load_cases


cases = load_cases(__file__)


def _case(d, ref, square_bt=False, **kw):
    T, B, I, H = cases.sizes(d, square_bt=square_bt)
    return cases.rnn_case(d, ref, T=T, B=B, I=I, H=H, **kw)


@check(points=2, description="RNN (one layer, tanh, time-first, B == T) gives the reference's output and h_n",
       kind="values", promises=("rnn.forward", "values.tolerance", "rnn.initial-state"),
       targets=("RNN",))
def test_rnn_values(sub, ref, once):
    c = once(lambda d: _case(d, ref, square_bt=True))
    cases.run_values(sub, c, "RNN(x, hx)")


@check(points=1, description="RNN with nonlinearity='relu', two layers, hx=None",
       kind="values", promises=("rnn.options", "rnn.initial-state"),
       targets=("RNN",))
def test_rnn_relu(sub, ref, once):
    c = once(lambda d: _case(d, ref, L=2, nonlinearity="relu", hx=False))
    cases.run_values(sub, c, "RNN(nonlinearity='relu', num_layers=2)(x)")


@check(points=2, description="RNN with batch_first=True: [B, T, *] input and output, h_n still [D*L, B, H]",
       kind="values", promises=("layout.time-first", "rnn.hx-layout"),
       targets=("RNN",))
def test_rnn_batch_first(sub, ref, once):
    c = once(lambda d: _case(d, ref, batch_first=True))
    cases.run_values(sub, c, "RNN(batch_first=True)(x, hx)")
    c = once(lambda d: _case(d, ref, batch_first=True, square_bt=True, L=2), key="square")
    cases.run_values(sub, c, "RNN(batch_first=True, num_layers=2)(x, hx) with B == T")


@check(points=2, description="Bidirectional RNN (one layer): both directions' outputs and final states",
       kind="values", promises=("rnn.layers-directions",),
       targets=("RNN",))
def test_rnn_bidirectional(sub, ref, once):
    c = once(lambda d: _case(d, ref, bidir=True))
    cases.run_values(sub, c, "RNN(bidirectional=True)(x, hx)")


@check(points=1, description="Multi-layer RNN: layer k reads layer k-1's outputs; h_n has one row per layer",
       kind="values", promises=("rnn.layers-directions",),
       targets=("RNN",))
def test_rnn_multilayer(sub, ref, once):
    c = once(lambda d: _case(d, ref, L=d.int(2, 3)))
    cases.run_values(sub, c, f"RNN(num_layers={c.L})(x, hx)")


@check(points=2, description="Multi-layer bidirectional RNN: output and h_n (row layer * D + direction)",
       kind="values", promises=("rnn.layers-directions", "rnn.hx-layout"),
       targets=("RNN",))
def test_rnn_multilayer_bidirectional(sub, ref, once):
    c = once(lambda d: _case(d, ref, L=d.int(2, 3), bidir=True))
    cases.run_values(sub, c, f"RNN(num_layers={c.L}, bidirectional=True)(x, hx)")


@check(points=1, description="RNN with bias=False (no bias parameters at all)",
       kind="values", promises=("rnn.options", "rnn.params"),
       targets=("RNN",))
def test_rnn_no_bias(sub, ref, once):
    c = once(lambda d: _case(d, ref, L=2, bidir=True, bias=False))
    cases.run_values(sub, c, "RNN(bias=False, num_layers=2, bidirectional=True)(x, hx)")
