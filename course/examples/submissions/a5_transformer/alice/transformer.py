"""A correct a5_transformer written differently from the reference.

The a3 blocks are einsum based and turn every boolean mask into an additive float mask.
The layers are split into torch-style _sa_block/_mha_block/_ff_block helpers; the
Transformer builds float (-inf) masks; greedy decoding keeps a Python list of columns and
re-runs the decoder on the growing prefix.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def _additive_mask(mask, dtype):
    if mask is None:
        return None
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask.logical_not(), -math.inf)
    return mask.to(dtype)


def _softmax(scores, mask=None):
    add = _additive_mask(mask, scores.dtype)
    if add is not None:
        scores = scores + add
    top = scores.detach().amax(dim=-1, keepdim=True)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    # exp(-inf - finite) = 0, so a fully masked row is all zeros; its sum becomes 1 below
    e = torch.exp(scores - top)
    total = e.sum(dim=-1, keepdim=True)
    total = torch.where(total > 0, total, torch.ones_like(total))
    return e / total


def causal_mask(L, S=None, device=None):
    S = L if S is None else S
    return torch.arange(S, device=device)[None, :] <= torch.arange(L, device=device)[:, None]


def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False):
    L, S = query.shape[-2], key.shape[-2]
    scores = torch.einsum("...le,...se->...ls", query, key) * (1.0 / math.sqrt(query.shape[-1]))
    total = None
    if attn_mask is not None:
        total = _additive_mask(attn_mask, scores.dtype)
    if is_causal:
        c = _additive_mask(causal_mask(L, S, device=query.device), scores.dtype)
        total = c if total is None else total + c
    w = _softmax(scores, total)
    return torch.einsum("...ls,...sv->...lv", w, value), w


class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, bias=True):
        super().__init__()
        assert embed_dim % num_heads == 0
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim)) if bias else None
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def _fold(self, x, W, b):
        B, n, E = x.shape
        y = F.linear(x, W, b)
        return y.view(B, n, self.num_heads, self.head_dim).permute(0, 2, 1, 3).reshape(B * self.num_heads, n,
                                                                                         self.head_dim)

    def forward(self, query, key, value, attn_mask=None, is_causal=False):
        B, L, E = query.shape
        S = key.shape[1]
        nh = self.num_heads
        E_ = self.embed_dim
        W = self.in_proj_weight
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E_], b[E_:2 * E_], b[2 * E_:])
        q = self._fold(query, W[:E_], bq)
        k = self._fold(key, W[E_:2 * E_], bk)
        v = self._fold(value, W[2 * E_:], bv)
        mask = None
        if attn_mask is not None:
            m = attn_mask
            if m.dim() == 2:
                m = m[None, None]
            elif m.dim() == 3:
                m = m[:, None]
            mask = m.expand(B, nh, L, S).reshape(B * nh, L, S)
        ctx, w = scaled_dot_product_attention(q, k, v, mask, is_causal)
        ctx = ctx.view(B, nh, L, self.head_dim).permute(0, 2, 1, 3).reshape(B, L, E)
        return self.out_proj(ctx), w.view(B, nh, L, S)


def sinusoidal_positional_encoding(length, d_model, dtype=torch.float32, device=None):
    pe = torch.zeros(length, d_model, dtype=torch.float64, device=device)
    pos = torch.arange(length, dtype=torch.float64, device=device)[:, None]
    div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64, device=device) * (-math.log(10000.0) / d_model))
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe.to(dtype)


class TransformerEncoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_feedforward):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def _sa_block(self, x, mask):
        return self.self_attn(x, x, x, attn_mask=mask)[0]

    def _ff_block(self, x):
        return self.linear2(torch.relu(self.linear1(x)))

    def forward(self, src, src_mask=None):
        x = self.norm1(src + self._sa_block(src, src_mask))
        return self.norm2(x + self._ff_block(x))


class TransformerDecoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_feedforward):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, nhead)
        self.multihead_attn = MultiHeadAttention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)

    def _sa_block(self, x, mask):
        return self.self_attn(x, x, x, attn_mask=mask)[0]

    def _mha_block(self, x, mem, mask):
        return self.multihead_attn(x, mem, mem, attn_mask=mask)[0]

    def _ff_block(self, x):
        return self.linear2(torch.relu(self.linear1(x)))

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):
        x = self.norm1(tgt + self._sa_block(tgt, tgt_mask))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask))
        return self.norm3(x + self._ff_block(x))


class Transformer(nn.Module):
    def __init__(self, src_vocab, tgt_vocab, d_model, nhead, num_encoder_layers, num_decoder_layers,
                 dim_feedforward):
        super().__init__()
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model, padding_idx=0)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model, padding_idx=0)
        self.encoder_layers = nn.ModuleList([TransformerEncoderLayer(d_model, nhead, dim_feedforward)
                                             for _ in range(num_encoder_layers)])
        self.decoder_layers = nn.ModuleList([TransformerDecoderLayer(d_model, nhead, dim_feedforward)
                                             for _ in range(num_decoder_layers)])
        self.generator = nn.Linear(d_model, tgt_vocab)

    def _embed(self, table, tokens):
        pe = sinusoidal_positional_encoding(tokens.shape[1], self.d_model, dtype=table.weight.dtype,
                                            device=tokens.device)
        return table(tokens) * self.d_model ** 0.5 + pe.unsqueeze(0)

    def _src_bias(self, src, dtype):
        # [B, 1, 1, S] additive mask, the same for every head and query
        return torch.zeros(src.shape, dtype=dtype, device=src.device).masked_fill(src == 0, -math.inf)[:, None, None]

    def forward(self, src, tgt_in):
        dtype = self.generator.weight.dtype
        src_bias = self._src_bias(src, dtype)
        mem = self._embed(self.src_embed, src)
        for layer in self.encoder_layers:
            mem = layer(mem, src_bias)
        T = tgt_in.shape[1]
        future = torch.triu(torch.full((T, T), -math.inf, dtype=dtype, device=src.device), diagonal=1)
        pad = torch.zeros(tgt_in.shape, dtype=dtype, device=src.device).masked_fill(tgt_in == 0, -math.inf)
        tgt_bias = (future[None] + pad[:, None, :])[:, None]  # [B, 1, T, T]
        y = self._embed(self.tgt_embed, tgt_in)
        for layer in self.decoder_layers:
            y = layer(y, mem, tgt_bias, src_bias)
        return self.generator(y)

    @torch.no_grad()
    def greedy_decode(self, src, max_len, bos_id, eos_id):
        B = src.shape[0]
        cols = [torch.full((B,), bos_id, dtype=torch.long, device=src.device)]
        done = torch.zeros(B, dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            step = self.forward(src, torch.stack(cols, dim=1))[:, -1].argmax(-1)
            step = torch.where(done, torch.zeros_like(step), step)
            cols.append(step)
            done |= step == eos_id
            if done.all():
                break
        return torch.stack(cols[1:], dim=1)
