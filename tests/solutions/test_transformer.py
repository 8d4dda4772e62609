"""The a5_transformer reference (solutions/transformer.py).

The layers are compared with torch.nn.TransformerEncoderLayer / TransformerDecoderLayer
(dropout=0, batch_first=True) in float64 with torch's state_dict loaded strictly into
ours, masks converted to torch's convention (True = NOT allowed, per-head masks as
[B*nhead, L, S], key padding as *_key_padding_mask). The whole Transformer is
compared with the same model assembled from torch's layers (its state_dict loads
strictly into that assembly). Then the properties the contract promises: padding
invariance, causality, greedy decoding's output format and batch independence, and a
toy task (reversing digit strings) that a small model must learn.
"""

from __future__ import annotations

import copy
import math
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from solutions import transformer

F64 = dict(atol=1e-10, rtol=0.0)
F32 = dict(atol=1e-5, rtol=1e-4)  # the grader's float32 tolerance
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

B, S, T, E, NH, FF = 3, 5, 4, 8, 2, 16
PAD, BOS, EOS = 0, 1, 2


# --------------------------------------------------------------------------- helpers


class CountOps(TorchFunctionMode):
    """Counts every torch function / tensor method call made inside the ``with`` block."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.n += 1
        return func(*args, **(kwargs or {}))


def _leaf(t):
    return t.detach().clone().requires_grad_(True)


def _upstream(o):
    # not randn_like: it follows o's strides (torch's batch-first outputs can be views)
    return torch.randn(o.shape, dtype=o.dtype, device=o.device)


def _run_and_grad(fn, module, inputs):
    """Forward fn(*leaves), backward a fixed random projection; (output, grads by name)."""
    leaves = [_leaf(x) for x in inputs]
    out = fn(*leaves)
    torch.manual_seed(1)  # the same upstream gradient for both implementations
    (out * _upstream(out)).sum().backward()
    grads = {f"input{i}": x.grad for i, x in enumerate(leaves)}
    grads.update({name: p.grad for name, p in module.named_parameters()})
    return out, grads


def _compare(ours_fn, ours, ref_fn, ref, inputs, tol):
    out_a, grads_a = _run_and_grad(ours_fn, ours, inputs)
    out_b, grads_b = _run_and_grad(ref_fn, ref, inputs)
    assert out_a.shape == out_b.shape
    torch.testing.assert_close(out_a, out_b, **tol)
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], **tol, msg=lambda m: f"{name}: {m}")


def _keep(*shape, device="cpu"):
    """A random keep-mask (True = may attend) in which every query row keeps key 0."""
    m = torch.rand(*shape, device=device) > 0.4
    m[..., 0] = True
    return m


def _additive(keep):
    return torch.randn(keep.shape, dtype=torch.float64, device=keep.device).masked_fill(~keep, float("-inf"))


def _per_batch(mask):
    """[B, L, S] (same for every head) -> torch's [B*NH, L, S]."""
    return mask.repeat_interleave(NH, dim=0)


# ------------------------------------------------------------------ the two layers

# Each case gives (our mask, torch's keyword arguments) from the same random mask.
ENCODER_CASES = {
    "no_mask": lambda: (None, {}),
    "bool_SS": lambda: (lambda k: (k, {"src_mask": ~k}))(_keep(S, S)),
    "float_SS": lambda: (lambda m: (m, {"src_mask": m}))(_additive(_keep(S, S))),
    "key_padding_B1S": lambda: (lambda k: (k, {"src_key_padding_mask": ~k[:, 0]}))(_keep(B, 1, S)),
    "bool_BSS": lambda: (lambda k: (k, {"src_mask": ~_per_batch(k)}))(_keep(B, S, S)),
    "per_head_BhSS": lambda: (lambda k: (k, {"src_mask": ~k.reshape(B * NH, S, S)}))(_keep(B, NH, S, S)),
}


