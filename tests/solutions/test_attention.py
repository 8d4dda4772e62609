"""The a3_attention reference (solutions/attention.py).

MultiHeadAttention is compared with torch.nn.MultiheadAttention(batch_first=True) and
scaled_dot_product_attention with F.scaled_dot_product_attention, in float64 with the
same weights (torch's state_dict loaded strictly into ours), outputs, per-head weights
and gradients. Masks are converted to torch's conventions: our boolean masks say
True = may attend, torch's MultiheadAttention says True = not allowed, and wants a
per-head mask as [B*num_heads, L, S]. The Bahdanau / Luong scores are compared with
the formulas written out element by element.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.overrides import TorchFunctionMode

from solutions import attention

F64 = dict(atol=1e-10, rtol=0.0)
F32 = dict(atol=1e-5, rtol=1e-4)  # the grader's float32 tolerance
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

B, L, S, E, NH = 3, 4, 5, 8, 2


# --------------------------------------------------------------------------- helpers


class CountOps(TorchFunctionMode):
    """Counts every torch function / tensor method call made inside the ``with`` block."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.n += 1
        return func(*args, **(kwargs or {}))


def _count_ops(fn, *args, **kwargs) -> int:
    with CountOps() as counter:
        fn(*args, **kwargs)
    return counter.n


def _leaf(t):
    return t.detach().clone().requires_grad_(True)


def _random_bool_mask(*shape, device="cpu"):
    """A random keep-mask (True = may attend) in which every query row keeps key 0."""
    m = torch.rand(*shape, device=device) > 0.4
    m[..., 0] = True
    return m


def _float_mask(keep: torch.Tensor, dtype=torch.float64) -> torch.Tensor:
    """The float (additive) form of a keep-mask, plus some finite noise."""
    noise = torch.randn(keep.shape, dtype=dtype, device=keep.device)
    return noise.masked_fill(~keep, float("-inf"))


def _mha_pair(bias=True, dtype=torch.float64, device="cpu"):
    ref = nn.MultiheadAttention(E, NH, bias=bias, batch_first=True).to(device=device, dtype=dtype)
    ours = attention.MultiHeadAttention(E, NH, bias=bias).to(device=device, dtype=dtype)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours, ref


def _mha_inputs(dtype=torch.float64, device="cpu", batch=B, self_attn=False):
    q = torch.randn(batch, L, E, dtype=dtype, device=device)
    if self_attn:
        return q, q, q
    k = torch.randn(batch, S, E, dtype=dtype, device=device)
    v = torch.randn(batch, S, E, dtype=dtype, device=device)
    return q, k, v


def _upstream(o):
    # not randn_like: that follows o's strides, and torch's batch-first outputs are
    # transposed views, so the same seed would give a different logical tensor
    return torch.randn(o.shape, dtype=o.dtype, device=o.device)


def _run_and_grad(fn, module, inputs):
    """Forward fn(*leaves); backward a fixed random projection of every output."""
    leaves = [_leaf(x) for x in inputs]
    outs = fn(*leaves)
    torch.manual_seed(1)  # the same upstream gradient for both implementations
    loss = sum((o * _upstream(o)).sum() for o in outs)
    loss.backward()
    grads = [torch.zeros_like(x) if x.grad is None else x.grad for x in leaves]
    if module is not None:
        grads += [p.grad for _, p in module.named_parameters()]
    return outs, grads


def _assert_all_close(a_list, b_list, tol):
    assert len(a_list) == len(b_list)
    for a, b in zip(a_list, b_list):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, **tol)


# ------------------------------------------------------------------ MultiHeadAttention

# Each case: (ours_kwargs, torch_kwargs) built from the same random masks, torch's
# masks in torch's convention (True = NOT allowed, per-head as [B*NH, L, S]).


def _case_none(device):
    return {}, {}


def _case_bool_2d(device):
    keep = _random_bool_mask(L, S, device=device)
    return {"attn_mask": keep}, {"attn_mask": ~keep}


def _case_float_2d(device):
    m = _float_mask(_random_bool_mask(L, S, device=device))
    return {"attn_mask": m}, {"attn_mask": m}


def _case_bool_3d(device):
    keep = _random_bool_mask(B, L, S, device=device)
    return {"attn_mask": keep}, {"attn_mask": ~keep.repeat_interleave(NH, dim=0)}


def _case_float_3d(device):
    m = _float_mask(_random_bool_mask(B, L, S, device=device))
    return {"attn_mask": m}, {"attn_mask": m.repeat_interleave(NH, dim=0)}


