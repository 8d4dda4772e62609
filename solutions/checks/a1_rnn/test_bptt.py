"""Hidden checks of back-propagation through time by hand: rnn_forward and rnn_backward.

rnn_backward's five gradients are compared with autograd through the
reference's rnn_forward, on a random upstream gradient for every step, with
distinct sizes and with the square case (I == H, B == T) that hides
transposition mistakes from the shapes. A directional finite-difference check
(gradcheck along random directions) tests rnn_backward against the
submission's own rnn_forward.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, check, expect_tensor, expect_tuple, fail

GRAD_NAMES = ("dx", "dh0", "dweight_ih", "dweight_hh", "dbias")


def _near(a, b) -> bool:
    return (isinstance(a, torch.Tensor) and a.shape == b.shape
            and torch.allclose(a.to(b.dtype), b, rtol=1e-6, atol=1e-8))


def _manual_bptt(x, h0, w_ih, w_hh, hs, G, recurrent=True, h_prev_for_dwhh=True, deriv_from_prev=False):
    """The reference formulas, and the variants that common mistakes give (for diagnoses)."""
    T = x.shape[0]
    h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]])
    a = torch.empty_like(hs)
    dh = torch.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        g = G[t] + (dh if recurrent else 0)
        h_for_deriv = h_prev[t] if deriv_from_prev else hs[t]
        a[t] = g * (1 - h_for_deriv ** 2)
        dh = a[t] @ w_hh
    hh = h_prev if h_prev_for_dwhh else hs
    return dict(dx=a @ w_ih, dh0=dh, dweight_ih=torch.einsum("tbh,tbi->hi", a, x),
                dweight_hh=torch.einsum("tbh,tbk->hk", a, hh), dbias=a.sum((0, 1)), a=a)


def _case(d, ref, square=False, T=None):
    if square:
        I = H = d.int(3, 7)
        B = T = d.choice([n for n in range(3, 8) if n != H])
    else:
        T0, B, I, H = d.distinct(4, 2, 9)
        T = T or T0
    x, h0 = d.randn(T, B, I), d.randn(B, H)
    w_ih, w_hh, b = d.uniform(H, I, lo=-0.7, hi=0.7), d.uniform(H, H, lo=-0.7, hi=0.7), d.uniform(H)
    G = d.randn(T, B, H)
    leaves = [t.clone().requires_grad_() for t in (x, h0, w_ih, w_hh, b)]
    hs, _ = ref.rnn_forward(*leaves)
    grads = torch.autograd.grad(hs, leaves, G)
    hs = hs.detach()
    c = SimpleNamespace(T=T, B=B, I=I, H=H, args=(x, h0, w_ih, w_hh, b), G=G, hs=hs,
                        grads=dict(zip(GRAD_NAMES, grads)))
    with torch.no_grad():
        c.hs_untransposed = _scan(x, h0, w_ih, w_hh.t(), b)
        c.no_rec = _manual_bptt(x, h0, w_ih, w_hh, hs, G, recurrent=False)
        c.ht_dwhh = _manual_bptt(x, h0, w_ih, w_hh, hs, G, h_prev_for_dwhh=False)
        c.prev_deriv = _manual_bptt(x, h0, w_ih, w_hh, hs, G, deriv_from_prev=True)
        c.dh0_no_whh = _manual_bptt(x, h0, w_ih, w_hh, hs, G)["a"][0]
    return c


def _scan(x, h0, w_ih, w_hh, b):
    h, hs = h0, []
    for t in range(x.shape[0]):
        h = torch.tanh(x[t] @ w_ih.t() + h @ w_hh.t() + b)
        hs.append(h)
    return torch.stack(hs)


def _forward(sub, c, keep=False):
    r = sub.call("rnn_forward", *c.args, keep=keep)
    hs, _cache = expect_tuple(r.value, "rnn_forward(...) result (hs, cache)", 2)
    expect_tensor(hs, "rnn_forward: hs", (c.T, c.B, c.H), torch.float64)
    return r, hs


@check(points=1, description="rnn_forward gives the reference's hidden states hs [T, B, H]",
       kind="values", promises=("bptt.forward", "values.tolerance"),
       targets=("rnn_forward",))
def test_rnn_forward_values(sub, ref, once):
    for key, square in (("", False), ("square", True)):
        c = once(lambda d: _case(d, ref, square=square), key=key)
        _, hs = _forward(sub, c)
        what = "rnn_forward: hs" + (" (I == H, B == T)" if square else "")
        assert_close(hs, c.hs, what, diagnoses=[
            (lambda a, e: _near(a, c.hs_untransposed),
             "your states use h W_hh instead of h W_hh^T: transpose weight_hh"),
            (lambda a, e: _near(a[1:], e[:-1]),
             "your hs is shifted by one step: hs[t] is the state AFTER step t (hs[0] = h_1, not h0)"),
        ])


def _check_backward(got, c, what):
    grads = expect_tuple(got, f"{what} result (dx, dh0, dweight_ih, dweight_hh, dbias)", 5)
    shapes = dict(dx=(c.T, c.B, c.I), dh0=(c.B, c.H), dweight_ih=(c.H, c.I), dweight_hh=(c.H, c.H),
                  dbias=(c.H,))
    for name, g in zip(GRAD_NAMES, grads):
        expect_tensor(g, f"{what}: {name}", shapes[name], torch.float64)
    diag = {
        "dh0": [(lambda a, e: _near(a, c.no_rec["dh0"]),
                 "it lacks the gradient that flows back from later steps: carry a_{t+1} W_hh backwards"),
                (lambda a, e: _near(a, c.dh0_no_whh),
                 "you return a_0 (the gradient of the first pre-activation); dh0 = a_0 W_hh")],
        "dweight_hh": [(lambda a, e: _near(a, c.ht_dwhh["dweight_hh"]),
                        "you pair a_t with h_t; the pre-activation of step t multiplies h_{t-1} "
                        "(h0 at the first step): dW_hh = sum_t a_t^T h_{t-1}"),
                       (lambda a, e: _near(a, c.no_rec["dweight_hh"]),
                        "it lacks the gradient that flows back from step t+1 (a_{t+1} W_hh)")],
    }
    deriv = (lambda a, e: c.T > 1 and _near(a[1:], c.prev_deriv["dx"][1:]),
             "tanh' at step t is 1 - h_t^2, with h_t the output of that step's tanh (not h_{t-1})")
    for name, g in zip(GRAD_NAMES, grads):
        ds = diag.get(name, []) + ([deriv] if name == "dx" else [])
        if name in ("dweight_ih", "dbias", "dx"):
            ds.append((lambda a, e, n=name: _near(a, c.no_rec[n]),
                       "it lacks the gradient that flows back from step t+1: the total gradient at h_t "
                       "is grad_hs[t] + a_{t+1} W_hh"))
        assert_close(g, c.grads[name], f"{what}: {name} (compared with autograd)", diagnoses=ds)


@check(points=3, description="rnn_backward's five gradients equal autograd's (distinct sizes, and I == H, B == T)",
       kind="gradients", promises=("bptt.backward", "bptt.by-hand"),
       targets=("rnn_forward", "rnn_backward"))
def test_rnn_backward(sub, ref, once):
    for key, square in (("", False), ("square", True)):
        c = once(lambda d: _case(d, ref, square=square), key=key)
        r, _ = _forward(sub, c, keep=True)
        got = sub.call("rnn_backward", c.G, r.ref[1]).value
        _check_backward(got, c, "rnn_backward" + (" (I == H, B == T)" if square else ""))


@check(points=1, description="rnn_backward with a single time step (T = 1)",
       kind="gradients", promises=("bptt.backward", "length.one"),
       targets=("rnn_forward", "rnn_backward"))
def test_rnn_backward_one_step(sub, ref, once):
    c = once(lambda d: _case(d, ref, T=1))
    r, _ = _forward(sub, c, keep=True)
    got = sub.call("rnn_backward", c.G, r.ref[1]).value
    _check_backward(got, c, "rnn_backward with T = 1")


def _gradcheck_case(d):
    T, B, I, H = d.int(3, 5), 2, d.int(2, 4), d.int(3, 5)
    args = (d.randn(T, B, I), d.randn(B, H), d.uniform(H, I, lo=-0.8, hi=0.8),
            d.uniform(H, H, lo=-0.8, hi=0.8), d.uniform(H))
    return SimpleNamespace(T=T, B=B, I=I, H=H, args=args, G=d.randn(T, B, H),
                           dirs=[tuple(d.randn(*a.shape) for a in args) for _ in range(2)])


@check(points=1, description="gradcheck: rnn_backward agrees with finite differences of your rnn_forward",
       kind="gradients", promises=("bptt.backward", "bptt.forward"),
       targets=("rnn_forward", "rnn_backward"))
def test_rnn_backward_gradcheck(sub, once):
    c = once(_gradcheck_case)
    r, _ = _forward(sub, c, keep=True)
    grads = expect_tuple(sub.call("rnn_backward", c.G, r.ref[1]).value, "rnn_backward(...) result", 5)
    for g in grads:
        expect_tensor(g, "rnn_backward: a gradient", dtype=torch.float64)
    eps = 1e-6

    def f(sign, v):
        args = tuple(a + sign * eps * dv for a, dv in zip(c.args, v))
        hs = _forward(sub, c.__class__(**{**vars(c), "args": args}))[1]
        return float((hs * c.G).sum())

    for k, v in enumerate(c.dirs):
        analytic = sum(float((g * dv).sum()) for g, dv in zip(grads, v))
        numeric = (f(1, v) - f(-1, v)) / (2 * eps)
        if abs(analytic - numeric) > 1e-5 * max(1.0, abs(numeric)):
            fail(f"rnn_backward disagrees with finite differences of your own rnn_forward along random "
                 f"direction {k + 1}: the directional derivative is {numeric:.8g}, your gradients give "
                 f"{analytic:.8g}. Check each of dx, dh0, dweight_ih, dweight_hh, dbias")
