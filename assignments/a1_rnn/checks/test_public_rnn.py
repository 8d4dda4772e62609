"""Public checks of RNNCell and RNN: against torch.nn.RNNCell / torch.nn.RNN with the same weights.

Run them with `seqgrade check a1_rnn rnn.py`. They compare values and
gradients with torch's own modules on random weights and sizes, and check
shapes and causality. The hidden checks your instructor runs are more thorough.
"""

from __future__ import annotations

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tensor, expect_tuple, fail
from grader.sandbox.wire import GradInput


def _torch_module(d, cls, dtype=torch.float64, **kwargs):
    module = cls(**kwargs).to(dtype)
    state = d.perturb_state(module, 0.6)
    module.load_state_dict(state)
    return module, state


def _expected(module, args, grads):
    """torch's outputs and gradients (w.r.t. every arg and parameter) for backward `grads`."""
    leaves = [a.clone().requires_grad_() for a in args]
    out = module(*leaves)
    outs = out if isinstance(out, tuple) else (out,)
    torch.autograd.backward(list(outs), list(grads))
    return ([o.detach() for o in outs], [a.grad for a in leaves],
            {n: p.grad.clone() for n, p in module.named_parameters()})


def _compare(sub, name, state, kwargs, args, grads, expected, what, dtype=torch.float64):
    outs, arg_grads, param_grads = expected
    what = f"{what} (compared with torch.nn.{name})"
    m = sub.build(name, state, **kwargs, dtype=dtype)
    r = sub.call(m, *[GradInput(a) for a in args], backward=grads if len(grads) > 1 else grads[0])
    got = r.value if isinstance(r.value, tuple) else (r.value,)
    got = expect_tuple(got, f"{what} result", len(outs))
    for label, g, e in zip(("output", "h_n"), got, outs):
        expect_tensor(g, f"{what}: {label}", e.shape, dtype)
        assert_close(g, e, f"{what}: {label}", dims=_dims(name, label, kwargs, e))
    for label, g, e in zip(("input", "hx"), r.input_grads, arg_grads):
        assert_grad_close(g, e, f"{what}: d loss / d {label}")
    for pname, e in param_grads.items():
        assert_grad_close(r.param_grads.get(pname), e, f"{what}: d loss / d {pname}")


def _dims(name, label, kwargs, e):
    """Names of a result's dimensions, so a message can say where it first differs."""
    if name == "RNNCell":
        return ("batch item", "feature") if e.dim() == 2 else None
    if label == "h_n":
        return ("layer*direction row", "batch item", "feature") if e.dim() == 3 else None
    if e.dim() != 3:
        return None
    return ("batch item", "time step", "feature") if kwargs.get("batch_first") else \
        ("time step", "batch item", "feature")


def _cell_case(d, nonlinearity):
    H = d.int(3, 8)
    I = H if nonlinearity == "tanh" else d.choice([i for i in range(2, 9) if i != H])
    B = d.choice([b for b in range(2, 7) if b not in (H, I)])
    kwargs = dict(input_size=I, hidden_size=H, nonlinearity=nonlinearity)
    module, state = _torch_module(d, torch.nn.RNNCell, **kwargs)
    args = (d.randn(B, I), d.randn(B, H))
    grads = (d.randn(B, H),)
    return kwargs, state, args, grads, _expected(module, args, grads)


@check(points=1, description="RNNCell matches torch.nn.RNNCell (tanh and relu): values and gradients",
       kind="values", promises=("rnncell.forward", "rnncell.params", "rnn.options", "values.tolerance"),
       targets=("RNNCell",))
def test_public_rnncell_matches_torch(sub, once):
    for nl in ("tanh", "relu"):
        kwargs, state, args, grads, expected = once(lambda d: _cell_case(d, nl), key=nl)
        _compare(sub, "RNNCell", state, kwargs, args, grads, expected, f"RNNCell(nonlinearity='{nl}')")


def _rnn_case(d, **config):
    T, B, I, H = d.distinct(4, 2, 9)
    kwargs = dict(input_size=I, hidden_size=H, **config)
    module, state = _torch_module(d, torch.nn.RNN, **kwargs)
    D = 2 if config.get("bidirectional") else 1
    L = config.get("num_layers", 1)
    x = d.randn(B, T, I) if config.get("batch_first") else d.randn(T, B, I)
    args = (x, d.randn(D * L, B, H))
    with torch.no_grad():
        out, h_n = module(*args)
    grads = (d.randn(*out.shape), d.randn(*h_n.shape))
    return kwargs, state, args, grads, _expected(module, args, grads)


