"""Hidden checks of RNNCell: values and gradients against the reference."""

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check
from grader.sandbox.wire import GradInput


def _case(d, ref, batched=True):
    I, H = d.distinct(2, 2, 9)
    B = d.int(2, 5)
    kwargs = dict(input_size=I, hidden_size=H, nonlinearity=d.choice(["tanh", "relu"]))
    module = ref.RNNCell(**kwargs).double()
    state = d.perturb_state(module, 0.5)
    module.load_state_dict(state)
    x = d.randn(B, I) if batched else d.randn(I)
    h = d.randn(B, H) if batched else d.randn(H)
    xg, hg = x.clone().requires_grad_(), h.clone().requires_grad_()
    out = module(xg, hg)
    g = d.randn(*out.shape)
    out.backward(g)
    grads = {n: p.grad.clone() for n, p in module.named_parameters()}
    return SimpleNamespace(kwargs=kwargs, state=state, x=x, h=h, out=out.detach(), g=g,
                           dx=xg.grad, dh=hg.grad, grads=grads)


@check(points=2, description="RNNCell gives the reference's next hidden state")
def test_rnncell_values(sub, ref, once):
    c = once(lambda d: _case(d, ref))
    m = sub.build("RNNCell", c.state, **c.kwargs, dtype=torch.float64)
    got = sub.call(m, c.x, c.h).value
    assert_close(got, c.out, "RNNCell(x, h)")


@check(points=2, description="RNNCell's gradients w.r.t. input, state and parameters")
def test_rnncell_gradients(sub, ref, once):
    c = once(lambda d: _case(d, ref))
    m = sub.build("RNNCell", c.state, **c.kwargs, dtype=torch.float64)
    r = sub.call(m, GradInput(c.x), GradInput(c.h), backward=c.g)
    assert_grad_close(r.input_grads[0], c.dx, "d loss / d input")
    assert_grad_close(r.input_grads[1], c.dh, "d loss / d hx")
    for name, g in c.grads.items():
        assert_grad_close(r.param_grads.get(name), g, f"d loss / d {name}")
