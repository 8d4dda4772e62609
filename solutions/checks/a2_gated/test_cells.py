"""Hidden checks of LSTMCell and GRUCell: values (square weights I == H), defaults, gradients.

Failure messages name the mistake when the submission's result equals what a
common one gives (gate order, forget gate, reset gate placement, z and 1-z, ...).
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tuple, load_cases
from grader.sandbox.wire import GradInput


cases = load_cases(__file__)


def _case(d, ref, kind, *, square=False, hx=True, bias=True, grads=False, B=None):
    if square:
        I = H = d.int(3, 7)
        B = B or d.choice([b for b in range(2, 7) if b != H])
    else:
        I, H, B0 = d.distinct(3, 2, 8)
        B = B or B0
    kwargs = dict(input_size=I, hidden_size=H, bias=bias)
    module = getattr(ref, kind + "Cell")(**kwargs).double()
    state = d.perturb_state(module, 0.6)
    module.load_state_dict(state)
    x = d.randn(B, I)
    n = 2 if kind == "LSTM" else 1
    states = tuple(d.randn(B, H) for _ in range(n)) if hx else None
    xg = x.clone().requires_grad_(grads)
    sg = None if states is None else tuple(s.clone().requires_grad_(grads) for s in states)
    with torch.set_grad_enabled(grads):
        out = module(xg, None if sg is None else (sg if kind == "LSTM" else sg[0]))
    outs = list(out) if kind == "LSTM" else [out]
    c = SimpleNamespace(kind=kind, kwargs=kwargs, state=state, x=x, states=states, B=B, H=H,
                        outs=[o.detach() for o in outs])
    if grads:
        c.g = [d.randn(*o.shape) for o in outs]
        torch.autograd.backward(outs, c.g)
        c.dx, c.dstates = xg.grad, [s.grad for s in sg]
        c.grads = {k: p.grad.clone() for k, p in module.named_parameters()}
    return c


def _cell_mistake(c, mistake):
    s = c.state
    w = (s["weight_ih"], s["weight_hh"], s.get("bias_ih"), s.get("bias_hh"))
    states = c.states or tuple(torch.zeros(c.B, c.H, dtype=torch.float64) for _ in range(len(c.outs)))
    mistake = dict(mistake)
    if mistake.pop("zero_hx", False):
        states = tuple(torch.zeros_like(t) for t in states)
    if mistake.pop("zero_c0", False):
        states = (states[0], torch.zeros_like(states[1]))
    if mistake.pop("swap_hc", False):
        states = tuple(reversed(states))
    if c.kind == "LSTM":
        return list(cases.lstm_cell(c.x, states[0], states[1], *w, **mistake))
    return [cases.gru_cell(c.x, states[0], *w, **mistake)]


def _diagnoses(c, idx):
    table = dict(cases.LSTM_MISTAKES if c.kind == "LSTM" else cases.GRU_MISTAKES)
    if c.states is not None:
        table["zero_hx"] = (dict(zero_hx=True), "your result is what hx = zeros gives: use the states passed in")
        if c.kind == "LSTM":
            table["swap_hc"] = (dict(swap_hc=True), "you read hx as (c, h); it comes as (h, c)")
            table["zero_c0"] = (dict(zero_c0=True), "your result is what c = zeros gives: use the cell state "
                                                    "passed in")
    if not c.kwargs["bias"]:
        table = {k: v for k, v in table.items() if "bias" not in k and "b_hn" not in k}
    memo = {}

    def variant(key, mistake):
        if key not in memo:
            memo[key] = _cell_mistake(c, mistake)[idx]
        return memo[key]

    diags = [((lambda a, e, k=k, m=m: cases.near(a, variant(k, m)) and not cases.near(e, variant(k, m))), msg)
             for k, (m, msg) in table.items()]
    if c.kind == "LSTM":
        other = c.outs[1 - idx]
        diags.append((lambda a, e: cases.near(a, other), "you return (c', h') where (h', c') belongs"))
    return diags


def _compare(got, c, what):
    names = ("h'", "c'") if c.kind == "LSTM" else ("h'",)
    got = list(expect_tuple(got, f"{what} result (h', c')", 2)) if c.kind == "LSTM" else [got]
    for i, (name, g, e) in enumerate(zip(names, got, c.outs)):
        assert_close(g, e, f"{what}: {name}", diagnoses=_diagnoses(c, i))


def _args(c, grad=False):
    wrap = GradInput if grad else (lambda t: t)
    if c.states is None:
        return (wrap(c.x),)
    states = tuple(wrap(s) for s in c.states)
    return (wrap(c.x), states if c.kind == "LSTM" else states[0])


def _values(sub, c, what):
    m = sub.build(c.kind + "Cell", c.state, **c.kwargs, dtype=torch.float64)
    _compare(sub.call(m, *_args(c)).value, c, what)


@check(points=2, description="LSTMCell (square weights I == H) gives the reference's (h', c')",
       kind="values", promises=("lstm.gate-order", "lstm.state-pair", "gated.forward", "values.tolerance"),
       targets=("LSTMCell",))
def test_lstmcell_values(sub, ref, once):
    c = once(lambda d: _case(d, ref, "LSTM", square=True))
    _values(sub, c, "LSTMCell(x, (h, c))")


@check(points=2, description="GRUCell (square weights I == H) gives the reference's h'",
       kind="values", promises=("gru.gate-order", "gated.forward", "values.tolerance"),
       targets=("GRUCell",))
def test_grucell_values(sub, ref, once):
    c = once(lambda d: _case(d, ref, "GRU", square=True))
    _values(sub, c, "GRUCell(x, h)")


@check(points=1, description="LSTMCell and GRUCell without hx start from zeros; bias=False has no biases",
       kind="values", promises=("gated.initial-state", "gated.options"),
       targets=("LSTMCell", "GRUCell"))
def test_cell_defaults(sub, ref, once):
    for kind in ("LSTM", "GRU"):
        c = once(lambda d: _case(d, ref, kind, hx=False), key=kind)
        _values(sub, c, f"{kind}Cell(x) without hx (the states default to zeros)")
        c = once(lambda d: _case(d, ref, kind, bias=False), key=kind + "nobias")
        _values(sub, c, f"{kind}Cell(..., bias=False)")


def _gradients(sub, c, what):
    m = sub.build(c.kind + "Cell", c.state, **c.kwargs, dtype=torch.float64)
    r = sub.call(m, *_args(c, grad=True), backward=tuple(c.g) if c.kind == "LSTM" else c.g[0])
    _compare(r.value, c, what)
    assert_grad_close(r.input_grads[0], c.dx, f"{what}: d loss / d input")
    for name, g, e in zip(("h", "c"), r.input_grads[1:], c.dstates):
        assert_grad_close(g, e, f"{what}: d loss / d {name}")
    for name, e in c.grads.items():
        assert_grad_close(r.param_grads.get(name), e, f"{what}: d loss / d {name}")


@check(points=1, description="LSTMCell's gradients w.r.t. input, (h, c) and every parameter",
       kind="gradients", promises=("gated.forward", "lstm.state-pair"),
       targets=("LSTMCell",))
def test_lstmcell_gradients(sub, ref, once):
    c = once(lambda d: _case(d, ref, "LSTM", grads=True))
    _gradients(sub, c, "LSTMCell(x, (h, c))")


@check(points=1, description="GRUCell's gradients w.r.t. input, h and every parameter",
       kind="gradients", promises=("gated.forward",),
       targets=("GRUCell",))
def test_grucell_gradients(sub, ref, once):
    c = once(lambda d: _case(d, ref, "GRU", grads=True))
    _gradients(sub, c, "GRUCell(x, h)")
