"""The a1_rnn reference (solutions/rnn.py) against torch.nn.RNNCell / torch.nn.RNN and autograd.

Equivalence runs in float64 with torch's own state_dict loaded (strict) into ours,
and compares outputs, final states and the gradients w.r.t. the input, the
initial state and every parameter.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from solutions import rnn

F64 = dict(atol=1e-10, rtol=0.0)
F32 = dict(atol=1e-5, rtol=1e-4)  # the grader's float32 tolerance
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

I, H, T = 3, 4, 5


# --------------------------------------------------------------------------- helpers


def _pair(ours_cls, ref_cls, dtype=torch.float64, device="cpu", **kwargs):
    """torch's module and ours, ours holding torch's weights (strict load)."""
    ref = ref_cls(I, H, **kwargs).to(device=device, dtype=dtype)
    ours = ours_cls(I, H, **kwargs).to(device=device, dtype=dtype)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours, ref


def _leaf(t):
    return None if t is None else t.detach().clone().requires_grad_(True)


def _compare(ours, ref, x, hx, tol):
    """Forward and backward through both modules; compare every output and gradient."""
    results = []
    for module in (ours, ref):
        xi, hi = _leaf(x), _leaf(hx)
        out = module(xi, hi)
        outs = out if isinstance(out, tuple) else (out,)
        torch.manual_seed(1)  # the same upstream gradient for both
        loss = sum((o * torch.randn_like(o)).sum() for o in outs)
        loss.backward()
        grads = [xi.grad] + ([] if hi is None else [hi.grad])
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


def _cell_inputs(kind, dtype=torch.float64, device="cpu"):
    """(input, hx) for a cell: batched B=3, batch size 1, or unbatched; hx given or None."""
    shape = {"batch3": (3,), "batch1": (1,), "unbatched": ()}[kind]
    x = torch.randn(*shape, I, dtype=dtype, device=device)
    hx = torch.randn(*shape, H, dtype=dtype, device=device)
    return x, hx


def _seq_inputs(kind, num_layers, bidirectional, batch_first, dtype=torch.float64, device="cpu"):
    """(input, hx) for a sequence module in the caller's layout."""
    D = 2 if bidirectional else 1
    if kind == "unbatched":
        return (torch.randn(T, I, dtype=dtype, device=device),
                torch.randn(D * num_layers, H, dtype=dtype, device=device))
    B = {"batch3": 3, "batch1": 1}[kind]
    x = torch.randn(B, T, I) if batch_first else torch.randn(T, B, I)
    hx = torch.randn(D * num_layers, B, H)
    return x.to(device=device, dtype=dtype), hx.to(device=device, dtype=dtype)


INPUT_KINDS = ["batch3", "batch1", "unbatched"]
HX = [True, False]
HX_IDS = ["hx-given", "hx-none"]


# --------------------------------------------------------------------------- RNNCell

CELL_CONFIGS = [
    dict(),
    dict(nonlinearity="relu"),
    dict(bias=False),
    dict(bias=False, nonlinearity="relu"),
]
CELL_IDS = ["tanh", "relu", "tanh-nobias", "relu-nobias"]


@pytest.mark.parametrize("with_hx", HX, ids=HX_IDS)
@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize("config", CELL_CONFIGS, ids=CELL_IDS)
def test_rnn_cell_matches_torch_forward_and_gradients(config, kind, with_hx):
    ours, ref = _pair(rnn.RNNCell, nn.RNNCell, **config)
    x, hx = _cell_inputs(kind)
    _compare(ours, ref, x, hx if with_hx else None, F64)


def test_rnn_cell_unbatched_returns_hidden_vector():
    cell = rnn.RNNCell(I, H)
    assert cell(torch.randn(I)).shape == (H,)
    assert cell(torch.randn(I), torch.randn(H)).shape == (H,)


# --------------------------------------------------------------------------- RNN

RNN_CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(num_layers=3, bidirectional=True),
    dict(bidirectional=True, batch_first=True),
    dict(num_layers=2, batch_first=True),
    dict(nonlinearity="relu", num_layers=2),
    dict(nonlinearity="relu", bidirectional=True, batch_first=True),
    dict(bias=False, num_layers=2, bidirectional=True),
]
RNN_IDS = ["1layer", "2layers", "3layers-bidir", "bidir-batch_first", "2layers-batch_first",
           "relu-2layers", "relu-bidir-batch_first", "nobias-2layers-bidir"]


