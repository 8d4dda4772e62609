"""The a2_gated reference (solutions/gated.py) against torch.nn.LSTMCell/LSTM/GRUCell/GRU.

Equivalence runs in float64 with torch's own state_dict loaded (strict) into ours,
and compares outputs, final states and the gradients w.r.t. the input, the
initial states and every parameter.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from solutions import gated

F64 = dict(atol=1e-10, rtol=0.0)
F32 = dict(atol=1e-5, rtol=1e-4)  # the grader's float32 tolerance
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

I, H, T = 3, 4, 5

CELLS = {"LSTMCell": (gated.LSTMCell, nn.LSTMCell), "GRUCell": (gated.GRUCell, nn.GRUCell)}
NETS = {"LSTM": (gated.LSTM, nn.LSTM), "GRU": (gated.GRU, nn.GRU)}


# --------------------------------------------------------------------------- helpers


def _pair(name, dtype=torch.float64, device="cpu", **kwargs):
    """torch's module and ours, ours holding torch's weights (strict load)."""
    ours_cls, ref_cls = {**CELLS, **NETS}[name]
    ref = ref_cls(I, H, **kwargs).to(device=device, dtype=dtype)
    ours = ours_cls(I, H, **kwargs).to(device=device, dtype=dtype)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours, ref


def _flatten(obj):
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in _flatten(item)]
    return [obj]


def _leaves(hx):
    """Fresh leaf copies of a state (tensor, tuple of tensors or None)."""
    if hx is None:
        return None
    if isinstance(hx, tuple):
        return tuple(t.detach().clone().requires_grad_(True) for t in hx)
    return hx.detach().clone().requires_grad_(True)


def _compare(ours, ref, x, hx, tol):
    """Forward and backward through both modules; compare every output and gradient."""
    results = []
    for module in (ours, ref):
        xi, hi = _leaves(x), _leaves(hx)
        outs = _flatten(module(xi, hi))
        torch.manual_seed(1)  # the same upstream gradient for both
        loss = sum((o * torch.randn_like(o)).sum() for o in outs)
        loss.backward()
        grads = [xi.grad] + [h.grad for h in _flatten(hi) if h is not None]
        grads += [p.grad for _, p in module.named_parameters()]
        results.append((outs, grads))
    (outs_a, grads_a), (outs_b, grads_b) = results
    assert len(outs_a) == len(outs_b)
    for a, b in zip(outs_a, outs_b):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, **tol)
    assert len(grads_a) == len(grads_b)
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(a, b, **tol)


def _state(name, *shape, dtype=torch.float64, device="cpu"):
    """An initial state for module `name`: (h, c) for the LSTMs, h for the GRUs."""
    n = 2 if name.startswith("LSTM") else 1
    states = tuple(torch.randn(*shape, dtype=dtype, device=device) for _ in range(n))
    return states if n == 2 else states[0]


def _cell_inputs(name, kind, dtype=torch.float64):
    shape = {"batch3": (3,), "batch1": (1,), "unbatched": ()}[kind]
    return torch.randn(*shape, I, dtype=dtype), _state(name, *shape, H, dtype=dtype)


def _seq_args(config):
    return (config.get("num_layers", 1), config.get("bidirectional", False),
            config.get("batch_first", False))


def _seq_inputs(name, kind, num_layers, bidirectional, batch_first, dtype=torch.float64,
                device="cpu"):
    D = 2 if bidirectional else 1
    if kind == "unbatched":
        x = torch.randn(T, I, dtype=dtype, device=device)
        return x, _state(name, D * num_layers, H, dtype=dtype, device=device)
    B = {"batch3": 3, "batch1": 1}[kind]
    x = torch.randn(B, T, I) if batch_first else torch.randn(T, B, I)
    return (x.to(device=device, dtype=dtype),
            _state(name, D * num_layers, B, H, dtype=dtype, device=device))


INPUT_KINDS = ["batch3", "batch1", "unbatched"]
HX = [True, False]
HX_IDS = ["state-given", "state-none"]


# --------------------------------------------------------------------------- cells


@pytest.mark.parametrize("with_hx", HX, ids=HX_IDS)
@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("name", list(CELLS))
def test_cell_matches_torch_forward_and_gradients(name, bias, kind, with_hx):
    ours, ref = _pair(name, bias=bias)
    x, hx = _cell_inputs(name, kind)
    _compare(ours, ref, x, hx if with_hx else None, F64)


@pytest.mark.parametrize("name", list(CELLS))
def test_cell_float32_matches_torch(name):
    ours, ref = _pair(name, dtype=torch.float32)
    x, hx = _cell_inputs(name, "batch3", dtype=torch.float32)
    _compare(ours, ref, x, hx, F32)


def test_lstm_cell_returns_h_and_c():
    h, c = gated.LSTMCell(I, H)(torch.randn(2, I))
    assert h.shape == c.shape == (2, H)
    h, c = gated.LSTMCell(I, H)(torch.randn(I), (torch.randn(H), torch.randn(H)))
    assert h.shape == c.shape == (H,)


# --------------------------------------------------------------------------- LSTM and GRU

NET_CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(num_layers=3, bidirectional=True),
    dict(bidirectional=True, batch_first=True),
    dict(num_layers=2, batch_first=True),
    dict(bias=False),
    dict(bias=False, num_layers=2, bidirectional=True, batch_first=True),
]
NET_IDS = ["1layer", "2layers", "3layers-bidir", "bidir-batch_first", "2layers-batch_first",
           "nobias", "nobias-2layers-bidir-batch_first"]


@pytest.mark.parametrize("with_hx", HX, ids=HX_IDS)
@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize("config", NET_CONFIGS, ids=NET_IDS)
@pytest.mark.parametrize("name", list(NETS))
def test_net_matches_torch_forward_and_gradients(name, config, kind, with_hx):
    ours, ref = _pair(name, **config)
    x, hx = _seq_inputs(name, kind, *_seq_args(config))
    _compare(ours, ref, x, hx if with_hx else None, F64)


@pytest.mark.parametrize("name", list(NETS))
def test_net_float32_matches_torch(name):
    config = dict(num_layers=2, bidirectional=True, batch_first=True)
    ours, ref = _pair(name, dtype=torch.float32, **config)
    x, hx = _seq_inputs(name, "batch3", *_seq_args(config), dtype=torch.float32)
    _compare(ours, ref, x, hx, F32)
    assert all(t.dtype == torch.float32 for t in _flatten(ours(x)))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(NETS))
def test_net_matches_torch_on_every_available_device(name, device):
    config = dict(num_layers=2, bidirectional=True)
    ours, ref = _pair(name, device=device, **config)
    x, _ = _seq_inputs(name, "batch3", *_seq_args(config), device=device)
    _compare(ours, ref, x, None, F64)  # states None: zeros created on the input's device


def test_lstm_output_and_state_shapes_batch_first():
    model = gated.LSTM(I, H, num_layers=3, bidirectional=True, batch_first=True)
    out, (h_n, c_n) = model(torch.randn(2, T, I))
    assert out.shape == (2, T, 2 * H)
    assert h_n.shape == c_n.shape == (6, 2, H)  # [D*L, B, H] even with batch_first


def test_gru_output_and_state_shapes_unbatched():
    out, h_n = gated.GRU(I, H, num_layers=2, bidirectional=True)(torch.randn(T, I))
    assert out.shape == (T, 2 * H)
    assert h_n.shape == (4, H)


@pytest.mark.parametrize("name", list(NETS))
def test_net_last_output_is_final_forward_state(name):
    """Forward direction: output[T-1] is h_n; reverse direction: output[0] is h_n_reverse."""
    model, _ = _pair(name, bidirectional=True)
    out, state = model(torch.randn(T, 2, I, dtype=torch.float64))
    h_n = state[0] if name == "LSTM" else state
    torch.testing.assert_close(out[-1, :, :H], h_n[0], **F64)
    torch.testing.assert_close(out[0, :, H:], h_n[1], **F64)


# --------------------------------------------------------------------------- what the gates do


def test_lstm_open_forget_gate_and_closed_input_gate_copy_the_cell():
    """c' = f * c + i * g: with f = 1 and i = 0 the cell state passes through unchanged."""
    cell = gated.LSTMCell(I, H).double()
    with torch.no_grad():
        cell.bias_ih[:H] = -60.0     # i -> 0
        cell.bias_ih[H:2 * H] = 60.0  # f -> 1
    c = torch.randn(2, H, dtype=torch.float64)
    for _ in range(20):
        x, h = torch.randn(2, I, dtype=torch.float64), torch.randn(2, H, dtype=torch.float64)
        h, c_next = cell(x, (h, c))
        torch.testing.assert_close(c_next, c, **F64)
        c = c_next


