"""Cases and comparisons shared by the hidden a1_rnn checks (not a check file itself).

Check files cannot import a sibling (pytest runs with --import-mode=importlib),
so each of them loads this file with `grader.checks.load_cases(__file__)`.

A case holds the sizes, the state_dict, the inputs and what the reference
returns, plus what a few common mistakes would return (for the diagnoses in
failure messages). Everything random comes from the `Draw` passed in.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, expect_tuple, fail
from grader.checks.rnnlayout import output_dims, shape_hint, state_dims
from grader.sandbox.wire import GradInput

NAME = "RNN"


def near(a, b) -> bool:
    return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
            and torch.allclose(a.to(b.dtype), b, rtol=1e-5, atol=1e-7))


def sizes(d, *, square_bt: bool = False):
    """(T, B, I, H): distinct sizes, or B == T when `square_bt` (a layout mix-up then keeps shapes)."""
    if square_bt:
        I, H, B = d.distinct(3, 2, 9)
        return B, B, I, H
    T, B, I, H = d.distinct(4, 2, 9)
    return T, B, I, H


def rnn_case(d, ref, *, T, B, I, H, L=1, bidir=False, batch_first=False, nonlinearity="tanh",
             bias=True, hx=True, unbatched=False, grads=False, dtype=torch.float64,
             variants=True, state_scale=0.6, x_scale=1.0):
    D = 2 if bidir else 1
    kwargs = dict(input_size=I, hidden_size=H, num_layers=L, nonlinearity=nonlinearity, bias=bias,
                  batch_first=batch_first, bidirectional=bidir)
    module = ref.RNN(**kwargs).double()
    state = d.perturb_state(module, state_scale)
    module.load_state_dict(state)
    if unbatched:
        x = d.randn(T, I, scale=x_scale)
        h0 = d.randn(D * L, H) if hx else None
    else:
        x = d.randn(*((B, T, I) if batch_first else (T, B, I)), scale=x_scale)
        h0 = d.randn(D * L, B, H) if hx else None
    c = SimpleNamespace(kwargs=kwargs, state=state, T=T, B=B, I=I, H=H, L=L, D=D, bidir=bidir, bias=bias,
                        batch_first=batch_first, unbatched=unbatched, nonlinearity=nonlinearity,
                        dtype=dtype, x=x.to(dtype), h0=None if h0 is None else h0.to(dtype))
    if dtype != torch.float64:
        module = module.to(dtype)
        c.state = {k: v.to(dtype) for k, v in state.items()}
    xg = c.x.clone().requires_grad_(grads)
    hg = None if h0 is None else c.h0.clone().requires_grad_(grads)
    with torch.set_grad_enabled(grads):
        out, h_n = module(xg, hg)
    c.out, c.h_n = out.detach(), h_n.detach()
    if grads:
        c.g_out, c.g_hn = d.randn(*out.shape, dtype=dtype), d.randn(*h_n.shape, dtype=dtype)
        torch.autograd.backward([out, h_n], [c.g_out, c.g_hn])
        c.dx = xg.grad
        c.dh0 = None if hg is None else hg.grad
        c.grads = {n: p.grad.clone() for n, p in module.named_parameters()}
    c.variants = []
    if variants:
        with torch.no_grad():
            _add_variants(c, ref, module)
    return c


def _add_variants(c, ref, module):
    """(what a mistake returns for (output, h_n), message) pairs for the diagnoses."""
    tdim = 1 if (c.batch_first and not c.unbatched) else 0
    v = c.variants
    if c.h0 is not None:
        out, h_n = module(c.x, None)
        v.append((out, h_n, "your result is what hx = zeros gives: use the hx passed in"))
        if c.D * c.L > 1:
            k = torch.arange(c.D * c.L).reshape(c.L, c.D).t().reshape(-1)  # direction-major rows
            out, h_n = module(c.x, c.h0[k])
            v.append((out, h_n, "you read the rows of hx in the wrong order: row layer * D + direction "
                                "holds the initial state of that layer and direction"))
    if c.D == 1 and c.L == 1:
        out, h_n = module(c.x.flip(tdim), c.h0)
        v.append((out.flip(tdim), None, "your output is what the RNN gives when run backwards in time: "
                                        "a unidirectional RNN reads t = 0, 1, ..., T-1"))
    m2 = ref.RNN(**c.kwargs).to(c.dtype)
    m2.load_state_dict({k: (t.t() if k.startswith("weight_hh") else t) for k, t in c.state.items()})
    out, h_n = m2(c.x, c.h0)
    v.append((out, h_n, "your result uses h W_hh instead of h W_hh^T: transpose weight_hh (it is [H_out, H_in])"))
    other = dict(c.kwargs, nonlinearity="relu" if c.nonlinearity == "tanh" else "tanh")
    m2 = ref.RNN(**other).to(c.dtype)
    m2.load_state_dict(c.state)
    out, h_n = m2(c.x, c.h0)
    v.append((out, h_n, f"your result applies {other['nonlinearity']} although nonlinearity="
                        f"'{c.nonlinearity}': honour the nonlinearity argument"))
    if c.bias:
        nob = {k: (torch.zeros_like(t) if k.startswith("bias_hh") else t) for k, t in c.state.items()}
        m2 = ref.RNN(**c.kwargs).to(c.dtype)
        m2.load_state_dict(nob)
        out, h_n = m2(c.x, c.h0)
        v.append((out, h_n, "your result is missing bias_hh: each step adds b_ih and b_hh"))


def output_diagnoses(c):
    H = c.H
    tdim = 1 if (c.batch_first and not c.unbatched) else 0
    diags = [((lambda a, e, o=o: near(a, o) and not near(e, o)), msg) for o, _, msg in c.variants
             if o is not None]

    def all_last(a, e):
        last = a.select(tdim, a.shape[tdim] - 1).unsqueeze(tdim)
        return a.shape[tdim] > 1 and torch.allclose(a, last.expand_as(a)) and not torch.allclose(
            e, e.select(tdim, e.shape[tdim] - 1).unsqueeze(tdim).expand_as(e))

    diags.append((all_last, "every time step of your output equals the last one: the outputs alias "
                            "one tensor that is overwritten in place; keep a new tensor per step"))
    if c.bidir:
        diags.append((lambda a, e: near(a[..., :H], e[..., :H]) and not near(a[..., H:], e[..., H:]),
                      "the forward direction is right but the reverse one is not: run it from the last "
                      "step to the first, and store the state computed at step t at time index t"))
        if c.L == 1:
            diags.append((lambda a, e: near(a[..., H:], e[..., H:].flip(tdim)),
                          "the reverse direction's outputs come out in reversed time order: after "
                          "running backwards, put the state computed at step t at index t"))
    if not c.unbatched and c.B == c.T and c.B > 1:
        if c.batch_first:
            diags.append((lambda a, e: near(a.transpose(0, 1), e),
                          "your output is time-first [T, B, *] although batch_first=True"))
        else:
            diags.append((lambda a, e: near(a.transpose(0, 1), e),
                          "your output is [B, T, *] although batch_first=False (time-first is the "
                          "default): or the input's time and batch dimensions were swapped"))
    return diags


def hn_diagnoses(c):
    H = c.H
    tdim = 1 if (c.batch_first and not c.unbatched) else 0
    diags = [((lambda a, e, o=o: near(a, o) and not near(e, o)), msg) for _, o, msg in c.variants
             if o is not None]
    if c.D * c.L > 1:
        k = torch.arange(c.D * c.L).reshape(c.L, c.D).t().reshape(-1)
        diags.append((lambda a, e: near(a[k], e) and not near(a, e),
                      "the rows of h_n are in the wrong order: torch orders them layer * D + direction"))
    if c.bidir:
        last = c.out.select(tdim, c.T - 1)[..., H:]
        diags.append((lambda a, e: near(a[-1], last) and not near(e[-1], last),
                      "h_n of the reverse direction is its output at the last time step; its final "
                      "state is the one after reading the FIRST step (output at t = 0)"))
    if c.L > 1:
        diags.append((lambda a, e: all(near(a[i], e[-c.D + (i % c.D)]) for i in range(a.shape[0])),
                      "every layer's row of h_n holds the last layer's final state: keep each layer's own"))
    return diags


def check_shapes(got, c, what: str):
    out, h_n = expect_tuple(got, f"{what} result (output, h_n)", 2)
    for name, t, e in (("output", out, c.out), ("h_n", h_n, c.h_n)):
        if not isinstance(t, torch.Tensor):
            fail(f"{what}: {name} should be a tensor, got {type(t).__name__}")
        if tuple(t.shape) == tuple(e.shape):
            continue
        s = tuple(t.shape)
        fail(f"{what}: {name} should have shape {tuple(e.shape)}, got {s}{shape_hint(name, s, c)}")
    return out, h_n


def check_result(got, c, what: str):
    out, h_n = check_shapes(got, c, what)
    assert_close(out, c.out, f"{what}: output", diagnoses=output_diagnoses(c), dims=output_dims(c))
    assert_close(h_n, c.h_n, f"{what}: h_n", diagnoses=hn_diagnoses(c), dims=state_dims(c))


def build(sub, c):
    return sub.build(NAME, c.state, **c.kwargs, dtype=c.dtype)


def run_values(sub, c, what: str):
    m = build(sub, c)
    args = (c.x,) if c.h0 is None else (c.x, c.h0)
    check_result(sub.call(m, *args).value, c, what)


def late_steps_only(a, e, tdim) -> bool:
    """The gradient is right at the last step only: the recurrence does not carry it back."""
    T = e.shape[tdim]
    return (T > 1 and near(a.select(tdim, T - 1), e.select(tdim, T - 1))
            and not near(a.narrow(tdim, 0, T - 1), e.narrow(tdim, 0, T - 1)))


CUT_MSG = ("right at the last step but not before it: the gradient does not flow back through the hidden "
           "state from step to step (look for .detach(), .data or a state rebuilt from a new tensor)")


def run_gradients(sub, c, what: str):
    from grader.checks import assert_grad_close

    m = build(sub, c)
    r = sub.call(m, GradInput(c.x), GradInput(c.h0), backward=(c.g_out, c.g_hn))
    check_result(r.value, c, what)
    tdim = 1 if (c.batch_first and not c.unbatched) else 0
    assert_grad_close(r.input_grads[0], c.dx, f"{what}: d loss / d input",
                      diagnoses=[(lambda a, e: late_steps_only(a, e, tdim), CUT_MSG)])
    assert_grad_close(r.input_grads[1], c.dh0, f"{what}: d loss / d hx")
    for name, g in c.grads.items():
        assert_grad_close(r.param_grads.get(name), g, f"{what}: d loss / d {name}")


def step_norms(g: torch.Tensor, tdim: int) -> torch.Tensor:
    """||g[t]|| for every step t (over every other dimension)."""
    g = g.movedim(tdim, 0)
    return g.reshape(g.shape[0], -1).norm(dim=1)


def profile_offsets(T: int) -> list[int]:
    """Steps back from the last one where the profile is compared: 0, 1, 2, 4, 8, ..., and T-1."""
    ks, k = {0, T - 1}, 1
    while k < T:
        ks.add(k)
        k *= 2
    return sorted(ks)


def check_gradient_profile(got, expected, tdim: int, what: str, hint_faster: str, hint_slower: str,
                           tol_decades: float = 0.1, floor: float = 1e-250) -> None:
    """||dh_T/dx_t|| over t must follow the reference's on a log scale (within `tol_decades`)."""
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        fail(f"{what}: d h_T / d input should be a tensor of shape {tuple(expected.shape)}")
    n_got, n_ref = step_norms(got.to(expected.dtype), tdim), step_norms(expected, tdim)
    if not torch.isfinite(n_got).all():
        t = int((~torch.isfinite(n_got)).nonzero()[0])
        fail(f"{what}: the gradient d h_T / d x_t is NaN or inf at t = {t} (the reference's is finite)")
    T = n_ref.shape[0]
    lg = torch.log10(n_got.clamp_min(floor))
    lr = torch.log10(n_ref.clamp_min(floor))
    ks = profile_offsets(T)
    diffs = {k: float(lg[T - 1 - k] - lr[T - 1 - k]) for k in ks}
    worst = max(ks, key=lambda k: abs(diffs[k]))
    if abs(diffs[worst]) > tol_decades:
        t = T - 1 - worst
        faster = diffs[worst] < 0
        shown = ", ".join(f"t=T-{k}: {float(n_got[T - 1 - k]):.2g} vs {float(n_ref[T - 1 - k]):.2g}"
                          for k in ks if k <= max(worst, 8))
        fail(f"{what}: the size of the gradient d h_T / d x_t over the sequence (T = {T}) does not follow "
             f"the reference's: at t = T-{worst} it is {float(n_got[t]):.3g}, the reference's is "
             f"{float(n_ref[t]):.3g} (yours vs reference: {shown}). "
             + (hint_faster if faster else hint_slower))