def _seq_args(config):
    return config.get("num_layers", 1), config.get("bidirectional", False), \
        config.get("batch_first", False)


@pytest.mark.parametrize("with_hx", HX, ids=HX_IDS)
@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize("config", RNN_CONFIGS, ids=RNN_IDS)
def test_rnn_matches_torch_forward_and_gradients(config, kind, with_hx):
    ours, ref = _pair(rnn.RNN, nn.RNN, **config)
    x, hx = _seq_inputs(kind, *_seq_args(config))
    _compare(ours, ref, x, hx if with_hx else None, F64)


@pytest.mark.parametrize("config", [dict(), dict(num_layers=2, bidirectional=True,
                                                  batch_first=True, nonlinearity="relu")],
                         ids=["default", "2layers-bidir-batch_first-relu"])
def test_rnn_float32_matches_torch(config):
    ours, ref = _pair(rnn.RNN, nn.RNN, dtype=torch.float32, **config)
    x, hx = _seq_inputs("batch3", *_seq_args(config), dtype=torch.float32)
    _compare(ours, ref, x, hx, F32)
    out, h_n = ours(x)
    assert out.dtype == h_n.dtype == torch.float32


def test_rnn_cell_float32_matches_torch():
    ours, ref = _pair(rnn.RNNCell, nn.RNNCell, dtype=torch.float32)
    x, hx = _cell_inputs("batch3", dtype=torch.float32)
    _compare(ours, ref, x, hx, F32)


@pytest.mark.parametrize("device", DEVICES)
def test_rnn_matches_torch_on_every_available_device(device):
    config = dict(num_layers=2, bidirectional=True)
    ours, ref = _pair(rnn.RNN, nn.RNN, device=device, **config)
    x, _ = _seq_inputs("batch3", *_seq_args(config), device=device)
    _compare(ours, ref, x, None, F64)  # hx None: zeros created on the input's device


@pytest.mark.parametrize("with_hx", HX, ids=HX_IDS)
def test_rnn_output_and_h_n_shapes(with_hx):
    model = rnn.RNN(I, H, num_layers=3, bidirectional=True, batch_first=True)
    x = torch.randn(2, T, I)
    out, h_n = model(x, torch.randn(6, 2, H) if with_hx else None)
    assert out.shape == (2, T, 2 * H)
    assert h_n.shape == (6, 2, H)  # [D*L, B, H] even with batch_first


def test_rnn_stacked_layers_read_previous_layer_output():
    """A 2-layer RNN equals two 1-layer RNNs chained, the second reading the first's output."""
    deep = rnn.RNN(I, H, num_layers=2, bidirectional=True).double()
    first = rnn.RNN(I, H, bidirectional=True).double()
    second = rnn.RNN(2 * H, H, bidirectional=True).double()
    sd = deep.state_dict()
    first.load_state_dict({k: v for k, v in sd.items() if "_l0" in k})
    second.load_state_dict({k.replace("_l1", "_l0"): v for k, v in sd.items() if "_l1" in k})
    x = torch.randn(T, 2, I, dtype=torch.float64)
    out, h_n = deep(x)
    mid, h1 = first(x)
    out2, h2 = second(mid)
    torch.testing.assert_close(out, out2, **F64)
    torch.testing.assert_close(h_n, torch.cat([h1, h2]), **F64)


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "ours_cls,ref_cls,config",
    [(rnn.RNNCell, nn.RNNCell, dict()), (rnn.RNNCell, nn.RNNCell, dict(bias=False)),
     (rnn.RNN, nn.RNN, dict(num_layers=3, bidirectional=True)),
     (rnn.RNN, nn.RNN, dict(num_layers=2, bias=False, nonlinearity="relu"))],
    ids=["cell", "cell-nobias", "rnn-3layers-bidir", "rnn-2layers-nobias"],
)
def test_parameters_match_torch_names_order_shapes_and_init(ours_cls, ref_cls, config):
    torch.manual_seed(3)
    ref = ref_cls(I, H, **config)
    torch.manual_seed(3)
    ours = ours_cls(I, H, **config)
    ours_sd, ref_sd = ours.state_dict(), ref.state_dict()
    assert list(ours_sd) == list(ref_sd)  # same names, same registration order
    for name in ref_sd:
        assert ours_sd[name].shape == ref_sd[name].shape, name
        # torch draws every parameter from U(-1/sqrt(H), 1/sqrt(H)) in this order
        torch.testing.assert_close(ours_sd[name], ref_sd[name], atol=0, rtol=0)