def test_gru_update_gate_one_copies_the_state():
    """h' = (1 - z) * n + z * h: with z = 1 the hidden state passes through unchanged."""
    cell = gated.GRUCell(I, H).double()
    with torch.no_grad():
        cell.bias_ih[H:2 * H] = 60.0  # z -> 1
    h = torch.randn(2, H, dtype=torch.float64)
    for _ in range(20):
        h_next = cell(torch.randn(2, I, dtype=torch.float64), h)
        torch.testing.assert_close(h_next, h, **F64)
        h = h_next


def test_gru_update_gate_zero_gives_the_candidate():
    """With z = 0 the new state is the candidate n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""
    cell = gated.GRUCell(I, H).double()
    with torch.no_grad():
        cell.bias_ih[H:2 * H] = -60.0  # z -> 0
    x, h = torch.randn(2, I, dtype=torch.float64), torch.randn(2, H, dtype=torch.float64)
    W_ir, _, W_in = cell.weight_ih.split(H)
    W_hr, _, W_hn = cell.weight_hh.split(H)
    b_ir, _, b_in = cell.bias_ih.split(H)
    b_hr, _, b_hn = cell.bias_hh.split(H)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    n = torch.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))
    torch.testing.assert_close(cell(x, h), n, **F64)


# --------------------------------------------------------------------------- parameters

PARAM_CASES = [
    ("LSTMCell", dict()), ("LSTMCell", dict(bias=False)), ("GRUCell", dict()),
    ("GRUCell", dict(bias=False)), ("LSTM", dict(num_layers=3, bidirectional=True)),
    ("LSTM", dict(num_layers=2, bias=False)), ("GRU", dict(num_layers=3, bidirectional=True)),
    ("GRU", dict(num_layers=2, bias=False, bidirectional=True)),
]
PARAM_IDS = ["LSTMCell", "LSTMCell-nobias", "GRUCell", "GRUCell-nobias", "LSTM-3layers-bidir",
             "LSTM-2layers-nobias", "GRU-3layers-bidir", "GRU-2layers-nobias-bidir"]


@pytest.mark.parametrize("name,config", PARAM_CASES, ids=PARAM_IDS)
def test_parameters_match_torch_names_order_shapes_and_init(name, config):
    ours_cls, ref_cls = {**CELLS, **NETS}[name]
    torch.manual_seed(3)
    ref = ref_cls(I, H, **config)
    torch.manual_seed(3)
    ours = ours_cls(I, H, **config)
    ours_sd, ref_sd = ours.state_dict(), ref.state_dict()
    assert list(ours_sd) == list(ref_sd)  # same names, same registration order
    for key in ref_sd:
        assert ours_sd[key].shape == ref_sd[key].shape, key
        # torch draws every parameter from U(-1/sqrt(H), 1/sqrt(H)) in this order
        torch.testing.assert_close(ours_sd[key], ref_sd[key], atol=0, rtol=0)


@pytest.mark.parametrize("name,config", PARAM_CASES, ids=PARAM_IDS)
def test_state_dict_loads_into_torch(name, config):
    ours_cls, ref_cls = {**CELLS, **NETS}[name]
    ours, ref = ours_cls(I, H, **config).double(), ref_cls(I, H, **config).double()
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(*((T, 2) if name in NETS else (2,)), I, dtype=torch.float64)
    for a, b in zip(_flatten(ours(x)), _flatten(ref(x))):
        torch.testing.assert_close(a, b, **F64)


@pytest.mark.parametrize(
    "config",
    [dict(), dict(bias=False), dict(num_layers=3), dict(num_layers=2, bidirectional=True),
     dict(num_layers=2, bidirectional=True, bias=False)],
    ids=["1layer", "nobias", "3layers", "2layers-bidir", "2layers-bidir-nobias"],
)
@pytest.mark.parametrize("sizes", [(3, 4), (16, 8), (1, 1)], ids=["I3-H4", "I16-H8", "I1-H1"])
def test_gru_has_three_quarters_of_lstm_parameters(sizes, config):
    """Three gate blocks (r, z, n) against the LSTM's four (i, f, g, o)."""
    def count(module):
        return sum(p.numel() for p in module.parameters())

    lstm, gru = gated.LSTM(*sizes, **config), gated.GRU(*sizes, **config)
    assert 4 * count(gru) == 3 * count(lstm)
    assert count(gru) == count(nn.GRU(*sizes, **config))
    cell_config = {k: v for k, v in config.items() if k == "bias"}
    assert 4 * count(gated.GRUCell(*sizes, **cell_config)) == \
        3 * count(gated.LSTMCell(*sizes, **cell_config))


