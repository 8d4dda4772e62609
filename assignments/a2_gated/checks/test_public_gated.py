"""Public checks of LSTMCell, GRUCell, LSTM and GRU: against torch.nn's modules with the same weights.

Run them with `seqgrade check a2_gated gated.py`. They compare values and
gradients with torch's own modules on random weights and sizes, and check
shapes and causality. The hidden checks your instructor runs are more thorough.
"""

from __future__ import annotations

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tensor, expect_tuple, fail
from grader.sandbox.wire import GradInput


def _flat(v):
    if isinstance(v, (tuple, list)):
        return [t for x in v for t in _flat(x)]
    return [v]


def _torch_module(d, cls, dtype=torch.float64, **kwargs):
    module = cls(**kwargs).to(dtype)
    state = d.perturb_state(module, 0.6)
    module.load_state_dict(state)
    return module, state


def _pack(kind, states):
    return tuple(states) if kind == "LSTM" else states[0]


def _case(d, kind, cell, **config):
    T, B, I, H = d.distinct(4, 2, 8)
    kwargs = dict(input_size=I, hidden_size=H, **config)
    module, state = _torch_module(d, getattr(torch.nn, kind + ("Cell" if cell else "")), **kwargs)
    n = 2 if kind == "LSTM" else 1
    if cell:
        x, shape = d.randn(B, I), (B, H)
    else:
        D = 2 if config.get("bidirectional") else 1
        x = d.randn(B, T, I) if config.get("batch_first") else d.randn(T, B, I)
        shape = (D * config.get("num_layers", 1), B, H)
    states = [d.randn(*shape) for _ in range(n)]
    leaves = [x.clone().requires_grad_()] + [s.clone().requires_grad_() for s in states]
    out = module(leaves[0], _pack(kind, leaves[1:]))
    outs = _flat(out)
    grads = [d.randn(*o.shape) for o in outs]
    torch.autograd.backward(outs, grads)
    return dict(kwargs=kwargs, state=state, x=x, states=states, grads=grads,
                outs=[o.detach() for o in outs], arg_grads=[t.grad for t in leaves],
                param_grads={k: p.grad.clone() for k, p in module.named_parameters()})


def _structure(kind, cell, grads):
    if kind == "LSTM":
        return tuple(grads) if cell else (grads[0], tuple(grads[1:]))
    return grads[0] if cell else tuple(grads)


def _dims(label, kwargs, e):
    """Names of a result's dimensions, so a message can say where it first differs."""
    if label in ("h'", "c'"):
        return ("batch item", "feature")
    if label in ("h_n", "c_n"):
        return ("layer*direction row", "batch item", "feature")
    return ("batch item", "time step", "feature") if kwargs.get("batch_first") else \
        ("time step", "batch item", "feature")


def _compare(sub, kind, cell, c, what):
    name = kind + ("Cell" if cell else "")
    what = f"{what} (compared with torch.nn.{name})"
    m = sub.build(name, c["state"], **c["kwargs"], dtype=torch.float64)
    states = [GradInput(s) for s in c["states"]]
    r = sub.call(m, GradInput(c["x"]), _pack(kind, states), backward=_structure(kind, cell, c["grads"]))
    labels = {("LSTM", True): ("h'", "c'"), ("GRU", True): ("h'",), ("LSTM", False): ("output", "h_n", "c_n"),
              ("GRU", False): ("output", "h_n")}[kind, cell]
    value = r.value
    if kind == "LSTM" and not cell:
        out, st = expect_tuple(value, f"{what} result (output, (h_n, c_n))", 2)
        value = (out, *expect_tuple(st, f"{what}: (h_n, c_n)", 2))
    elif kind == "LSTM":
        value = expect_tuple(value, f"{what} result (h', c')", 2)
    elif not cell:
        value = expect_tuple(value, f"{what} result (output, h_n)", 2)
    got = _flat(value)
    for label, g, e in zip(labels, got, c["outs"]):
        expect_tensor(g, f"{what}: {label}", e.shape, torch.float64)
        assert_close(g, e, f"{what}: {label}", dims=_dims(label, c["kwargs"], e))
    for label, g, e in zip(("input", "h0", "c0"), r.input_grads, c["arg_grads"]):
        assert_grad_close(g, e, f"{what}: d loss / d {label}")
    for pname, e in c["param_grads"].items():
        assert_grad_close(r.param_grads.get(pname), e, f"{what}: d loss / d {pname}")


@check(points=1, description="LSTMCell matches torch.nn.LSTMCell: values and gradients",
       kind="values", promises=("gated.forward", "gated.params", "lstm.gate-order", "lstm.state-pair"),
       targets=("LSTMCell",))
def test_public_lstmcell_matches_torch(sub, once):
    _compare(sub, "LSTM", True, once(lambda d: _case(d, "LSTM", True)), "LSTMCell(x, (h, c))")


@check(points=1, description="GRUCell matches torch.nn.GRUCell: values and gradients",
       kind="values", promises=("gated.forward", "gated.params", "gru.gate-order"),
       targets=("GRUCell",))