def _case_key_padding(device):
    keep = _random_bool_mask(B, 1, S, device=device)  # a padding mask over the keys
    return {"attn_mask": keep}, {"key_padding_mask": ~keep[:, 0]}


def _case_per_head(device):
    keep = _random_bool_mask(B, NH, L, S, device=device)
    return {"attn_mask": keep}, {"attn_mask": ~keep.reshape(B * NH, L, S)}


def _case_per_head_float(device):
    m = _float_mask(_random_bool_mask(B, NH, L, S, device=device))
    return {"attn_mask": m}, {"attn_mask": m.reshape(B * NH, L, S)}


def _case_causal(device):
    # torch's is_causal is only a hint that needs the mask itself
    return {"is_causal": True}, {"attn_mask": ~attention.causal_mask(L, S, device=device)}


def _case_causal_and_mask(device):
    keep = _random_bool_mask(B, L, S, device=device)
    both = keep & attention.causal_mask(L, S, device=device)
    return ({"attn_mask": keep, "is_causal": True},
            {"attn_mask": ~both.repeat_interleave(NH, dim=0)})


def _case_causal_and_float_mask(device):
    m = _float_mask(_random_bool_mask(L, S, device=device))
    both = m.masked_fill(~attention.causal_mask(L, S, device=device), float("-inf"))
    return {"attn_mask": m, "is_causal": True}, {"attn_mask": both}


MHA_CASES = {
    "no_mask": _case_none,
    "bool_LS": _case_bool_2d,
    "float_LS": _case_float_2d,
    "bool_BLS": _case_bool_3d,
    "float_BLS": _case_float_3d,
    "key_padding_B1S": _case_key_padding,
    "per_head_bool_BhLS": _case_per_head,
    "per_head_float_BhLS": _case_per_head_float,
    "is_causal": _case_causal,
    "is_causal_and_bool_mask": _case_causal_and_mask,
    "is_causal_and_float_mask": _case_causal_and_float_mask,
}