CONFIGS = {
    "one_layer": dict(),
    "two_layers_bidirectional_batch_first": dict(num_layers=2, bidirectional=True, batch_first=True),
}


@check(points=1, description="RNN matches torch.nn.RNN (one layer; two layers, bidirectional, batch_first)",
       kind="values", promises=("rnn.forward", "rnn.params", "rnn.layers-directions", "layout.time-first"),
       targets=("RNN",))
def test_public_rnn_matches_torch(sub, once):
    for key, config in CONFIGS.items():
        kwargs, state, args, grads, expected = once(lambda d: _rnn_case(d, **config), key=key)
        desc = ", ".join(f"{k}={v}" for k, v in config.items())
        _compare(sub, "RNN", state, kwargs, args, grads, expected, f"RNN({desc})")


def _shape_cases(d):
    T, B, I, H = d.distinct(4, 2, 9)
    out = []
    kwargs = dict(input_size=I, hidden_size=H, num_layers=2, bidirectional=True)
    module, state = _torch_module(d, torch.nn.RNN, **kwargs)
    for what, args in (("unbatched [T, I] input with hx [D*L, H]", (d.randn(T, I), d.randn(4, H))),
                       ("unbatched [T, I] input without hx", (d.randn(T, I),)),
                       ("batch of one [T, 1, I]", (d.randn(T, 1, I),))):
        with torch.no_grad():
            out.append((what, kwargs, state, torch.float64, args, module(*args)))
    kwargs32 = dict(input_size=I, hidden_size=H, batch_first=True)
    module, state = _torch_module(d, torch.nn.RNN, dtype=torch.float32, **kwargs32)
    args = (d.randn(B, T, I, dtype=torch.float32),)
    with torch.no_grad():
        out.append(("float32 with batch_first=True", kwargs32, state, torch.float32, args, module(*args)))
    return out


@check(points=1, description="RNN shapes and dtypes: unbatched input, batch of one, float32",
       kind="shapes", promises=("rnn.unbatched", "batch.any", "dtype.float32-float64", "rnn.hx-layout"),
       targets=("RNN",))
def test_public_rnn_shapes(sub, once):
    for what, kwargs, state, dtype, args, (e_out, e_hn) in once(_shape_cases):
        m = sub.build("RNN", state, **kwargs, dtype=dtype)
        out, h_n = expect_tuple(sub.call(m, *args).value, f"RNN, {what}: result (output, h_n)", 2)
        expect_tensor(out, f"RNN, {what}: output", e_out.shape, dtype)
        expect_tensor(h_n, f"RNN, {what}: h_n", e_hn.shape, dtype)
        assert_close(out, e_out, f"RNN, {what}: output")
        assert_close(h_n, e_hn, f"RNN, {what}: h_n")


def _causal_case(d):
    T, B, I, H = d.distinct(4, 3, 9)
    kwargs = dict(input_size=I, hidden_size=H, num_layers=2)
    _, state = _torch_module(d, torch.nn.RNN, **kwargs)
    x = d.randn(T, B, I)
    t0 = d.int(1, T - 1)
    x2 = x.clone()
    x2[t0:] = d.randn(T - t0, B, I)
    return kwargs, state, x, x2, t0


@check(points=1, description="RNN is causal: the output at step t does not depend on inputs after t",
       kind="properties", promises=("rnn.forward",),
       targets=("RNN",))
def test_public_rnn_causality(sub, once):
    kwargs, state, x, x2, t0 = once(_causal_case)
    m = sub.build("RNN", state, **kwargs, dtype=torch.float64)
    out = expect_tuple(sub.call(m, x).value, "RNN result", 2)[0]
    out2 = expect_tuple(sub.call(m, x2).value, "RNN result", 2)[0]
    expect_tensor(out, "RNN output", (x.shape[0], x.shape[1], kwargs["hidden_size"]))
    diff = (out2[:t0] - out[:t0]).abs().amax(dim=(1, 2))
    if (diff > 1e-10).any():
        t = int((diff > 1e-10).nonzero()[0])
        fail(f"RNN output at step {t} changed when only inputs at steps >= {t0} changed: the output at "
             f"step t may depend on x_0..x_t only (run the recurrence forwards in time)")
