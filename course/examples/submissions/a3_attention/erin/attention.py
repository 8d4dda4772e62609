"""A correct a3_attention written differently from the reference.

einsum everywhere, every boolean mask turned into an additive float mask, a hand-written
numerically stable softmax (max detached, empty rows divided by 1), multi-head attention
folded into a [B*heads, L, d] batch, the positional encoding filled by slices.
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


class AdditiveAttention(nn.Module):
    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.W_q = nn.Linear(query_size, hidden_size, bias=False)
        self.W_k = nn.Linear(key_size, hidden_size, bias=False)
        self.w_v = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, queries, keys, values, mask=None):
        pq = torch.einsum("bqd,hd->bqh", queries, self.W_q.weight)
        pk = torch.einsum("bkd,hd->bkh", keys, self.W_k.weight)
        feats = torch.tanh(pq[:, :, None, :] + pk[:, None, :, :])
        scores = torch.einsum("bqkh,h->bqk", feats, self.w_v.weight[0])
        w = _softmax(scores, mask)
        return torch.einsum("bqk,bkv->bqv", w, values), w


class DotProductAttention(nn.Module):
    def __init__(self, scaled=False):
        super().__init__()
        self.scaled = scaled

    def forward(self, queries, keys, values, mask=None):
        scores = torch.einsum("bqd,bkd->bqk", queries, keys)
        if self.scaled:
            scores = scores * (queries.shape[-1] ** -0.5)
        w = _softmax(scores, mask)
        return torch.einsum("bqk,bkv->bqv", w, values), w


class GeneralAttention(nn.Module):
    def __init__(self, query_size, key_size):
        super().__init__()
        self.W = nn.Linear(key_size, query_size, bias=False)

    def forward(self, queries, keys, values, mask=None):
        scores = torch.einsum("bqi,ij,bkj->bqk", queries, self.W.weight, keys)
        w = _softmax(scores, mask)
        return torch.einsum("bqk,bkv->bqv", w, values), w


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
