"""Hidden checks of RNNCell: values (tanh and relu, square weights, no hx, no bias) and gradients.

Every case loads the same random state (non-symmetric weights, non-zero biases)
into the reference and the submission and compares in float64.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check
from grader.sandbox.wire import GradInput


def _near(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-6, atol=1e-8)


def _cell_variants(c):
    """What common mistakes give on this case (computed here, in the grader), for the diagnoses."""
    s, x, h = c.state, c.x, c.h if c.h is not None else torch.zeros(c.x.shape[0], c.H, dtype=c.x.dtype)
    act = torch.tanh if c.kwargs.get("nonlinearity", "tanh") == "tanh" else torch.relu
    b_ih = s.get("bias_ih", torch.zeros(c.H, dtype=x.dtype))
    b_hh = s.get("bias_hh", torch.zeros(c.H, dtype=x.dtype))
    xw = x @ s["weight_ih"].t() + b_ih
    return [
        (act(xw + h @ s["weight_hh"] + b_hh),
         "your result equals h W_hh + ... instead of h W_hh^T: transpose weight_hh (it is [H_out, H_in])"),
        (act(xw + h @ s["weight_hh"].t()),
         "your result is missing bias_hh: the pre-activation is x W_ih^T + b_ih + h W_hh^T + b_hh"),
        (act(x @ s["weight_ih"].t() + h @ s["weight_hh"].t() + b_hh),
         "your result is missing bias_ih: the pre-activation is x W_ih^T + b_ih + h W_hh^T + b_hh"),
        (torch.tanh(xw + h @ s["weight_hh"].t() + b_hh),
         "your result applies tanh although nonlinearity='relu': honour the nonlinearity argument"),
        (torch.relu(xw + h @ s["weight_hh"].t() + b_hh),
         "your result applies relu although nonlinearity='tanh': honour the nonlinearity argument"),
        (xw + h @ s["weight_hh"].t() + b_hh,
         "your result is the pre-activation: apply the nonlinearity"),
        (act(xw + b_hh), "your result ignores hx: the previous hidden state must enter through h W_hh^T"),
    ]


def _diagnoses(c):
    return [((lambda a, e, v=v: _near(a, v) and not _near(e, v)), msg) for v, msg in _cell_variants(c)]


def _case(d, ref, *, nonlinearity="tanh", square=False, hx=True, bias=True, grads=False):
    if square:
        I = H = d.int(3, 8)
        B = d.choice([b for b in range(2, 7) if b != H])
    else:
        I, H, B = d.distinct(3, 2, 9)
    kwargs = dict(input_size=I, hidden_size=H, bias=bias, nonlinearity=nonlinearity)
    module = ref.RNNCell(**kwargs).double()
    state = d.perturb_state(module, 0.6)
    module.load_state_dict(state)
    x = d.randn(B, I)
    h = d.randn(B, H) if hx else None
    xg = x.clone().requires_grad_()
    hg = h.clone().requires_grad_() if hx else None
    out = module(xg, hg)
    c = SimpleNamespace(kwargs=kwargs, state=state, x=x, h=h, H=H, out=out.detach())
    if grads:
        c.g = d.randn(*out.shape)
        out.backward(c.g)
        c.dx, c.dh = xg.grad, (hg.grad if hx else None)
        c.grads = {n: p.grad.clone() for n, p in module.named_parameters()}
    return c


def _values(sub, c, what):
    m = sub.build("RNNCell", c.state, **c.kwargs, dtype=torch.float64)
    args = (c.x, c.h) if c.h is not None else (c.x,)
    got = sub.call(m, *args).value
    assert_close(got, c.out, what, diagnoses=_diagnoses(c))


@check(points=2, description="RNNCell (tanh, square weights I == H) gives the reference's next hidden state",
       kind="values", promises=("rnncell.forward", "rnncell.params", "values.tolerance"),
       targets=("RNNCell",))
def test_rnncell_values(sub, ref, once):
    c = once(lambda d: _case(d, ref, square=True))
    _values(sub, c, "RNNCell(x, h) with tanh")


@check(points=1, description="RNNCell with nonlinearity='relu' gives the reference's next hidden state",
       kind="values", promises=("rnncell.forward", "rnn.options"),
       targets=("RNNCell",))
def test_rnncell_relu(sub, ref, once):
    c = once(lambda d: _case(d, ref, nonlinearity="relu"))
    _values(sub, c, "RNNCell(x, h) with nonlinearity='relu'")


@check(points=1, description="RNNCell without hx starts from zeros; with bias=False it has no biases",
       kind="values", promises=("rnncell.forward", "rnn.options", "rnn.initial-state"),
       targets=("RNNCell",))
def test_rnncell_defaults(sub, ref, once):
    c = once(lambda d: _case(d, ref, hx=False))
    _values(sub, c, "RNNCell(x) without hx (hx defaults to zeros)")
    c = once(lambda d: _case(d, ref, bias=False), key="nobias")
    _values(sub, c, "RNNCell(..., bias=False)(x, h)")


@check(points=2, description="RNNCell's gradients w.r.t. input, hidden state and every parameter",
       kind="gradients", promises=("rnncell.forward",),
       targets=("RNNCell",))
def test_rnncell_gradients(sub, ref, once):
    c = once(lambda d: _case(d, ref, grads=True))
    m = sub.build("RNNCell", c.state, **c.kwargs, dtype=torch.float64)
    r = sub.call(m, GradInput(c.x), GradInput(c.h), backward=c.g)
    assert_close(r.value, c.out, "RNNCell(x, h)", diagnoses=_diagnoses(c))
    assert_grad_close(r.input_grads[0], c.dx, "d loss / d input")
    assert_grad_close(r.input_grads[1], c.dh, "d loss / d hx")
    for name, g in c.grads.items():
        assert_grad_close(r.param_grads.get(name), g, f"d loss / d {name}")