def test_public_grucell_matches_torch(sub, once):
    _compare(sub, "GRU", True, once(lambda d: _case(d, "GRU", True)), "GRUCell(x, h)")


CONFIGS = {
    "one_layer": dict(),
    "two_layers_bidirectional_batch_first": dict(num_layers=2, bidirectional=True, batch_first=True),
}


@check(points=1, description="LSTM matches torch.nn.LSTM (one layer; two layers, bidirectional, batch_first)",
       kind="values", promises=("gated.forward", "lstm.state-pair", "gated.layers-directions", "layout.time-first"),
       targets=("LSTM",))
def test_public_lstm_matches_torch(sub, once):
    for key, config in CONFIGS.items():
        c = once(lambda d: _case(d, "LSTM", False, **config), key=key)
        _compare(sub, "LSTM", False, c, f"LSTM({', '.join(f'{k}={v}' for k, v in config.items())})")


@check(points=1, description="GRU matches torch.nn.GRU (one layer; two layers, bidirectional, batch_first)",
       kind="values", promises=("gated.forward", "gated.layers-directions", "layout.time-first"),
       targets=("GRU",))
def test_public_gru_matches_torch(sub, once):
    for key, config in CONFIGS.items():
        c = once(lambda d: _case(d, "GRU", False, **config), key=key)
        _compare(sub, "GRU", False, c, f"GRU({', '.join(f'{k}={v}' for k, v in config.items())})")


def _shape_cases(d):
    T, B, I, H = d.distinct(4, 2, 8)
    out = []
    for kind in ("LSTM", "GRU"):
        n = 2 if kind == "LSTM" else 1
        kwargs = dict(input_size=I, hidden_size=H, num_layers=2, bidirectional=True)
        module, state = _torch_module(d, getattr(torch.nn, kind), **kwargs)
        for what, args in (
                ("unbatched [T, I] input with states [D*L, H]",
                 (d.randn(T, I), _pack(kind, [d.randn(4, H) for _ in range(n)]))),
                ("unbatched [T, I] input without states", (d.randn(T, I),)),
                ("batch of one [T, 1, I]", (d.randn(T, 1, I),))):
            with torch.no_grad():
                out.append((kind, what, kwargs, state, torch.float64, args, _flat(module(*args))))
        kwargs32 = dict(input_size=I, hidden_size=H, batch_first=True)
        module, state = _torch_module(d, getattr(torch.nn, kind), dtype=torch.float32, **kwargs32)
        args = (d.randn(B, T, I, dtype=torch.float32),)
        with torch.no_grad():
            out.append((kind, "float32 with batch_first=True", kwargs32, state, torch.float32, args,
                        _flat(module(*args))))
    return out


@check(points=1, description="LSTM and GRU shapes and dtypes: unbatched input, batch of one, float32",
       kind="shapes", promises=("gated.unbatched", "batch.any", "dtype.float32-float64"),
       targets=("LSTM", "GRU"))
def test_public_shapes(sub, once):
    for kind, what, kwargs, state, dtype, args, expected in once(_shape_cases):
        m = sub.build(kind, state, **kwargs, dtype=dtype)
        value = sub.call(m, *args).value
        out, st = expect_tuple(value, f"{kind}, {what}: result", 2)
        got = [out] + (list(expect_tuple(st, f"{kind}, {what}: (h_n, c_n)", 2)) if kind == "LSTM" else [st])
        for label, g, e in zip(("output", "h_n", "c_n"), got, expected):
            expect_tensor(g, f"{kind}, {what}: {label}", e.shape, dtype)
            assert_close(g, e, f"{kind}, {what}: {label}")


def _causal_case(d, kind):
    T, B, I, H = d.distinct(4, 3, 8)
    kwargs = dict(input_size=I, hidden_size=H, num_layers=2)
    _, state = _torch_module(d, getattr(torch.nn, kind), **kwargs)
    x = d.randn(T, B, I)
    t0 = d.int(1, T - 1)
    x2 = x.clone()
    x2[t0:] = d.randn(T - t0, B, I)
    return kwargs, state, x, x2, t0


@check(points=1, description="LSTM and GRU are causal: the output at step t does not depend on inputs after t",
       kind="properties", promises=("gated.forward",),
       targets=("LSTM", "GRU"))
def test_public_causality(sub, once):
    for kind in ("LSTM", "GRU"):
        kwargs, state, x, x2, t0 = once(lambda d: _causal_case(d, kind), key=kind)
        m = sub.build(kind, state, **kwargs, dtype=torch.float64)
        out = expect_tuple(sub.call(m, x).value, f"{kind} result", 2)[0]
        out2 = expect_tuple(sub.call(m, x2).value, f"{kind} result", 2)[0]
        expect_tensor(out, f"{kind} output", (x.shape[0], x.shape[1], kwargs["hidden_size"]))
        diff = (out2[:t0] - out[:t0]).abs().amax(dim=(1, 2))
        if (diff > 1e-10).any():
            t = int((diff > 1e-10).nonzero()[0])
            fail(f"{kind} output at step {t} changed when only inputs at steps >= {t0} changed: the output at "
                 f"step t may depend on x_0..x_t only (run the recurrence forwards in time)")
