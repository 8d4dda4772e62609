"""A correct a5_transformer written differently from the reference.

The a3 blocks use torch.where and torch.bmm; the layers use a generic residual-then-norm
helper; the Transformer hands the layers [B,L,S] masks (the same for every head) and
runs the encoder once per greedy decode, writing each step into a preallocated tensor
that is cut to the steps taken.
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


def _post_norm(norm, x, sublayer_out):
    return norm(x + sublayer_out)


class TransformerEncoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_feedforward):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=1e-5)
        self.norm2 = nn.LayerNorm(d_model, eps=1e-5)

    def forward(self, src, src_mask=None):
        x = _post_norm(self.norm1, src, self.self_attn(src, src, src, src_mask)[0])
        return _post_norm(self.norm2, x, self.linear2(self.linear1(x).clamp(min=0)))


class TransformerDecoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_feedforward):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, nhead)
        self.multihead_attn = MultiHeadAttention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=1e-5)
        self.norm2 = nn.LayerNorm(d_model, eps=1e-5)
        self.norm3 = nn.LayerNorm(d_model, eps=1e-5)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):
        x = _post_norm(self.norm1, tgt, self.self_attn(tgt, tgt, tgt, tgt_mask)[0])
        x = _post_norm(self.norm2, x, self.multihead_attn(x, memory, memory, memory_mask)[0])
        return _post_norm(self.norm3, x, self.linear2(self.linear1(x).clamp(min=0)))


class Transformer(nn.Module):
    def __init__(self, src_vocab, tgt_vocab, d_model, nhead, num_encoder_layers, num_decoder_layers,
                 dim_feedforward):
        super().__init__()
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model, padding_idx=0)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model, padding_idx=0)
        self.encoder_layers = nn.ModuleList()
        for _ in range(num_encoder_layers):
            self.encoder_layers.append(TransformerEncoderLayer(d_model, nhead, dim_feedforward))
        self.decoder_layers = nn.ModuleList()
        for _ in range(num_decoder_layers):
            self.decoder_layers.append(TransformerDecoderLayer(d_model, nhead, dim_feedforward))
        self.generator = nn.Linear(d_model, tgt_vocab)

    def _inputs(self, table, tokens):
        x = table(tokens)
        pe = sinusoidal_positional_encoding(tokens.size(1), self.d_model, dtype=torch.float64, device=tokens.device)
        return x * math.sqrt(self.d_model) + pe.to(x.dtype)

    def _encode(self, src):
        mask = (src != 0)[:, None, :]  # [B, 1, S]
        h = self._inputs(self.src_embed, src)
        for layer in self.encoder_layers:
            h = layer(h, mask.expand(-1, src.size(1), -1))  # [B, S, S]
        return h, mask

    def _decode(self, tgt_in, memory, src_keep):
        T = tgt_in.size(1)
        keep = causal_mask(T, device=tgt_in.device)[None] & (tgt_in != 0)[:, None, :]  # [B, T, T]
        mem_mask = src_keep.expand(-1, T, -1)  # [B, T, S]
        h = self._inputs(self.tgt_embed, tgt_in)
        for layer in self.decoder_layers:
            h = layer(h, memory, keep, mem_mask)
        return self.generator(h)

    def forward(self, src, tgt_in):
        memory, keep = self._encode(src)
        return self._decode(tgt_in, memory, keep)

    def greedy_decode(self, src, max_len, bos_id, eos_id):
        with torch.no_grad():
            memory, keep = self._encode(src)
            B = src.size(0)
            ys = torch.zeros(B, max_len + 1, dtype=torch.long, device=src.device)
            ys[:, 0] = bos_id
            alive = torch.ones(B, dtype=torch.bool, device=src.device)
            steps = 0
            while steps < max_len and bool(alive.any()):
                logits = self._decode(ys[:, :steps + 1], memory, keep)
                nxt = logits[:, steps].argmax(-1) * alive
                ys[:, steps + 1] = nxt
                alive = alive & (nxt != eos_id)
                steps += 1
            return ys[:, 1:steps + 1]
