"""A correct a3_attention written differently from the reference.

torch.where on boolean masks, leading dimensions flattened into one batch for
torch.bmm/baddbmm, multi-head attention with separate views of the stacked weights,
a positional encoding built with a Python loop over the (sin, cos) pairs.
"""

import math

import torch
from torch import nn


def _softmax_last(scores, keep):
    """Softmax over the last dim; `keep` (bool, same shape) marks allowed entries."""
    scores = torch.where(keep, scores, torch.full_like(scores, float("-inf")))
    alive = keep.any(dim=-1, keepdim=True)
    safe = torch.where(alive, scores, torch.zeros_like(scores))
    w = torch.nn.functional.softmax(safe, dim=-1)
    return torch.where(alive, w, torch.zeros_like(w))


def _apply(scores, mask):
    if mask is None:
        return _softmax_last(scores, torch.ones_like(scores, dtype=torch.bool))
    if mask.dtype == torch.bool:
        return _softmax_last(scores, mask.expand_as(scores))
    scores = scores + mask
    return _softmax_last(scores, ~torch.isneginf(scores))


class AdditiveAttention(nn.Module):
    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.query_size, self.key_size, self.hidden_size = query_size, key_size, hidden_size
        self.W_q = nn.Linear(query_size, hidden_size, bias=False)
        self.W_k = nn.Linear(key_size, hidden_size, bias=False)
        self.w_v = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, queries, keys, values, mask=None):
        Q, K = queries.size(1), keys.size(1)
        a = self.W_q(queries).unsqueeze(2).expand(-1, -1, K, -1)
        b = self.W_k(keys).unsqueeze(1).expand(-1, Q, -1, -1)
        scores = self.w_v(torch.tanh(a + b))[..., 0]
        w = _apply(scores, mask)
        return torch.bmm(w, values), w


class DotProductAttention(nn.Module):
    def __init__(self, scaled=False):
        super().__init__()
        self.scaled = scaled

    def forward(self, queries, keys, values, mask=None):
        alpha = 1.0 / math.sqrt(queries.size(-1)) if self.scaled else 1.0
        base = torch.zeros(queries.size(0), queries.size(1), keys.size(1), dtype=queries.dtype,
                           device=queries.device)
        scores = torch.baddbmm(base, queries, keys.transpose(1, 2), beta=0.0, alpha=alpha)
        w = _apply(scores, mask)
        return torch.bmm(w, values), w


class GeneralAttention(nn.Module):
    def __init__(self, query_size, key_size):
        super().__init__()
        self.W = nn.Linear(key_size, query_size, bias=False)

    def forward(self, queries, keys, values, mask=None):
        projected = torch.matmul(queries, self.W.weight)  # q^T W, [B, Q, dk]
        scores = torch.bmm(projected, keys.transpose(1, 2))
        w = _apply(scores, mask)
        return torch.bmm(w, values), w


def causal_mask(L, S=None, device=None):
    if S is None:
        S = L
    i = torch.arange(L, device=device).unsqueeze(1)
    j = torch.arange(S, device=device).unsqueeze(0)
    return (j - i) <= 0


def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False):
    lead = query.shape[:-2]
    L, E = query.shape[-2:]
    S, Ev = key.shape[-2], value.shape[-1]
    q = query.reshape(-1, L, E)
    k = key.reshape(-1, S, E)
    v = value.reshape(-1, S, Ev)
    scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(E)
    scores = scores.reshape(*lead, L, S)
    keep = torch.ones_like(scores, dtype=torch.bool)
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            keep = keep & attn_mask
        else:
            scores = scores + attn_mask
            keep = keep & ~torch.isneginf(scores)
    if is_causal:
        keep = keep & causal_mask(L, S, device=query.device)
    w = _softmax_last(scores, keep)
    out = torch.bmm(w.reshape(-1, L, S), v).reshape(*lead, L, Ev)
    return out, w


class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, bias=True):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError("embed_dim must be divisible by num_heads")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        if bias:
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, query, key, value, attn_mask=None, is_causal=False):
        B, L, E = query.shape
        S = key.shape[1]
        W = self.in_proj_weight.view(3, E, E)
        b = self.in_proj_bias.view(3, E) if self.in_proj_bias is not None else None

        def proj(x, i):
            y = x @ W[i].t()
            if b is not None:
                y = y + b[i]
            return y.unflatten(-1, (self.num_heads, self.head_dim)).transpose(1, 2)

        q, k, v = proj(query, 0), proj(key, 1), proj(value, 2)
        if attn_mask is not None and attn_mask.dim() == 3:
            attn_mask = attn_mask[:, None, :, :]
        ctx, w = scaled_dot_product_attention(q, k, v, attn_mask, is_causal)
        merged = ctx.transpose(1, 2).flatten(2)
        return self.out_proj(merged), w


def sinusoidal_positional_encoding(length, d_model, dtype=torch.float32, device=None):
    if d_model % 2:
        raise ValueError("d_model must be even")
    pos = torch.arange(length, dtype=torch.float64, device=device)
    cols = []
    for i in range(d_model // 2):
        freq = 1.0 / (10000.0 ** (2 * i / d_model))
        cols.append(torch.sin(pos * freq))
        cols.append(torch.cos(pos * freq))
    return torch.stack(cols, dim=1).to(dtype)