def test_modules_use_no_torch_recurrent_kernels(monkeypatch):
    """Built from tensor ops: every torch LSTM/GRU kernel is disabled and ours still runs."""
    def boom(*args, **kwargs):
        raise AssertionError("the reference must not call torch's recurrent kernels")

    for kernel in ("lstm", "gru", "lstm_cell", "gru_cell"):
        monkeypatch.setattr(torch._VF, kernel, boom, raising=False)
        monkeypatch.setattr(torch, kernel, boom)
    for cls in (nn.LSTM, nn.GRU, nn.LSTMCell, nn.GRUCell):
        monkeypatch.setattr(cls, "forward", boom)
    x = torch.randn(T, 2, I)
    gated.LSTM(I, H, num_layers=2, bidirectional=True)(x)
    gated.GRU(I, H, num_layers=2, bidirectional=True)(x)
    gated.LSTMCell(I, H)(x[0])
    gated.GRUCell(I, H)(x[0])


# --------------------------------------------------------------------------- errors, as torch


def _raises_like_torch(call_ours, call_ref, exc):
    with pytest.raises(exc):
        call_ref()
    with pytest.raises(exc):
        call_ours()


@pytest.mark.parametrize(
    "case",
    ["input-4d", "unbatched-with-3d-state", "batched-with-2d-state", "wrong-input-size",
     "wrong-state-shape"],
)
@pytest.mark.parametrize("name", list(NETS))
def test_net_rejects_bad_shapes_like_torch(name, case):
    ours, ref = _pair(name, num_layers=2)
    x = torch.randn(T, 3, I, dtype=torch.float64)
    hx = _state(name, 2, 3, H)

    def map_state(fn):
        return tuple(fn(t) for t in hx) if isinstance(hx, tuple) else fn(hx)

    args, exc = {
        "input-4d": ((x.unsqueeze(0), None), ValueError),
        "unbatched-with-3d-state": ((x[:, 0], hx), RuntimeError),
        "batched-with-2d-state": ((x, map_state(lambda t: t[:, 0])), RuntimeError),
        "wrong-input-size": ((x[..., :2], None), RuntimeError),
        "wrong-state-shape": ((x, map_state(lambda t: t[:, :2])), RuntimeError),
    }[case]
    _raises_like_torch(lambda: ours(*args), lambda: ref(*args), exc)


@pytest.mark.parametrize("name", list(CELLS))
def test_cell_rejects_3d_input_like_torch(name):
    ours, ref = _pair(name)
    x = torch.randn(2, 3, I, dtype=torch.float64)
    _raises_like_torch(lambda: ours(x), lambda: ref(x), ValueError)


# --------------------------------------------------------------------------- the lesson text


def test_docstrings_state_the_gate_equations():
    """The starter code inherits these docstrings: they must teach the equations."""
    assert "c' = f * c + i * g" in gated.LSTMCell.__doc__
    assert "h' = o * tanh(c')" in gated.LSTMCell.__doc__
    assert "h' = (1 - z) * n + z * h" in gated.GRUCell.__doc__
    assert "r * (h W_hn^T + b_hn)" in gated.GRUCell.__doc__
    assert "3/4" in gated.__doc__
