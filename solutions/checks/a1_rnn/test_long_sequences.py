"""Hidden checks on long sequences (T >= 1000): finite values and gradients, |h| <= 1 for tanh, and the
profile of ||d h_T / d x_t|| over t against the reference's under the same weights.

The recurrent weights are rescaled to spectral radius 1, so the reference's
gradient decays over the sequence without vanishing at once; an
implementation that cuts the gradient between steps, or that changes the
recurrence, gives a different profile.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tensor, expect_tuple, fail, load_cases
from grader.sandbox.wire import GradInput


cases = load_cases(__file__)

FASTER = ("Your gradient dies out faster than the reference's: it must flow back through the hidden state "
          "at every step (no .detach()/.data between steps; h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh))")
SLOWER = ("Your gradient decays more slowly than the reference's: check the recurrence "
          "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (weight_hh transposed, both biases, tanh)")


def _spectral(w: torch.Tensor, rho: float) -> torch.Tensor:
    return w * (rho / torch.linalg.eigvals(w).abs().max())


def _long_case(d, ref):
    T, B = d.int(1000, 1040), 2
    I, H = d.distinct(2, 3, 8)
    kwargs = dict(input_size=I, hidden_size=H)
    module = ref.RNN(**kwargs).double()
    state = d.perturb_state(module, 0.5)
    state["weight_hh_l0"] = _spectral(state["weight_hh_l0"], 1.0)
    module.load_state_dict(state)
    x = d.randn(T, B, I).requires_grad_()
    h0 = d.uniform(1, B, H).requires_grad_()
    out, h_n = module(x, h0)
    g_out = torch.zeros_like(out)
    g_out[-1] = d.randn(B, H)  # the loss reads h_T only: x.grad[t] = g^T d h_T / d x_t
    out.backward(g_out)
    return SimpleNamespace(kwargs=kwargs, state=state, T=T, B=B, I=I, H=H, x=x.detach(), h0=h0.detach(),
                           out=out.detach(), h_n=h_n.detach(), g_out=g_out, dx=x.grad, dh0=h0.grad,
                           grads={n: p.grad.clone() for n, p in module.named_parameters()})


def _finite_and_bounded(t, what, bound=True):
    if not torch.isfinite(t).all():
        idx = tuple(int(i) for i in (~torch.isfinite(t)).nonzero()[0])
        fail(f"{what} contains NaN or inf (first at index {idx}) on a sequence of {t.shape[0]} steps")
    if bound and t.abs().max() > 1 + 1e-12:
        fail(f"{what} has |h| = {float(t.abs().max()):.4g} > 1, impossible for a tanh RNN: apply tanh to "
             f"the whole pre-activation at every step")


@check(points=3, description="RNN on T >= 1000 steps: finite, |h| <= 1, and ||dh_T/dx_t|| over t as the reference's",
       timeout=30,
       kind="long_sequence", promises=("rnn.forward",),
       targets=("RNN",))
def test_rnn_long_sequence(sub, ref, once):
    c = once(lambda d: _long_case(d, ref))
    m = sub.build("RNN", c.state, **c.kwargs, dtype=torch.float64)
    r = sub.call(m, GradInput(c.x), GradInput(c.h0), backward=(c.g_out, None))
    out, h_n = expect_tuple(r.value, "RNN(...) result (output, h_n)", 2)
    expect_tensor(out, "RNN output", c.out.shape, torch.float64)
    _finite_and_bounded(out, "RNN output")
    _finite_and_bounded(expect_tensor(h_n, "RNN h_n", c.h_n.shape), "RNN h_n")
    dx = r.input_grads[0]
    if dx is None:
        fail("d h_T / d input: no gradient reached the input (look for .detach(), .data or torch.no_grad())")
    cases.check_gradient_profile(dx, c.dx, 0, "RNN", FASTER, SLOWER)
    assert_close(out, c.out, "RNN output on a long sequence")
    assert_grad_close(dx, c.dx, "d h_T / d input on a long sequence")
    assert_grad_close(r.input_grads[1], c.dh0, "d h_T / d hx on a long sequence")
    for name, g in c.grads.items():
        p = r.param_grads.get(name)
        if p is not None:
            _finite_and_bounded(p, f"d h_T / d {name}", bound=False)
        assert_grad_close(p, g, f"d h_T / d {name} on a long sequence")


def _bptt_long_case(d, ref):
    T, B = d.int(1000, 1040), 2
    I, H = d.distinct(2, 3, 8)
    x, h0 = d.randn(T, B, I), d.uniform(B, H)
    w_ih, w_hh, b = d.uniform(H, I, lo=-0.5, hi=0.5), _spectral(d.uniform(H, H), 1.0), d.uniform(H, lo=-0.5, hi=0.5)
    G = torch.zeros(T, B, H, dtype=torch.float64)
    G[-1] = d.randn(B, H)
    leaves = [t.clone().requires_grad_() for t in (x, h0, w_ih, w_hh, b)]
    hs, _ = ref.rnn_forward(*leaves)
    grads = torch.autograd.grad(hs, leaves, G)
    return SimpleNamespace(T=T, B=B, I=I, H=H, args=(x, h0, w_ih, w_hh, b), G=G, hs=hs.detach(), grads=grads)


@check(points=1, description="rnn_forward/rnn_backward on T >= 1000 steps: finite, |h| <= 1, "
                             "gradient profile as autograd's",
       timeout=30,
       kind="long_sequence", promises=("bptt.backward", "bptt.forward"),
       targets=("rnn_forward", "rnn_backward"))
def test_rnn_backward_long(sub, ref, once):
    c = once(lambda d: _bptt_long_case(d, ref))
    r = sub.call("rnn_forward", *c.args, keep=True)
    hs, _ = expect_tuple(r.value, "rnn_forward(...) result (hs, cache)", 2)
    expect_tensor(hs, "rnn_forward: hs", c.hs.shape, torch.float64)
    _finite_and_bounded(hs, "rnn_forward: hs")
    got = expect_tuple(sub.call("rnn_backward", c.G, r.ref[1]).value, "rnn_backward(...) result", 5)
    for name, g, e in zip(("dx", "dh0", "dweight_ih", "dweight_hh", "dbias"), got, c.grads):
        expect_tensor(g, f"rnn_backward: {name}", e.shape, torch.float64)
        _finite_and_bounded(g, f"rnn_backward: {name}", bound=False)
    cases.check_gradient_profile(got[0], c.grads[0], 0, "rnn_backward: dx",
                                 "Your gradient dies out faster than autograd's: add the gradient flowing back "
                                 "from step t+1, g_t = grad_hs[t] + a_{t+1} W_hh",
                                 "Your gradient decays more slowly than autograd's: a_t = g_t * (1 - h_t^2) and "
                                 "the gradient passed to step t-1 is a_t W_hh")
    assert_close(hs, c.hs, "rnn_forward: hs on a long sequence")
    for name, g, e in zip(("dx", "dh0", "dweight_ih", "dweight_hh", "dbias"), got, c.grads):
        assert_close(g, e, f"rnn_backward: {name} on a long sequence (compared with autograd)")