def _encoder_pair(dtype=torch.float64, device="cpu"):
    ref = nn.TransformerEncoderLayer(E, NH, FF, dropout=0.0, batch_first=True)
    ref = ref.to(device=device, dtype=dtype)
    ours = transformer.TransformerEncoderLayer(E, NH, FF).to(device=device, dtype=dtype)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours, ref


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", list(ENCODER_CASES.values()), ids=list(ENCODER_CASES))
def test_encoder_layer_matches_torch(case, device):
    ours, ref = _encoder_pair(device=device)
    mask, ref_kw = case()
    if mask is not None:
        mask = mask.to(device)
        ref_kw = {k: v.to(device) for k, v in ref_kw.items()}
    src = torch.randn(B, S, E, dtype=torch.float64, device=device)
    _compare(lambda x: ours(x, src_mask=mask), ours, lambda x: ref(x, **ref_kw), ref, (src,), F64)


def _decoder_case_causal_and_padding():
    causal = transformer.causal_mask(T)
    keep = _keep(B, 1, S)
    return (causal, keep), {"tgt_mask": ~causal, "memory_key_padding_mask": ~keep[:, 0]}


def _decoder_case_bool_3d():
    tgt, mem = _keep(B, T, T), _keep(B, T, S)
    return (tgt, mem), {"tgt_mask": ~_per_batch(tgt), "memory_mask": ~_per_batch(mem)}


def _decoder_case_per_head_float():
    tgt, mem = _additive(_keep(B, NH, T, T)), _additive(_keep(B, NH, T, S))
    return (tgt, mem), {"tgt_mask": tgt.reshape(B * NH, T, T), "memory_mask": mem.reshape(B * NH, T, S)}


DECODER_CASES = {
    "no_mask": lambda: ((None, None), {}),
    "causal_TT_and_memory_padding_B1S": _decoder_case_causal_and_padding,
    "bool_BTT_and_BTS": _decoder_case_bool_3d,
    "per_head_float_BhTT_and_BhTS": _decoder_case_per_head_float,
}


def _decoder_pair(dtype=torch.float64, device="cpu"):
    ref = nn.TransformerDecoderLayer(E, NH, FF, dropout=0.0, batch_first=True)
    ref = ref.to(device=device, dtype=dtype)
    ours = transformer.TransformerDecoderLayer(E, NH, FF).to(device=device, dtype=dtype)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours, ref


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", list(DECODER_CASES.values()), ids=list(DECODER_CASES))
def test_decoder_layer_matches_torch(case, device):
    ours, ref = _decoder_pair(device=device)
    (tgt_mask, memory_mask), ref_kw = case()
    tgt_mask = None if tgt_mask is None else tgt_mask.to(device)
    memory_mask = None if memory_mask is None else memory_mask.to(device)
    ref_kw = {k: v.to(device) for k, v in ref_kw.items()}
    tgt = torch.randn(B, T, E, dtype=torch.float64, device=device)
    memory = torch.randn(B, S, E, dtype=torch.float64, device=device)
    _compare(lambda x, m: ours(x, m, tgt_mask=tgt_mask, memory_mask=memory_mask), ours,
             lambda x, m: ref(x, m, **ref_kw), ref, (tgt, memory), F64)


def test_layers_float32_batch_size_1_match_torch():
    ours, ref = _encoder_pair(dtype=torch.float32)
    keep = _keep(1, 1, S)
    src = torch.randn(1, S, E)
    _compare(lambda x: ours(x, src_mask=keep), ours,
             lambda x: ref(x, src_key_padding_mask=~keep[:, 0]), ref, (src,), F32)
    ours, ref = _decoder_pair(dtype=torch.float32)
    causal = transformer.causal_mask(T)
    tgt, memory = torch.randn(1, T, E), torch.randn(1, S, E)
    _compare(lambda x, m: ours(x, m, tgt_mask=causal, memory_mask=keep), ours,
             lambda x, m: ref(x, m, tgt_mask=~causal, memory_key_padding_mask=~keep[:, 0]), ref,
             (tgt, memory), F32)


@pytest.mark.parametrize("kind", ["encoder", "decoder"])
def test_layer_state_dict_loads_into_torch(kind):
    if kind == "encoder":
        ours = transformer.TransformerEncoderLayer(E, NH, FF)
        ref = nn.TransformerEncoderLayer(E, NH, FF, dropout=0.0, batch_first=True)
    else:
        ours = transformer.TransformerDecoderLayer(E, NH, FF)
        ref = nn.TransformerDecoderLayer(E, NH, FF, dropout=0.0, batch_first=True)
    ref.load_state_dict(ours.state_dict(), strict=True)
    for name in ("norm1", "norm2"):
        assert getattr(ours, name).eps == 1e-5


