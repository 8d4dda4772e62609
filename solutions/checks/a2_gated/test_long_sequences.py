"""Hidden checks on long sequences (T >= 1000) for LSTM and GRU: finite values and gradients,
|h| <= 1, and the profile of ||d h_T / d x_t|| over t against the reference's under the same weights.

The weights give long memory: the LSTM's forget-gate bias and the GRU's
update-gate bias are raised by 3 (f, z near 0.95), so the reference's
gradient decays slowly over the sequence. An LSTM that drops or detaches its
cell state, or a GRU with z and 1 - z swapped, loses it within a few dozen
steps: the profile shows it even where a short sequence could not.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tensor, expect_tuple, fail, load_cases
from grader.sandbox.wire import GradInput


cases = load_cases(__file__)

HINTS = {
    "LSTM": ("Your gradient dies out faster than the reference's: the cell state must carry it from step to step. "
             "Check that c is passed on to the next step (not detached, not reset) and that "
             "c' = f * c + i * g with the forget gate f (block 2 of i, f, g, o)",
             "Your gradient decays more slowly than the reference's: check the gates (order i, f, g, o; "
             "sigmoid for i, f, o and tanh for g) and c' = f * c + i * g, h' = o * tanh(c')"),
    "GRU": ("Your gradient dies out faster than the reference's: something weakens the path from h_{t-1} to h_t. "
            "Check n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) (r multiplies W_hn h + b_hn, after the matmul), "
            "h' = (1 - z) * n + z * h (z near 1 copies h, and its gradient, from step to step), and that h is not "
            "detached between steps",
            "Your gradient decays more slowly than the reference's: check the gates (order r, z, n) and "
            "n = tanh(W_in x + b_in + r * (W_hn h + b_hn))"),
}


def _long_case(d, ref, kind):
    T, B = d.int(1000, 1030), 2
    I, H = d.distinct(2, 3, 7)
    kwargs = dict(input_size=I, hidden_size=H)
    module = getattr(ref, kind)(**kwargs).double()
    state = d.perturb_state(module, 0.5)
    state["bias_ih_l0"][H:2 * H] += 3.0  # LSTM: the forget gate f; GRU: the update gate z
    module.load_state_dict(state)
    x = d.randn(T, B, I).requires_grad_()
    n = 2 if kind == "LSTM" else 1
    s0 = [d.uniform(1, B, H).requires_grad_() for _ in range(n)]
    out, st = module(x, tuple(s0) if kind == "LSTM" else s0[0])
    finals = list(st) if kind == "LSTM" else [st]
    g_out = torch.zeros_like(out)
    g_out[-1] = d.randn(B, H)  # the loss reads h_T only: x.grad[t] = g^T d h_T / d x_t
    out.backward(g_out)
    return SimpleNamespace(kind=kind, kwargs=kwargs, state=state, T=T, B=B, x=x.detach(),
                           s0=[s.detach() for s in s0], out=out.detach(), finals=[f.detach() for f in finals],
                           g_out=g_out, dx=x.grad, ds0=[s.grad for s in s0],
                           grads={k: p.grad.clone() for k, p in module.named_parameters()})


def _finite(t, what, bound=None):
    if not torch.isfinite(t).all():
        idx = tuple(int(i) for i in (~torch.isfinite(t)).nonzero()[0])
        fail(f"{what} contains NaN or inf (first at index {idx}) on a sequence of 1000+ steps")
    if bound and t.abs().max() > 1 + 1e-12:
        fail(f"{what} has |h| = {float(t.abs().max()):.4g} > 1, impossible for {bound}")


def _check_long(sub, c):
    kind = c.kind
    m = sub.build(kind, c.state, **c.kwargs, dtype=torch.float64)
    states = tuple(GradInput(s) for s in c.s0)
    r = sub.call(m, GradInput(c.x), states if kind == "LSTM" else states[0], backward=(c.g_out, None))
    out, st = expect_tuple(r.value, f"{kind}(...) result", 2)
    finals = list(expect_tuple(st, "(h_n, c_n)", 2)) if kind == "LSTM" else [st]
    bound = "an LSTM (h = o * tanh(c) with o in (0, 1))" if kind == "LSTM" else \
        "a GRU (h' interpolates between h and n = tanh(...))"
    expect_tensor(out, f"{kind} output", c.out.shape, torch.float64)
    _finite(out, f"{kind} output", bound)
    for name, f, e in zip(cases.state_names(kind), finals, c.finals):
        expect_tensor(f, f"{kind} {name}", e.shape, torch.float64)
        _finite(f, f"{kind} {name}", bound if name == "h_n" else None)
    dx = r.input_grads[0]
    if dx is None:
        fail("d h_T / d input: no gradient reached the input (look for .detach(), .data or torch.no_grad())")
    cases.check_gradient_profile(dx, c.dx, 0, kind, *HINTS[kind])
    assert_close(out, c.out, f"{kind} output on a long sequence")
    for name, f, e in zip(cases.state_names(kind), finals, c.finals):
        assert_close(f, e, f"{kind} {name} on a long sequence")
    assert_grad_close(dx, c.dx, f"{kind}: d h_T / d input on a long sequence")
    for name, g, e in zip(("h0", "c0"), r.input_grads[1:], c.ds0):
        assert_grad_close(g, e, f"{kind}: d h_T / d {name} on a long sequence")
    for name, e in c.grads.items():
        g = r.param_grads.get(name)
        if g is not None:
            _finite(g, f"{kind}: d h_T / d {name}")
        assert_grad_close(g, e, f"{kind}: d h_T / d {name} on a long sequence")


@check(points=3, description="LSTM on T >= 1000 steps: finite, |h| <= 1, ||dh_T/dx_t|| over t as the reference's",
       timeout=30,
       kind="long_sequence", promises=("gated.forward", "lstm.gate-order"),
       targets=("LSTM",))
def test_lstm_long_sequence(sub, ref, once):
    _check_long(sub, once(lambda d: _long_case(d, ref, "LSTM")))


@check(points=3, description="GRU on T >= 1000 steps: finite, |h| <= 1, ||dh_T/dx_t|| over t as the reference's",
       timeout=30,
       kind="long_sequence", promises=("gated.forward", "gru.gate-order"),
       targets=("GRU",))
def test_gru_long_sequence(sub, ref, once):
    _check_long(sub, once(lambda d: _long_case(d, ref, "GRU")))
