"""Cases, comparisons and diagnoses shared by the hidden a2_gated checks (not a check file itself).

Check files cannot import a sibling (pytest runs with --import-mode=importlib),
so they load this file with `grader.checks.load_cases(__file__)`.

A case holds the sizes, a state_dict, the inputs and what the reference
returns. When a submission differs, the diagnoses compute what common mistakes
would return (a trusted functional LSTM/GRU below, with switches for each
mistake) and name the one that matches. They run only on failure and are
memoized on the case, so correct submissions pay nothing for them.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, expect_tuple, fail
from grader.checks.rnnlayout import output_dims, shape_hint, state_dims
from grader.sandbox.wire import GradInput

GATES = {"LSTM": 4, "GRU": 3}


def near(a, b) -> bool:
    return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
            and torch.allclose(a.to(b.dtype), b, rtol=1e-5, atol=1e-7))


# --------------------------------------------------------------------------- the mistakes, as math

LSTM_MISTAKES = {
    **{"order_" + "".join(p): (dict(order="".join(p)),
                              f"your gate blocks are read in the order {', '.join(p)}; torch stacks them "
                              f"i, f, g, o (input, forget, cell candidate g, output)")
       for p in itertools.permutations("ifgo") if "".join(p) != "ifgo"},
    "no_forget": (dict(cell="no_forget"), "the forget gate is not applied: c' = f * c + i * g"),
    "cell_dropped": (dict(cell="dropped"), "the previous cell state is dropped: c' = f * c + i * g carries c "
                                           "from step to step"),
    "tanh_o": (dict(o_act="tanh"), "the output gate uses tanh: i, f and o are sigmoids, only g uses tanh"),
    "no_tanh_c": (dict(tanh_c=False), "h' = o * tanh(c'), not o * c'"),
    "no_bias_hh": (dict(bias_hh=False), "bias_hh is missing: every gate adds b_ih and b_hh"),
}

GRU_MISTAKES = {
    "reset_before_matmul": (dict(n="reset_before"),
                            "the reset gate multiplies h before the matmul (W_hn (r * h)); torch's GRU "
                            "applies it after: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))"),
    "b_hn_outside": (dict(n="b_hn_outside"),
                     "b_hn is added outside the reset gate; it belongs inside: "
                     "n = tanh(W_in x + b_in + r * (W_hn h + b_hn))"),
    "z_swapped": (dict(swap_z=True), "z and 1 - z are swapped: h' = (1 - z) * n + z * h (z near 1 keeps h)"),
    "order_zrn": (dict(order="zrn"), "your gate blocks are read in the order z, r, n; torch stacks them r, z, n"),
    "order_nzr": (dict(order="nrz"), "your gate blocks are in the wrong order; torch stacks them r, z, n"),
    "no_bias_hh": (dict(bias_hh=False), "bias_hh is missing: each gate adds b_ih and b_hh (b_hn inside r * (...))"),
    "n_sigmoid": (dict(n_act="sigmoid"), "the candidate n uses a sigmoid; it is tanh"),
}


def _blocks(t, order, names):
    parts = dict(zip(order, t.chunk(len(order), dim=-1)))
    return [parts[n] for n in names]


def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh, order="ifgo", cell="", o_act="sigmoid", tanh_c=True,
              bias_hh=True):
    gates = x @ w_ih.t() + h @ w_hh.t()
    if b_ih is not None:
        gates = gates + b_ih + (b_hh if bias_hh else 0)
    i, f, g, o = _blocks(gates, order, "ifgo")
    i, f, g = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g)
    o = torch.tanh(o) if o_act == "tanh" else torch.sigmoid(o)
    c2 = {"": f * c + i * g, "no_forget": c + i * g, "dropped": i * g}[cell]
    return (o * torch.tanh(c2) if tanh_c else o * c2), c2


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh, order="rzn", n="", swap_z=False, bias_hh=True, n_act="tanh"):
    H = h.shape[-1]
    zero = torch.zeros(3 * H, dtype=x.dtype)
    b_ih = zero if b_ih is None else b_ih
    b_hh = zero if (b_hh is None or not bias_hh) else b_hh
    x_r, x_z, x_n = _blocks(x @ w_ih.t() + b_ih, order, "rzn")
    w_r, w_z, w_n = _blocks(w_hh.t(), order, "rzn")
    b_r, b_z, b_n = _blocks(b_hh, order, "rzn")
    r = torch.sigmoid(x_r + h @ w_r + b_r)
    z = torch.sigmoid(x_z + h @ w_z + b_z)
    act = torch.sigmoid if n_act == "sigmoid" else torch.tanh
    if n == "reset_before":
        cand = act(x_n + (r * h) @ w_n + b_n)
    elif n == "b_hn_outside":
        cand = act(x_n + r * (h @ w_n) + b_n)
    else:
        cand = act(x_n + r * (h @ w_n + b_n))
    return z * cand + (1 - z) * h if swap_z else (1 - z) * cand + z * h


def net_forward(kind, state, x, states, L, D, batch_first, unbatched, carry_c=True, backwards=False,
                **mistake):
    """A functional torch-layout LSTM/GRU (x [T, B, I] after layout), with a mistake switched on:
    a cell-level one (`mistake`), the cell state not carried between steps, or every direction
    run from the last step to the first."""
    if unbatched:
        x = x.unsqueeze(1)
        states = tuple(s.unsqueeze(1) for s in states)
    elif batch_first:
        x = x.transpose(0, 1)
    T = x.shape[0]
    finals = [[] for _ in states]
    inp = x
    for layer in range(L):
        outs = []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w = [state.get(n + sfx) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            cur = [s[layer * D + d] for s in states]
            seq = [None] * T
            for t in (range(T - 1, -1, -1) if (d or backwards) else range(T)):
                if kind == "LSTM":
                    h, c = lstm_cell(inp[t], cur[0], cur[1], *w, **mistake)
                    cur = [h, c if carry_c else cur[1]]
                else:
                    cur = [gru_cell(inp[t], cur[0], *w, **mistake)]
                seq[t] = cur[0]
            outs.append(torch.stack(seq))
            for k, s in enumerate(cur):
                finals[k].append(s)
        inp = torch.cat(outs, -1)
    out, finals = inp, [torch.stack(f) for f in finals]
    if unbatched:
        return out.squeeze(1), [f.squeeze(1) for f in finals]
    return (out.transpose(0, 1) if batch_first else out), finals


# --------------------------------------------------------------------------- cases


def sizes(d, *, square_bt=False):
    if square_bt:
        I, H, B = d.distinct(3, 2, 8)
        return B, B, I, H
    T, B, I, H = d.distinct(4, 2, 8)
    return T, B, I, H


def net_case(d, ref, kind, *, T, B, I, H, L=1, bidir=False, batch_first=False, bias=True, hx=True,
             unbatched=False, grads=False, dtype=torch.float64, state_scale=0.6, x_scale=1.0):
    D = 2 if bidir else 1
    n_states = 2 if kind == "LSTM" else 1
    kwargs = dict(input_size=I, hidden_size=H, num_layers=L, bias=bias, batch_first=batch_first,
                  bidirectional=bidir)
    module = getattr(ref, kind)(**kwargs).double()
    state = d.perturb_state(module, state_scale)
    module.load_state_dict(state)
    if unbatched:
        x = d.randn(T, I, scale=x_scale)
        shape = (D * L, H)
    else:
        x = d.randn(*((B, T, I) if batch_first else (T, B, I)), scale=x_scale)
        shape = (D * L, B, H)
    states = tuple(d.randn(*shape) for _ in range(n_states)) if hx else None
    module = module.to(dtype)
    c = SimpleNamespace(kind=kind, kwargs=kwargs, state={k: v.to(dtype) for k, v in state.items()}, T=T, B=B,
                        I=I, H=H, L=L, D=D, bidir=bidir, bias=bias, batch_first=batch_first,
                        unbatched=unbatched, dtype=dtype, n_states=n_states, x=x.to(dtype),
                        states=None if states is None else tuple(s.to(dtype) for s in states), memo={})
    xg = c.x.clone().requires_grad_(grads)
    sg = None if states is None else tuple(s.clone().requires_grad_(grads) for s in c.states)
    with torch.set_grad_enabled(grads):
        out, st = module(xg, _pack(kind, sg))
    st = _unpack(kind, st)
    c.out, c.finals = out.detach(), [s.detach() for s in st]
    if grads:
        c.g_out = d.randn(*out.shape, dtype=dtype)
        c.g_finals = [d.randn(*s.shape, dtype=dtype) for s in st]
        torch.autograd.backward([out, *st], [c.g_out, *c.g_finals])
        c.dx = xg.grad
        c.dstates = None if sg is None else [s.grad for s in sg]
        c.grads = {n: p.grad.clone() for n, p in module.named_parameters()}
    return c


def _pack(kind, states):
    if states is None:
        return None
    return tuple(states) if kind == "LSTM" else states[0]


def _unpack(kind, st):
    return list(st) if kind == "LSTM" else [st]


def state_names(kind):
    return ("h_n", "c_n") if kind == "LSTM" else ("h_n",)


def call_args(c, grad=False):
    wrap = GradInput if grad else (lambda t: t)
    if c.states is None:
        return (wrap(c.x),)
    states = tuple(wrap(s) for s in c.states)
    return (wrap(c.x), states if c.kind == "LSTM" else states[0])


def backward_arg(c):
    return (c.g_out, tuple(c.g_finals)) if c.kind == "LSTM" else (c.g_out, c.g_finals[0])


# --------------------------------------------------------------------------- diagnoses


def _variant(c, key, **mistake):
    """(output, [finals]) of a mistake on this case, computed once."""
    if key not in c.memo:
        states = c.states
        if states is None:
            shape = (c.D * c.L, c.H) if c.unbatched else (c.D * c.L, c.B, c.H)
            states = tuple(torch.zeros(*shape, dtype=c.dtype) for _ in range(c.n_states))
        if mistake.pop("zero_hx", False):
            states = tuple(torch.zeros_like(s) for s in states)
        if mistake.pop("zero_c0", False):
            states = (states[0], torch.zeros_like(states[1]))
        if mistake.pop("swap_hc", False):
            states = tuple(reversed(states))
        if mistake.pop("hx_direction_major", False):
            k = torch.arange(c.D * c.L).reshape(c.L, c.D).t().reshape(-1)
            states = tuple(s[k] for s in states)
        with torch.no_grad():
            c.memo[key] = net_forward(c.kind, c.state, c.x, states, c.L, c.D, c.batch_first, c.unbatched,
                                      **mistake)
    return c.memo[key]


def _mistakes(c):
    table = dict(LSTM_MISTAKES if c.kind == "LSTM" else GRU_MISTAKES)
    if c.states is not None:
        table["zero_hx"] = (dict(zero_hx=True), "your result is what hx = zeros gives: use the states passed in")
        if c.kind == "LSTM":
            table["swap_hc"] = (dict(swap_hc=True), "you read the initial states as (c0, h0); they come as (h0, c0)")
            table["zero_c0"] = (dict(zero_c0=True), "your result is what c0 = zeros gives: use the initial cell "
                                                    "state passed in")
        if c.D * c.L > 1:
            table["hx_direction_major"] = (dict(hx_direction_major=True),
                                           "you read the rows of the initial state in the wrong order: row "
                                           "layer * D + direction holds that layer's and direction's state")
    if c.kind == "LSTM":
        table["c_not_carried"] = (dict(carry_c=False), "the cell state is not carried from step to step: each "
                                                       "step must start from the c computed at the previous one")
    if c.D == 1:
        table["backwards"] = (dict(backwards=True), f"your output is what the {c.kind} gives when run backwards "
                                                    f"in time: a unidirectional network reads t = 0, 1, ..., T-1")
    if not c.bias:
        table = {k: v for k, v in table.items() if "bias" not in k and "b_hn" not in k}
    return table


def output_diagnoses(c):
    H = c.H
    tdim = 1 if (c.batch_first and not c.unbatched) else 0
    diags = [((lambda a, e, k=k, m=m: near(a, _variant(c, k, **m)[0]) and not near(e, _variant(c, k, **m)[0])),
              msg) for k, (m, msg) in _mistakes(c).items()]

    def all_last(a, e):
        last = a.select(tdim, a.shape[tdim] - 1).unsqueeze(tdim)
        return a.shape[tdim] > 1 and torch.allclose(a, last.expand_as(a))

    diags.append((all_last, "every time step of your output equals the last one: the outputs alias one tensor "
                            "that is overwritten in place; keep a new tensor per step"))
    if c.bidir:
        diags.append((lambda a, e: near(a[..., :H], e[..., :H]) and not near(a[..., H:], e[..., H:]),
                      "the forward direction is right but the reverse one is not: run it from the last step "
                      "to the first, and store the state computed at step t at time index t"))
        if c.L == 1:
            diags.append((lambda a, e: near(a[..., H:], e[..., H:].flip(tdim)),
                          "the reverse direction's outputs come out in reversed time order: after running "
                          "backwards, put the state computed at step t at index t"))
    if not c.unbatched and c.B == c.T and c.B > 1:
        msg = ("your output is time-first [T, B, *] although batch_first=True" if c.batch_first else
               "your output is [B, T, *] although batch_first=False (time-first is the default), or the "
               "input's time and batch dimensions were swapped")
        diags.append((lambda a, e: near(a.transpose(0, 1), e), msg))
    return diags


def state_diagnoses(c, idx):
    H = c.H
    name = state_names(c.kind)[idx]
    tdim = 1 if (c.batch_first and not c.unbatched) else 0
    diags = [((lambda a, e, k=k, m=m: near(a, _variant(c, k, **m)[1][idx])
               and not near(e, _variant(c, k, **m)[1][idx])), msg) for k, (m, msg) in _mistakes(c).items()]
    if c.kind == "LSTM":
        other = c.finals[1 - idx]
        diags.append((lambda a, e: near(a, other),
                      f"you return {state_names(c.kind)[1 - idx]} where {name} belongs: the LSTM returns "
                      f"(output, (h_n, c_n))"))
    if c.D * c.L > 1:
        k = torch.arange(c.D * c.L).reshape(c.L, c.D).t().reshape(-1)
        diags.append((lambda a, e: near(a[k], e) and not near(a, e),
                      f"the rows of {name} are in the wrong order: torch orders them layer * D + direction"))
    if c.bidir and idx == 0:
        last = c.out.select(tdim, c.T - 1)[..., H:]
        diags.append((lambda a, e: near(a[-1], last) and not near(e[-1], last),
                      "h_n of the reverse direction is its output at the last time step; its final state is "
                      "the one after reading the FIRST step (output at t = 0)"))
    if c.L > 1:
        diags.append((lambda a, e: all(near(a[i], e[-c.D + (i % c.D)]) for i in range(a.shape[0])),
                      f"every layer's row of {name} holds the last layer's final state: keep each layer's own"))
    return diags


# --------------------------------------------------------------------------- running and comparing


def check_shapes(got, c, what):
    names = state_names(c.kind)
    out, st = expect_tuple(got, f"{what} result (output, {'(h_n, c_n)' if c.kind == 'LSTM' else 'h_n'})", 2)
    finals = list(expect_tuple(st, f"{what}: the states (h_n, c_n)", 2)) if c.kind == "LSTM" else [st]
    for name, t, e in [("output", out, c.out)] + list(zip(names, finals, c.finals)):
        if not isinstance(t, torch.Tensor):
            fail(f"{what}: {name} should be a tensor, got {type(t).__name__}")
        if tuple(t.shape) == tuple(e.shape):
            continue
        s = tuple(t.shape)
        fail(f"{what}: {name} should have shape {tuple(e.shape)}, got {s}{shape_hint(name, s, c)}")
    return out, finals


def check_result(got, c, what):
    out, finals = check_shapes(got, c, what)
    assert_close(out, c.out, f"{what}: output", diagnoses=output_diagnoses(c), dims=output_dims(c))
    for i, (name, t, e) in enumerate(zip(state_names(c.kind), finals, c.finals)):
        assert_close(t, e, f"{what}: {name}", diagnoses=state_diagnoses(c, i), dims=state_dims(c))


def build(sub, c):
    return sub.build(c.kind, c.state, **c.kwargs, dtype=c.dtype)


def run_values(sub, c, what):
    m = build(sub, c)
    check_result(sub.call(m, *call_args(c)).value, c, what)


CUT_MSG = ("right at the last step but not before it: the gradient does not flow back through the states "
           "from step to step (look for .detach(), .data or a state rebuilt from a new tensor)")


def late_steps_only(a, e, tdim) -> bool:
    T = e.shape[tdim]
    return (T > 1 and near(a.select(tdim, T - 1), e.select(tdim, T - 1))
            and not near(a.narrow(tdim, 0, T - 1), e.narrow(tdim, 0, T - 1)))


def run_gradients(sub, c, what):
    m = build(sub, c)
    r = sub.call(m, *call_args(c, grad=True), backward=backward_arg(c))
    check_result(r.value, c, what)
    tdim = 1 if (c.batch_first and not c.unbatched) else 0
    assert_grad_close(r.input_grads[0], c.dx, f"{what}: d loss / d input",
                      diagnoses=[(lambda a, e: late_steps_only(a, e, tdim), CUT_MSG)])
    for name, g, e in zip(("h0", "c0"), r.input_grads[1:], c.dstates):
        assert_grad_close(g, e, f"{what}: d loss / d {name}")
    for name, g in c.grads.items():
        assert_grad_close(r.param_grads.get(name), g, f"{what}: d loss / d {name}")


# --------------------------------------------------------------------------- long sequences


def step_norms(g, tdim):
    g = g.movedim(tdim, 0)
    return g.reshape(g.shape[0], -1).norm(dim=1)


def profile_offsets(T):
    ks, k = {0, T - 1}, 1
    while k < T:
        ks.add(k)
        k *= 2
    return sorted(ks)


def check_gradient_profile(got, expected, tdim, what, hint_faster, hint_slower, tol_decades=0.1, floor=1e-250):
    """||dh_T/dx_t|| over t must follow the reference's on a log scale (within `tol_decades`)."""
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        fail(f"{what}: d h_T / d input should be a tensor of shape {tuple(expected.shape)}")
    n_got, n_ref = step_norms(got.to(expected.dtype), tdim), step_norms(expected, tdim)
    if not torch.isfinite(n_got).all():
        t = int((~torch.isfinite(n_got)).nonzero()[0])
        fail(f"{what}: the gradient d h_T / d x_t is NaN or inf at t = {t} (the reference's is finite)")
    T = n_ref.shape[0]
    lg, lr = torch.log10(n_got.clamp_min(floor)), torch.log10(n_ref.clamp_min(floor))
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