def test_rnn_state_dict_loads_into_torch():
    ours = rnn.RNN(I, H, num_layers=2, bidirectional=True, batch_first=True).double()
    ref = nn.RNN(I, H, num_layers=2, bidirectional=True, batch_first=True).double()
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, T, I, dtype=torch.float64)
    for a, b in zip(ours(x), ref(x)):
        torch.testing.assert_close(a, b, **F64)


def test_rnn_cell_state_dict_loads_into_torch():
    ours = rnn.RNNCell(I, H, nonlinearity="relu").double()
    ref = nn.RNNCell(I, H, nonlinearity="relu").double()
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, I, dtype=torch.float64)
    torch.testing.assert_close(ours(x), ref(x), **F64)


def test_modules_use_no_torch_recurrent_kernels(monkeypatch):
    """Built from tensor ops: every torch RNN kernel is disabled and ours still runs."""
    def boom(*args, **kwargs):
        raise AssertionError("the reference must not call torch's RNN kernels")

    for name in ("rnn_tanh", "rnn_relu", "rnn_tanh_cell", "rnn_relu_cell"):
        monkeypatch.setattr(torch._VF, name, boom, raising=False)
        monkeypatch.setattr(torch, name, boom)
    monkeypatch.setattr(nn.RNN, "forward", boom)
    monkeypatch.setattr(nn.RNNCell, "forward", boom)
    rnn.RNN(I, H, num_layers=2, bidirectional=True)(torch.randn(T, 2, I))
    rnn.RNNCell(I, H)(torch.randn(2, I))


# --------------------------------------------------------------------------- errors, as torch


def _raises_like_torch(call_ours, call_ref, exc):
    with pytest.raises(exc):
        call_ref()
    with pytest.raises(exc):
        call_ours()


@pytest.mark.parametrize(
    "case",
    ["input-4d", "unbatched-with-3d-hx", "batched-with-2d-hx", "wrong-input-size",
     "wrong-hx-shape"],
)
def test_rnn_rejects_bad_shapes_like_torch(case):
    ours, ref = _pair(rnn.RNN, nn.RNN, num_layers=2)
    x, hx = torch.randn(T, 3, I, dtype=torch.float64), torch.randn(2, 3, H, dtype=torch.float64)
    args, exc = {
        "input-4d": ((x.unsqueeze(0), None), ValueError),
        "unbatched-with-3d-hx": ((x[:, 0], hx), RuntimeError),
        "batched-with-2d-hx": ((x, hx[:, 0]), RuntimeError),
        "wrong-input-size": ((x[..., :2], None), RuntimeError),
        "wrong-hx-shape": ((x, hx[:, :2]), RuntimeError),
    }[case]
    _raises_like_torch(lambda: ours(*args), lambda: ref(*args), exc)


def test_rnn_cell_rejects_3d_input_like_torch():
    ours, ref = _pair(rnn.RNNCell, nn.RNNCell)
    x = torch.randn(2, 3, I, dtype=torch.float64)
    _raises_like_torch(lambda: ours(x), lambda: ref(x), ValueError)


@pytest.mark.parametrize("cls", [rnn.RNN, rnn.RNNCell], ids=["RNN", "RNNCell"])
def test_unknown_nonlinearity_is_rejected(cls):
    with pytest.raises(ValueError, match="nonlinearity"):
        cls(I, H, nonlinearity="sigmoid")


# --------------------------------------------------------------------------- BPTT by hand


def _bptt_inputs(T_, B, I_, H_, dtype=torch.float64):
    x = torch.randn(T_, B, I_, dtype=dtype)
    h0 = torch.randn(B, H_, dtype=dtype)
    weight_ih = torch.randn(H_, I_, dtype=dtype) / I_ ** 0.5
    weight_hh = torch.randn(H_, H_, dtype=dtype) / H_ ** 0.5
    bias = torch.randn(H_, dtype=dtype)
    return x, h0, weight_ih, weight_hh, bias


def _autograd_reference(inputs, grad_hs):
    """(hs, gradients) of rnn_forward computed by autograd, in float64."""
    leaves = [t.detach().double().requires_grad_(True) for t in inputs]
    hs, _ = rnn.rnn_forward(*leaves)
    grads = torch.autograd.grad(hs, leaves, grad_hs.double())
    return hs, grads