def _compare_mha(ours, ref, inputs, ours_kw, ref_kw, tol):
    def run_ours(q, k, v):
        return ours(q, k, v, **ours_kw)

    def run_ref(q, k, v):
        return ref(q, k, v, need_weights=True, average_attn_weights=False, **ref_kw)

    outs_a, grads_a = _run_and_grad(run_ours, ours, inputs)
    outs_b, grads_b = _run_and_grad(run_ref, ref, inputs)
    _assert_all_close(outs_a, outs_b, tol)
    _assert_all_close(grads_a, grads_b, tol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", list(MHA_CASES.values()), ids=list(MHA_CASES))
def test_multihead_attention_matches_torch_with_masks(case, device):
    ours, ref = _mha_pair(device=device)
    inputs = _mha_inputs(device=device)
    ours_kw, ref_kw = case(device)
    out, weights = ours(*inputs, **ours_kw)
    assert out.shape == (B, L, E)
    assert weights.shape == (B, NH, L, S)  # per head, not averaged
    _compare_mha(ours, ref, inputs, ours_kw, ref_kw, F64)


@pytest.mark.parametrize(
    "bias, batch, self_attn",
    [(False, B, False), (True, 1, False), (True, B, True)],
    ids=["no_bias", "batch_size_1", "self_attention"],
)
def test_multihead_attention_matches_torch_variants(bias, batch, self_attn):
    ours, ref = _mha_pair(bias=bias)
    inputs = _mha_inputs(batch=batch, self_attn=self_attn)
    _compare_mha(ours, ref, inputs, {}, {}, F64)


def test_multihead_attention_float32_matches_torch():
    ours, ref = _mha_pair(dtype=torch.float32)
    inputs = _mha_inputs(dtype=torch.float32)
    keep = _random_bool_mask(B, 1, S)
    _compare_mha(ours, ref, inputs, {"attn_mask": keep}, {"key_padding_mask": ~keep[:, 0]}, F32)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_multihead_attention_parameters_have_torch_layout(bias):
    ours = attention.MultiHeadAttention(E, NH, bias=bias)
    expected = {"in_proj_weight": (3 * E, E), "out_proj.weight": (E, E)}
    if bias:
        expected.update({"in_proj_bias": (3 * E,), "out_proj.bias": (E,)})
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == expected
    # and ours loads into torch's, strictly
    ref = nn.MultiheadAttention(E, NH, bias=bias, batch_first=True)
    ref.load_state_dict(ours.state_dict(), strict=True)


def test_multihead_attention_initialisation_follows_torch():
    ours = attention.MultiHeadAttention(E, NH)
    bound = math.sqrt(6.0 / (3 * E + E))  # xavier_uniform_ of a [3E, E] matrix
    assert ours.in_proj_weight.abs().max() <= bound
    assert ours.in_proj_weight.std() > bound / 4  # not left at zero
    assert torch.count_nonzero(ours.in_proj_bias) == 0
    assert torch.count_nonzero(ours.out_proj.bias) == 0


def test_multihead_attention_fully_masked_row_outputs_out_proj_bias():
    ours, _ = _mha_pair()
    with torch.no_grad():
        ours.out_proj.bias.normal_()
    q, k, v = (_leaf(x) for x in _mha_inputs())
    keep = _random_bool_mask(B, NH, L, S)
    keep[1, :, 2] = False  # every head of query 2 of item 1 sees nothing
    keep[0, 1, 3] = False  # only head 1 of query 3 of item 0 sees nothing
    out, weights = ours(q, k, v, attn_mask=keep)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    torch.testing.assert_close(out[1, 2], ours.out_proj.bias.detach(), **F64)
    assert torch.count_nonzero(weights[1, :, 2]) == 0
    assert torch.count_nonzero(weights[0, 1, 3]) == 0
    torch.testing.assert_close(weights[0, 0, 3].sum(), torch.tensor(1.0, dtype=torch.float64))
    (out.sum() + weights.sum()).backward()
    for t in (q.grad, k.grad, v.grad, *(p.grad for p in ours.parameters())):
        assert torch.isfinite(t).all()


def test_multihead_attention_op_count_independent_of_sizes():
    """No Python loop over batch items, positions or heads."""

    def ops(batch, length, src_length, heads):
        module = attention.MultiHeadAttention(heads * 2, heads)
        q = torch.randn(batch, length, heads * 2)
        kv = torch.randn(batch, src_length, heads * 2)
        mask = torch.ones(batch, length, src_length, dtype=torch.bool)
        return _count_ops(module, q, kv, kv, attn_mask=mask, is_causal=True)

    base = ops(1, 1, 1, 1)
    assert ops(4, 7, 9, 3) == base
    assert ops(2, 16, 3, 8) == base


# ------------------------------------------------------- scaled_dot_product_attention


def _sdpa_inputs(dtype=torch.float64, device="cpu", length=L, src_length=S):
    q = torch.randn(B, NH, length, E, dtype=dtype, device=device)
    k = torch.randn(B, NH, src_length, E, dtype=dtype, device=device)
    v = torch.randn(B, NH, src_length, 3, dtype=dtype, device=device)
    return q, k, v


def _direct_weights(q, k, keep=None, add=None):
    """softmax(q k^T / sqrt(E)) with masked entries dropped, written out plainly."""
    scores = torch.einsum("...le,...se->...ls", q, k) / math.sqrt(q.size(-1))
    if add is not None:
        scores = scores + add
    if keep is not None:
        scores = torch.where(keep, scores, torch.full_like(scores, float("-inf")))
    return torch.softmax(scores, dim=-1)


SDPA_CASES = {
    # id: (mask kind, is_causal, src_length)
    "no_mask": (None, False, S),
    "bool_LS": ("bool_LS", False, S),
    "bool_broadcast_B11S": ("bool_B11S", False, S),
    "bool_per_head": ("bool_full", False, S),
    "float_LS": ("float_LS", False, S),
    "is_causal_square": (None, True, L),
    "is_causal_rectangular": (None, True, S),
    "is_causal_and_bool_mask": ("bool_full", True, S),
    "is_causal_and_float_mask": ("float_LS", True, S),
}


def _sdpa_masks(kind, src_length, device):
    """(ours, torch's F.sdpa mask, keep-mask for the direct formula, additive mask)."""
    if kind is None:
        return None, None, None, None
    shape = {"bool_LS": (L, src_length), "bool_B11S": (B, 1, 1, src_length),
             "bool_full": (B, NH, L, src_length), "float_LS": (L, src_length)}[kind]
    keep = _random_bool_mask(*shape, device=device)
    if kind.startswith("float"):
        m = _float_mask(keep)
        return m, m, None, m
    return keep, keep, keep, None  # F.sdpa's boolean masks also say True = may attend


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind, is_causal, src_length", list(SDPA_CASES.values()), ids=list(SDPA_CASES))
def test_sdpa_matches_torch(kind, is_causal, src_length, device):
    q, k, v = _sdpa_inputs(device=device, src_length=src_length)
    ours_mask, ref_mask, keep, add = _sdpa_masks(kind, src_length, device)
    if is_causal:
        causal = attention.causal_mask(L, src_length, device=device)
        keep = causal if keep is None else keep & causal
        if ref_mask is not None:  # torch refuses mask and is_causal together: combine them
            if ref_mask.dtype == torch.bool:
                ref_mask = ref_mask & causal
            else:
                ref_mask = ref_mask.masked_fill(~causal, float("-inf"))

    def run_ours(q, k, v):
        out, _ = attention.scaled_dot_product_attention(q, k, v, attn_mask=ours_mask, is_causal=is_causal)
        return (out,)

    def run_ref(q, k, v):
        causal_only = is_causal and ref_mask is None  # is_causal alone is fine for torch
        return (F.scaled_dot_product_attention(q, k, v, attn_mask=ref_mask, is_causal=causal_only),)

    (out_a,), grads_a = _run_and_grad(run_ours, None, (q, k, v))
    (out_b,), grads_b = _run_and_grad(run_ref, None, (q, k, v))
    assert out_a.shape == (B, NH, L, 3)
    torch.testing.assert_close(out_a, out_b, **F64)
    _assert_all_close(grads_a, grads_b, F64)
    _, weights = attention.scaled_dot_product_attention(q, k, v, attn_mask=ours_mask, is_causal=is_causal)
    assert weights.shape == (B, NH, L, src_length)
    torch.testing.assert_close(weights, _direct_weights(q, k, keep, add), **F64)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3), heads=st.integers(1, 3), length=st.integers(1, 6),
    src_length=st.integers(1, 6), dim=st.integers(1, 5), density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_sdpa_matches_torch_on_random_shapes_and_masks(batch, heads, length, src_length, dim, density, seed):
    """Any shape, any boolean mask, including rows with nothing to attend to."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, heads, length, dim, generator=g, dtype=torch.float64)
    k = torch.randn(batch, heads, src_length, dim, generator=g, dtype=torch.float64)
    v = torch.randn(batch, heads, src_length, 2, generator=g, dtype=torch.float64)
    keep = torch.rand(batch, heads, length, src_length, generator=g) < density
    out, weights = attention.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    torch.testing.assert_close(out, ref, **F64)
    dead = ~keep.any(-1)
    assert torch.count_nonzero(weights[dead]) == 0
    torch.testing.assert_close(weights.sum(-1)[~dead], torch.ones_like(weights.sum(-1)[~dead]), **F64)


@pytest.mark.parametrize(
    "make_mask",
    [
        lambda keep: keep,
        lambda keep: torch.zeros(keep.shape, dtype=torch.float64).masked_fill(~keep, float("-inf")),
    ],
    ids=["bool_mask", "float_mask_all_minus_inf"],
)
def test_sdpa_fully_masked_rows_give_zero_output_and_weights_without_nan(make_mask):
    q, k, v = (_leaf(x) for x in _sdpa_inputs())
    keep = _random_bool_mask(B, NH, L, S)
    keep[0, 1, 2] = False
    keep[2, :, 0] = False
    out, weights = attention.scaled_dot_product_attention(q, k, v, attn_mask=make_mask(keep))
    for b, h, i in [(0, 1, 2), (2, 0, 0), (2, 1, 0)]:
        assert torch.count_nonzero(out[b, h, i]) == 0
        assert torch.count_nonzero(weights[b, h, i]) == 0
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)  # torch 2.13 gives 0 too
    torch.testing.assert_close(out, ref, **F64)
    (out.sum() + weights.sum()).backward()
    for t in (q.grad, k.grad, v.grad):
        assert torch.isfinite(t).all()


def test_sdpa_fully_masked_row_from_causal_and_mask_together():
    q, k, v = _sdpa_inputs()
    keep = torch.ones(L, S, dtype=torch.bool)
    keep[:, 0] = False  # with the causal mask, query 0 (which only sees key 0) is dead
    out, weights = attention.scaled_dot_product_attention(q, k, v, attn_mask=keep, is_causal=True)
    assert torch.count_nonzero(out[..., 0, :]) == 0 and torch.count_nonzero(weights[..., 0, :]) == 0
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=keep & attention.causal_mask(L, S))
    torch.testing.assert_close(out, ref, **F64)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_sdpa_large_scores_do_not_overflow(dtype):
    """Scores of magnitude 1e4 (exp would overflow) still give a proper softmax."""
    q = torch.zeros(1, 2, 4, dtype=dtype)
    q[..., 0] = 1.0
    k = torch.zeros(1, 3, 4, dtype=dtype)
    k[0, :, 0] = torch.tensor([2e4, 1e4, -2e4], dtype=dtype)  # scores 1e4, 5e3, -1e4 after / sqrt(4)
    v = torch.randn(1, 3, 2, dtype=dtype)
    out, weights = attention.scaled_dot_product_attention(q, k, v)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    torch.testing.assert_close(weights[0, 0], torch.tensor([1.0, 0.0, 0.0], dtype=dtype))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))


def test_sdpa_float32_matches_torch():
    q, k, v = _sdpa_inputs(dtype=torch.float32)
    keep = _random_bool_mask(B, 1, L, S)
    out, _ = attention.scaled_dot_product_attention(q, k, v, attn_mask=keep, is_causal=False)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=keep), **F32)


def test_sdpa_op_count_independent_of_sizes():
    def ops(batch, heads, length, src_length):
        q = torch.randn(batch, heads, length, 4)
        k = torch.randn(batch, heads, src_length, 4)
        mask = torch.ones(length, src_length, dtype=torch.bool)
        return _count_ops(attention.scaled_dot_product_attention, q, k, k, attn_mask=mask, is_causal=True)

    assert ops(1, 1, 1, 1) == ops(5, 4, 9, 7)


# ------------------------------------------------- Bahdanau and Luong attention modules

Q, K, DQ, DK, DV, HID = 4, 6, 3, 5, 2, 7


def _qkv(dq=DQ, dk=DK, dtype=torch.float64):
    return (torch.randn(B, Q, dq, dtype=dtype), torch.randn(B, K, dk, dtype=dtype),
            torch.randn(B, K, DV, dtype=dtype))


def _direct_attention(score, queries, keys, values, keep):
    """Context and weights by the textbook formula, one (b, i, j) at a time."""
    scores = torch.full((B, Q, K), float("-inf"), dtype=queries.dtype)
    for b in range(B):
        for i in range(Q):
            for j in range(K):
                if keep is None or bool(keep.expand(B, Q, K)[b, i, j]):
                    scores[b, i, j] = score(queries[b, i], keys[b, j])
    weights = torch.softmax(scores, dim=-1)
    return torch.einsum("bqk,bkv->bqv", weights, values), weights


MASKS = {
    "no_mask": lambda: None,
    "key_padding_B1K": lambda: _random_bool_mask(B, 1, K),
    "per_query_BQK": lambda: _random_bool_mask(B, Q, K),
}


def _modules():
    additive = attention.AdditiveAttention(DQ, DK, HID).double()
    general = attention.GeneralAttention(DQ, DK).double()
    d = DQ  # the dot products need dq == dk
    return {
        "additive": (additive, (DQ, DK),
                     lambda q, k: additive.w_v.weight[0] @ torch.tanh(additive.W_q.weight @ q
                                                                        + additive.W_k.weight @ k)),
        "dot": (attention.DotProductAttention(), (d, d), lambda q, k: q @ k),
        "dot_scaled": (attention.DotProductAttention(scaled=True), (d, d),
                       lambda q, k: (q @ k) / math.sqrt(d)),
        "general": (general, (DQ, DK), lambda q, k: q @ (general.W.weight @ k)),
    }


@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("name", ["additive", "dot", "dot_scaled", "general"])
def test_score_modules_match_direct_formula(name, mask_name):
    module, (dq, dk), score = _modules()[name]
    queries, keys, values = _qkv(dq, dk)
    keep = MASKS[mask_name]()
    context, weights = module(queries, keys, values, mask=keep)
    assert context.shape == (B, Q, DV) and weights.shape == (B, Q, K)
    with torch.no_grad():
        ref_context, ref_weights = _direct_attention(score, queries, keys, values, keep)
    torch.testing.assert_close(context, ref_context, **F64)
    torch.testing.assert_close(weights, ref_weights, **F64)


@pytest.mark.parametrize("name", ["additive", "dot", "dot_scaled", "general"])
def test_score_modules_float_mask_and_fully_masked_row(name):
    module, (dq, dk), _ = _modules()[name]
    queries, keys, values = _qkv(dq, dk)
    keep = _random_bool_mask(B, Q, K)
    keep[1, 2] = False
    add = torch.zeros(B, Q, K, dtype=torch.float64).masked_fill(~keep, float("-inf"))
    for mask in (keep, add):
        context, weights = module(queries, keys, values, mask=mask)
        assert torch.isfinite(context).all() and torch.isfinite(weights).all()
        assert torch.count_nonzero(context[1, 2]) == 0 and torch.count_nonzero(weights[1, 2]) == 0
    ctx_bool, w_bool = module(queries, keys, values, mask=keep)
    torch.testing.assert_close(context, ctx_bool, **F64)
    torch.testing.assert_close(weights, w_bool, **F64)


def test_score_module_parameters_have_contract_names_and_shapes():
    additive = attention.AdditiveAttention(DQ, DK, HID)
    assert {k: tuple(v.shape) for k, v in additive.state_dict().items()} == {
        "W_q.weight": (HID, DQ), "W_k.weight": (HID, DK), "w_v.weight": (1, HID)}
    general = attention.GeneralAttention(DQ, DK)
    assert {k: tuple(v.shape) for k, v in general.state_dict().items()} == {"W.weight": (DQ, DK)}
    assert len(attention.DotProductAttention().state_dict()) == 0


def test_additive_attention_gradients_match_direct_formula():
    module, _, score = _modules()["additive"]
    q, k, v = (_leaf(x) for x in _qkv())
    keep = _random_bool_mask(B, 1, K)
    context, _ = module(q, k, v, mask=keep)
    context.sum().backward()
    got = [t.grad.clone() for t in (q, k, v, *module.parameters())]
    for t in (q, k, v, *module.parameters()):
        t.grad = None
    _direct_attention(score, q, k, v, keep)[0].sum().backward()
    want = [t.grad for t in (q, k, v, *module.parameters())]
    _assert_all_close(got, want, F64)


def test_score_modules_batch_size_1_float32():
    queries, keys, values = (x[:1].float() for x in _qkv())
    module = attention.AdditiveAttention(DQ, DK, HID)
    context, weights = module(queries, keys, values, mask=_random_bool_mask(1, 1, K))
    assert context.shape == (1, Q, DV) and context.dtype == torch.float32
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, Q))


def test_additive_attention_op_count_independent_of_sizes():
    module = attention.AdditiveAttention(DQ, DK, HID)

    def ops(batch, queries, keys):
        return _count_ops(module, torch.randn(batch, queries, DQ), torch.randn(batch, keys, DK),
                          torch.randn(batch, keys, DV), mask=torch.ones(batch, 1, keys, dtype=torch.bool))

    assert ops(1, 1, 1) == ops(4, 6, 9)


# --------------------------------------------------- causal_mask, positional encoding


@pytest.mark.parametrize("length, src_length", [(1, None), (4, None), (3, 5), (5, 2)],
                         ids=["1", "square", "wide", "tall"])
def test_causal_mask_allows_j_le_i(length, src_length):
    m = attention.causal_mask(length, src_length)
    cols = length if src_length is None else src_length
    assert m.dtype == torch.bool and m.shape == (length, cols)
    expected = torch.tensor([[j <= i for j in range(cols)] for i in range(length)])
    assert torch.equal(m, expected)


@pytest.mark.parametrize("device", DEVICES)
def test_causal_mask_device(device):
    assert attention.causal_mask(3, device=device).device.type == device


@pytest.mark.parametrize("length, d_model", [(1, 2), (7, 6), (50, 16)], ids=["1x2", "7x6", "50x16"])
def test_positional_encoding_matches_direct_loop(length, d_model):
    pe = attention.sinusoidal_positional_encoding(length, d_model, dtype=torch.float64)
    expected = torch.zeros(length, d_model, dtype=torch.float64)
    for p in range(length):
        for i in range(d_model // 2):
            expected[p, 2 * i] = math.sin(p / 10000 ** (2 * i / d_model))
            expected[p, 2 * i + 1] = math.cos(p / 10000 ** (2 * i / d_model))
    assert pe.shape == (length, d_model)
    torch.testing.assert_close(pe, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_positional_encoding_default_dtype_and_device(device):
    pe = attention.sinusoidal_positional_encoding(10, 8, device=device)
    assert pe.dtype == torch.float32 and pe.device.type == device
    ref = attention.sinusoidal_positional_encoding(10, 8, dtype=torch.float64).float()
    torch.testing.assert_close(pe.cpu(), ref, atol=0, rtol=0)