def test_standalone_multihead_attention_matches_torch():
    """The file's own copy of a3's MultiHeadAttention (per-head weights, masks)."""
    ref = nn.MultiheadAttention(E, NH, batch_first=True).double()
    ours = transformer.MultiHeadAttention(E, NH).double()
    ours.load_state_dict(ref.state_dict(), strict=True)
    q, kv = torch.randn(B, T, E, dtype=torch.float64), torch.randn(B, S, E, dtype=torch.float64)
    keep = _keep(B, NH, T, S)
    out, weights = ours(q, kv, kv, attn_mask=keep)
    ref_out, ref_weights = ref(q, kv, kv, attn_mask=~keep.reshape(B * NH, T, S), average_attn_weights=False)
    torch.testing.assert_close(out, ref_out, **F64)
    torch.testing.assert_close(weights, ref_weights, **F64)
    keep[0, :, 1] = False  # a fully masked query row: output out_proj.bias, never NaN
    out, weights = ours(q, kv, kv, attn_mask=keep, is_causal=True)
    assert torch.isfinite(out).all() and torch.count_nonzero(weights[0, :, 1]) == 0


def test_standalone_positional_encoding_and_causal_mask():
    pe = transformer.sinusoidal_positional_encoding(6, 4, dtype=torch.float64)
    expected = torch.tensor([[f(p / 10000 ** (2 * (c // 2) / 4)) for c, f in
                              enumerate([math.sin, math.cos] * 2)] for p in range(6)], dtype=torch.float64)
    torch.testing.assert_close(pe, expected, atol=1e-12, rtol=0)
    assert torch.equal(transformer.causal_mask(3, 4), torch.tensor([[j <= i for j in range(4)] for i in range(3)]))


# ------------------------------------------------------------------ the Transformer

VS, VT, NE, ND = 11, 9, 2, 2


def _model(dtype=torch.float64, device="cpu"):
    torch.manual_seed(0)
    return transformer.Transformer(VS, VT, E, NH, NE, ND, FF).to(device=device, dtype=dtype)


def _tokens(vocab, lengths, width, device="cpu", first=None):
    """Rows of random non-pad ids, padded with 0 after each row's length."""
    ids = torch.randint(3, vocab, (len(lengths), width), device=device)
    keep = torch.arange(width, device=device) < torch.tensor(lengths, device=device)[:, None]
    ids = ids.masked_fill(~keep, PAD)
    if first is not None:
        ids[:, 0] = first
    return ids


def _batch(device="cpu"):
    src = _tokens(VS, [5, 3, 1], S, device)
    tgt_in = _tokens(VT, [4, 2, 3], T, device, first=BOS)
    return src, tgt_in


class TorchTransformer(nn.Module):
    """The contract's Transformer assembled from torch's layers, with the same names."""

    def __init__(self):
        super().__init__()
        self.src_embed = nn.Embedding(VS, E, padding_idx=0)
        self.tgt_embed = nn.Embedding(VT, E, padding_idx=0)
        self.encoder_layers = nn.ModuleList(
            nn.TransformerEncoderLayer(E, NH, FF, dropout=0.0, batch_first=True) for _ in range(NE))
        self.decoder_layers = nn.ModuleList(
            nn.TransformerDecoderLayer(E, NH, FF, dropout=0.0, batch_first=True) for _ in range(ND))
        self.generator = nn.Linear(E, VT)

    @staticmethod
    def _pe(length, dtype):
        pe = torch.zeros(length, E, dtype=torch.float64)
        for p in range(length):
            for i in range(E // 2):
                pe[p, 2 * i] = math.sin(p / 10000 ** (2 * i / E))
                pe[p, 2 * i + 1] = math.cos(p / 10000 ** (2 * i / E))
        return pe.to(dtype)

    def forward(self, src, tgt_in):
        src_pad, tgt_pad = src == PAD, tgt_in == PAD  # torch: True = ignore
        future = torch.ones(tgt_in.size(1), tgt_in.size(1), dtype=torch.bool).triu(1)
        x = self.src_embed(src) * math.sqrt(E) + self._pe(src.size(1), self.generator.weight.dtype)
        for layer in self.encoder_layers:
            x = layer(x, src_key_padding_mask=src_pad)
        y = self.tgt_embed(tgt_in) * math.sqrt(E) + self._pe(tgt_in.size(1), self.generator.weight.dtype)
        for layer in self.decoder_layers:
            y = layer(y, x, tgt_mask=future, tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
        return self.generator(y)


def test_transformer_matches_model_built_from_torch_layers():
    ours = _model()
    ref = TorchTransformer().double()
    ref.load_state_dict(ours.state_dict(), strict=True)  # the same names and shapes
    src, tgt_in = _batch()
    logits = ours(src, tgt_in)
    assert logits.shape == (B, T, VT)
    torch.manual_seed(1)
    g = _upstream(logits)
    (logits * g).sum().backward()
    ref_logits = ref(src, tgt_in)
    (ref_logits * g).sum().backward()
    torch.testing.assert_close(logits, ref_logits, **F64)
    ref_params = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, ref_params[name].grad, **F64, msg=lambda m: f"{name}: {m}")


def test_transformer_submodules_follow_contract():
    model = transformer.Transformer(VS, VT, E, NH, 3, 1, FF)
    assert isinstance(model.encoder_layers, nn.ModuleList) and len(model.encoder_layers) == 3
    assert isinstance(model.decoder_layers, nn.ModuleList) and len(model.decoder_layers) == 1
    assert isinstance(model.encoder_layers[0], transformer.TransformerEncoderLayer)
    assert isinstance(model.decoder_layers[0], transformer.TransformerDecoderLayer)
    for emb, vocab in ((model.src_embed, VS), (model.tgt_embed, VT)):
        assert emb.weight.shape == (vocab, E) and emb.padding_idx == 0
        assert torch.count_nonzero(emb.weight[0]) == 0
    assert model.generator.weight.shape == (VT, E) and model.generator.bias.shape == (VT,)


def test_appending_source_padding_does_not_change_logits():
    model = _model()
    src, tgt_in = _batch()
    logits = model(src, tgt_in)
    longer = torch.cat([src, src.new_zeros(B, 3)], dim=1)
    torch.testing.assert_close(model(longer, tgt_in), logits, **F64)


def test_appending_target_padding_does_not_change_real_positions():
    model = _model()
    src, tgt_in = _batch()
    logits = model(src, tgt_in)
    longer = torch.cat([tgt_in, tgt_in.new_zeros(B, 2)], dim=1)
    real = tgt_in != PAD
    torch.testing.assert_close(model(src, longer)[:, :T][real], logits[real], **F64)


def test_source_padding_is_masked_wherever_it_is():
    """A pad in the middle of the source is a masked key too: whatever the embedding of
    pad holds (padding_idx keeps it 0, here it is overwritten), the logits stay."""
    model = _model()
    src = torch.tensor([[3, 0, 5, 6, 0], [4, 4, 0, 0, 0]])
    tgt_in = torch.tensor([[BOS, 3, 4], [BOS, 5, 0]])
    logits = model(src, tgt_in)
    with torch.no_grad():
        model.src_embed.weight[0].normal_()
        model.tgt_embed.weight[0].normal_()
    new = model(src, tgt_in)
    torch.testing.assert_close(new[0], logits[0], **F64)
    torch.testing.assert_close(new[1, :2], logits[1, :2], **F64)  # the real target positions


def test_fully_padded_source_row_gives_finite_logits():
    model = _model()
    src, tgt_in = _batch()
    src[1] = PAD
    logits = model(src, tgt_in)
    assert torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("t", range(T))
def test_changing_target_token_changes_no_earlier_logits(t):
    model = _model()
    src, tgt_in = _batch()
    tgt_in[:, 1:] = torch.randint(3, VT, (B, T - 1))  # no padding here
    logits = model(src, tgt_in)
    changed = tgt_in.clone()
    changed[:, t] = torch.where(tgt_in[:, t] == 3, 4, 3)
    new = model(src, changed)
    torch.testing.assert_close(new[:, :t], logits[:, :t], **F64)
    assert (new[:, t] - logits[:, t]).abs().max() > 1e-6  # position t itself does see it


@pytest.mark.parametrize("device", DEVICES)
def test_transformer_float32_matches_float64(device):
    model64 = _model(device=device)
    model32 = copy.deepcopy(model64).float()
    src, tgt_in = _batch(device)
    logits = model32(src, tgt_in)
    assert logits.dtype == torch.float32
    torch.testing.assert_close(logits, model64(src, tgt_in).float(), **F32)


def test_transformer_batch_size_1_equals_its_row_in_a_batch():
    model = _model()
    src, tgt_in = _batch()
    logits = model(src, tgt_in)
    for b in range(B):
        torch.testing.assert_close(model(src[b:b + 1], tgt_in[b:b + 1])[0], logits[b], **F64)


def test_transformer_forward_op_count_independent_of_sizes():
    model = _model()

    def ops(batch, src_len, tgt_len):
        src = torch.randint(1, VS, (batch, src_len))
        tgt = torch.randint(1, VT, (batch, tgt_len))
        with CountOps() as c:
            model(src, tgt)
        return c.n

    assert ops(1, 1, 1) == ops(4, 9, 6)


# ------------------------------------------------------------------ greedy decoding


def _reference_greedy(model, src, max_len):
    """Greedy decoding written plainly: one row at a time, source padding stripped,
    the full forward pass at every step."""
    rows = []
    for b in range(src.size(0)):
        row_src = src[b:b + 1, : int((src[b] != PAD).sum())]
        ys = [BOS]
        for _ in range(max_len):
            logits = model(row_src, torch.tensor([ys], device=src.device))
            ys.append(int(logits[0, -1].argmax()))
            if ys[-1] == EOS:
                break
        rows.append(ys[1:])
    width = max(len(r) for r in rows)
    out = torch.zeros(len(rows), width, dtype=torch.long, device=src.device)
    for b, r in enumerate(rows):
        out[b, : len(r)] = torch.tensor(r, dtype=torch.long)
    return out


def _model_with_eos_sometimes(device="cpu"):
    """A random model whose EOS logit is raised so that rows end at different steps."""
    model = _model(device=device).eval()
    src = _tokens(VS, [5, 3, 1, 4, 2, 5], S, device)
    with torch.no_grad():
        logits = model(src, _tokens(VT, [4] * 6, T, device, first=BOS))
        others = torch.cat([logits[..., :EOS], logits[..., EOS + 1:]], dim=-1).amax(-1)
        gap = (others - logits[..., EOS]).flatten().quantile(0.25)  # EOS wins about 1 step in 4
        model.generator.bias[EOS] += gap
    return model, src


@pytest.mark.parametrize("device", DEVICES)
def test_greedy_decode_equals_row_by_row_reference(device):
    model, src = _model_with_eos_sometimes(device)
    max_len = 7
    out = model.greedy_decode(src, max_len, BOS, EOS)
    expected = _reference_greedy(model, src, max_len)
    assert torch.equal(out, expected)
    lengths = [int((r != PAD).sum()) for r in expected]
    assert len(set(lengths)) > 1  # the test is meaningful: rows end at different steps


def test_greedy_decode_output_format():
    model, src = _model_with_eos_sometimes()
    max_len = 7
    out = model.greedy_decode(src, max_len, BOS, EOS)
    assert out.dtype == torch.long and out.dim() == 2 and out.size(0) == src.size(0)
    assert 1 <= out.size(1) <= max_len
    assert not out.requires_grad
    lengths = []
    for row in out.tolist():
        if EOS in row:
            end = row.index(EOS) + 1  # EOS is kept
            assert all(tok == PAD for tok in row[end:])  # pad after it
            lengths.append(end)
        else:
            assert len(row) == max_len  # a row without EOS ran until max_len
            lengths.append(max_len)
    assert out.size(1) == max(lengths)  # as wide as the longest row


def test_greedy_decode_stops_when_every_row_has_finished():
    model = _model().eval()
    src, _ = _batch()
    with torch.no_grad():
        model.generator.bias[EOS] = 1e3
    out = model.greedy_decode(src, 6, BOS, EOS)
    assert torch.equal(out, torch.full((B, 1), EOS))


@pytest.mark.parametrize("max_len", [0, 1, 5])
def test_greedy_decode_stops_at_max_len(max_len):
    model = _model().eval()
    src, _ = _batch()
    with torch.no_grad():
        model.generator.bias[5] = 1e3
    out = model.greedy_decode(src, max_len, BOS, EOS)
    assert torch.equal(out, torch.full((B, max_len), 5))


def test_greedy_decode_agrees_with_teacher_forced_forward():
    """Each decoded token is the arg-max of forward() fed the decoded prefix."""
    model, src = _model_with_eos_sometimes()
    out = model.greedy_decode(src, 7, BOS, EOS)
    tgt_in = torch.cat([torch.full((src.size(0), 1), BOS), out[:, :-1]], dim=1)
    tgt_in = tgt_in.masked_fill(tgt_in == EOS, PAD)  # what follows EOS is padding
    pred = model(src, tgt_in).argmax(-1)
    real = (out != PAD)
    assert torch.equal(pred[real], out[real])


def test_greedy_decode_is_the_same_in_train_and_eval_mode():
    model, src = _model_with_eos_sometimes()
    out_eval = model.eval().greedy_decode(src, 7, BOS, EOS)
    assert torch.equal(model.train().greedy_decode(src, 7, BOS, EOS), out_eval)


def test_greedy_decode_op_count_independent_of_batch_size():
    model = _model().eval()
    with torch.no_grad():
        model.generator.bias[5] = 1e3  # never EOS: always max_len steps

    def ops(batch, src_len):
        src = torch.randint(3, VS, (batch, src_len))
        with CountOps() as c:
            model.greedy_decode(src, 4, BOS, EOS)
        return c.n

    assert ops(1, 2) == ops(5, 7)


# ------------------------------------------------------------------ toy task

DIGITS = range(3, 13)  # ids 3..12 are the digits 0..9; 0 pad, 1 BOS, 2 EOS
TOY_VOCAB, TOY_MIN, TOY_MAX = 13, 3, 8


def _reversal_batch(n, generator):
    """(src [n, 8], tgt_in [n, 9], tgt_out [n, 9]): tgt_out is src reversed, then EOS."""
    lengths = torch.randint(TOY_MIN, TOY_MAX + 1, (n,), generator=generator)
    digits = torch.randint(DIGITS.start, DIGITS.stop, (n, TOY_MAX), generator=generator)
    pos = torch.arange(TOY_MAX)
    real = pos < lengths[:, None]
    src = digits.masked_fill(~real, PAD)
    backwards = (lengths[:, None] - 1 - pos).clamp(min=0)  # (n, 8): index of the mirrored digit
    reversed_ = digits.gather(1, backwards).masked_fill(~real, PAD)
    tgt_out = torch.cat([reversed_, reversed_.new_zeros(n, 1)], dim=1)
    tgt_out[torch.arange(n), lengths] = EOS
    tgt_in = torch.cat([torch.full((n, 1), BOS), tgt_out[:, :-1]], dim=1)
    tgt_in = tgt_in.masked_fill(tgt_in == EOS, PAD)
    return src, tgt_in, tgt_out


@pytest.mark.slow
def test_transformer_learns_to_reverse_digit_strings():
    """A 2+2-layer model of width 32 trained for 500 steps of 64 examples reverses held-out
    strings of 3 to 8 digits with >= 95% token accuracy under greedy decoding (6 seeds
    tried gave 99.9-100%, this one 99.9%; about 8 s of CPU time on one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.process_time()  # CPU time: the machine may be shared
        torch.manual_seed(0)
        train_gen = torch.Generator().manual_seed(0)
        model = transformer.Transformer(TOY_VOCAB, TOY_VOCAB, 32, 4, 2, 2, 64)
        steps = 500
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.1)
        for _ in range(steps):
            src, tgt_in, tgt_out = _reversal_batch(64, train_gen)
            logits = model(src, tgt_in)
            loss = F.cross_entropy(logits.reshape(-1, TOY_VOCAB), tgt_out.reshape(-1), ignore_index=PAD)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        src, _, tgt_out = _reversal_batch(500, torch.Generator().manual_seed(1234))
        out = model.greedy_decode(src, TOY_MAX + 2, BOS, EOS)
        elapsed = time.process_time() - start
    finally:
        torch.set_num_threads(threads)
    pred = out.new_zeros(tgt_out.shape)
    width = min(out.size(1), tgt_out.size(1))
    pred[:, :width] = out[:, :width]
    scored = tgt_out != PAD  # the digits and the EOS
    accuracy = ((pred == tgt_out) & scored).sum().item() / scored.sum().item()
    assert accuracy >= 0.95, f"token accuracy {accuracy:.3f} after {elapsed:.1f} s of CPU"
    assert elapsed < 60, f"training took {elapsed:.1f} s of CPU, meant to take ~8"