def test_rnn_forward_matches_torch_single_layer_tanh():
    """One bias b stands for torch's b_ih + b_hh: set b_ih = b, b_hh = 0."""
    x, h0, weight_ih, weight_hh, bias = _bptt_inputs(T, 3, I, H)
    ref = nn.RNN(I, H).double()
    ref.load_state_dict({"weight_ih_l0": weight_ih, "weight_hh_l0": weight_hh,
                         "bias_ih_l0": bias, "bias_hh_l0": torch.zeros_like(bias)})
    hs, _ = rnn.rnn_forward(x, h0, weight_ih, weight_hh, bias)
    out, h_n = ref(x, h0.unsqueeze(0))
    assert hs.shape == (T, 3, H)
    torch.testing.assert_close(hs, out, **F64)
    torch.testing.assert_close(hs[-1], h_n[0], **F64)


@pytest.mark.parametrize(
    "grad_kind", ["every-step", "last-step-only", "first-step-only"],
)
@pytest.mark.parametrize("B", [1, 3], ids=["batch1", "batch3"])
def test_rnn_backward_matches_autograd(grad_kind, B):
    inputs = _bptt_inputs(T, B, I, H)
    grad_hs = torch.randn(T, B, H, dtype=torch.float64)
    if grad_kind == "last-step-only":
        grad_hs[:-1] = 0  # a loss on the final state only: all of it must flow back in time
    elif grad_kind == "first-step-only":
        grad_hs[1:] = 0
    else:
        assert bool((grad_hs != 0).all())
    hs, expected = _autograd_reference(inputs, grad_hs)
    _, cache = rnn.rnn_forward(*inputs)
    got = rnn.rnn_backward(grad_hs, cache)
    assert len(got) == 5
    names = ["dx", "dh0", "dweight_ih", "dweight_hh", "dbias"]
    shapes = [(T, B, I), (B, H), (H, I), (H, H), (H,)]
    for name, shape, g, e in zip(names, shapes, got, expected):
        assert g.shape == shape, name
        torch.testing.assert_close(g, e, **F64, msg=lambda m, n=name: f"{n}: {m}")


@settings(max_examples=25, deadline=None, database=None)
@given(T_=st.integers(1, 6), B=st.integers(1, 3), I_=st.integers(1, 4), H_=st.integers(1, 4),
       seed=st.integers(0, 2 ** 16))
def test_rnn_backward_matches_autograd_for_any_shape(T_, B, I_, H_, seed):
    torch.manual_seed(seed)
    inputs = _bptt_inputs(T_, B, I_, H_)
    grad_hs = torch.randn(T_, B, H_, dtype=torch.float64)
    _, expected = _autograd_reference(inputs, grad_hs)
    _, cache = rnn.rnn_forward(*inputs)
    for g, e in zip(rnn.rnn_backward(grad_hs, cache), expected):
        torch.testing.assert_close(g, e, **F64)


def test_rnn_backward_float32_close_to_float64_autograd():
    inputs = _bptt_inputs(T, 3, I, H, dtype=torch.float32)
    grad_hs = torch.randn(T, 3, H)
    _, expected = _autograd_reference(inputs, grad_hs)
    _, cache = rnn.rnn_forward(*inputs)
    for g, e in zip(rnn.rnn_backward(grad_hs, cache), expected):
        assert g.dtype == torch.float32
        torch.testing.assert_close(g, e.float(), **F32)


def test_rnn_backward_uses_no_autograd(monkeypatch):
    """With autograd's entry points disabled rnn_backward still works and returns plain tensors."""
    inputs = [t.requires_grad_(True) for t in _bptt_inputs(T, 2, I, H)]
    hs, cache = rnn.rnn_forward(*inputs)
    grad_hs = torch.randn_like(hs)

    def boom(*args, **kwargs):
        raise AssertionError("rnn_backward must not call autograd")

    monkeypatch.setattr(torch.autograd, "grad", boom)
    monkeypatch.setattr(torch.autograd, "backward", boom)
    monkeypatch.setattr(torch.Tensor, "backward", boom)
    for g in rnn.rnn_backward(grad_hs, cache):
        assert not g.requires_grad
        assert g.grad_fn is None


def test_rnn_forward_is_differentiable_by_autograd():
    """The forward stays an ordinary autograd graph (the backward test relies on it)."""
    inputs = [t.requires_grad_(True) for t in _bptt_inputs(T, 2, I, H)]
    hs, _ = rnn.rnn_forward(*inputs)
    assert hs.requires_grad
