"""a5_transformer: the encoder-decoder Transformer (Vaswani et al., 2017), post-norm, ReLU.

A submission is this one file, so it carries its own copy of the a3 building blocks
(:func:`masked_softmax`, :func:`causal_mask`, :func:`scaled_dot_product_attention`,
:class:`MultiHeadAttention`, :func:`sinusoidal_positional_encoding`): paste your a3
implementation of them here. The layers' parameter names are those of
``torch.nn.TransformerEncoderLayer`` / ``TransformerDecoderLayer(dropout=0,
batch_first=True)``, so torch's state_dict loads into them.

Everything is batch-first; token id 0 is padding. No dropout. Nothing loops in Python
over batch items, positions or heads (greedy decoding loops over the output steps only).

Legend of symbols used in the shapes below::

    B  = batch size
    S  = source sequence length (keys of the encoder and of the cross-attention)
    T  = target sequence length
    L  = query length of an attention (S in the encoder, T in the decoder)
    E  = d_model, F = dim_feedforward
    nh = number of heads (nhead), hd = head size = E // nh
    Vs = source vocabulary size, Vt = target vocabulary size

Mask convention (as in a3): a **boolean** mask means ``True`` = may attend; a **float**
mask is added to the scores; a query row whose keys are all masked gets weights 0 and a
context of 0, never NaN. A layer's mask is ``[L, S]``, ``[B, L, S]`` (the same for every
head) or ``[B, nh, L, S]``, or anything that broadcasts like them (``[B, 1, S]`` for
padding over the keys).
"""

import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "Transformer",
    "MultiHeadAttention",
    "scaled_dot_product_attention",
    "causal_mask",
    "sinusoidal_positional_encoding",
]


# ---------------------------------------------------------------------------------------
# From a3_attention: paste your implementation.
# ---------------------------------------------------------------------------------------


def masked_softmax(scores: Tensor, mask: Optional[Tensor] = None) -> Tensor:
    """Softmax over the last dimension of ``scores [..., L, S]`` after applying a boolean
    (True = may attend) or float (added) ``mask``; a fully masked row gives weights 0.
    (a3's ``masked_softmax``.)
    """
    ### BEGIN SOLUTION
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask
    dead = torch.isneginf(scores).all(dim=-1, keepdim=True)  # (..., L, 1)
    weights = torch.softmax(scores.masked_fill(dead, 0.0), dim=-1)
    return weights.masked_fill(dead, 0.0)
    ### END SOLUTION


def causal_mask(L: int, S: Optional[int] = None, device=None) -> Tensor:
    """Boolean causal mask ``[L, S]`` (S defaults to L): query i may attend key j iff
    ``j <= i``. (a3's ``causal_mask``.)
    """
    ### BEGIN SOLUTION
    S = L if S is None else S
    return torch.ones(L, S, dtype=torch.bool, device=device).tril()  # (L, S)
    ### END SOLUTION


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Optional[Tensor] = None,
    is_causal: bool = False,
) -> Tuple[Tensor, Tensor]:
    r"""``softmax(Q K^T / sqrt(E) + M) V`` for query ``[..., L, E]``, key ``[..., S, E]``,
    value ``[..., S, Ev]``; returns (output ``[..., L, Ev]``, weights ``[..., L, S]``).
    With both ``attn_mask`` and ``is_causal`` both apply. (a3's
    ``scaled_dot_product_attention``.)
    """
    ### BEGIN SOLUTION
    L, S = query.size(-2), key.size(-2)
    scores = (query @ key.transpose(-2, -1)) / math.sqrt(query.size(-1))  # (..., L, S)
    if attn_mask is not None and attn_mask.dtype != torch.bool:
        scores = scores + attn_mask
        attn_mask = None
    if is_causal:
        causal = causal_mask(L, S, device=query.device)  # (L, S)
        attn_mask = causal if attn_mask is None else attn_mask & causal
    weights = masked_softmax(scores, attn_mask)  # (..., L, S)
    return weights @ value, weights  # (..., L, Ev), (..., L, S)
    ### END SOLUTION


class MultiHeadAttention(nn.Module):
    r"""Multi-head attention, the parameter layout of
    ``torch.nn.MultiheadAttention(embed_dim, num_heads, bias=bias, batch_first=True)``:
    ``in_proj_weight [3E, E]`` (rows: W^Q, W^K, W^V), ``in_proj_bias [3E]`` (if bias),
    ``out_proj = Linear(E, E, bias=bias)``. (a3's ``MultiHeadAttention``.)

    ``forward(query [B, L, E], key [B, S, E], value [B, S, E], attn_mask=None,
    is_causal=False) -> (output [B, L, E], weights [B, nh, L, S])``.
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        ### BEGIN SOLUTION
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        if bias:
            self.in_proj_bias = nn.Parameter(torch.empty(3 * embed_dim))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)
        ### END SOLUTION

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        attn_mask: Optional[Tensor] = None,
        is_causal: bool = False,
    ) -> Tuple[Tensor, Tensor]:
        ### BEGIN SOLUTION
        B, L, E = query.shape
        S = key.size(1)
        nh, hd = self.num_heads, self.head_dim
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)  # 3 x (E, E)
        b_q = b_k = b_v = None
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = self.in_proj_bias.chunk(3)  # 3 x (E,)
        q = F.linear(query, w_q, b_q).view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)
        k = F.linear(key, w_k, b_k).view(B, S, nh, hd).transpose(1, 2)  # (B, nh, S, hd)
        v = F.linear(value, w_v, b_v).view(B, S, nh, hd).transpose(1, 2)  # (B, nh, S, hd)
        if attn_mask is not None and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(1)  # (B, 1, L, S): the same for every head
        ctx, weights = scaled_dot_product_attention(q, k, v, attn_mask, is_causal)
        ctx = ctx.transpose(1, 2).reshape(B, L, E)  # (B, L, nh * hd)
        return self.out_proj(ctx), weights  # (B, L, E), (B, nh, L, S)
        ### END SOLUTION


def sinusoidal_positional_encoding(
    length: int, d_model: int, dtype: torch.dtype = torch.float32, device=None
) -> Tensor:
    r"""``PE [length, d_model]`` with ``PE[p, 2i] = sin(p / 10000^(2i/d))`` and
    ``PE[p, 2i+1] = cos(p / 10000^(2i/d))``. (a3's ``sinusoidal_positional_encoding``.)
    """
    ### BEGIN SOLUTION
    if d_model % 2 != 0:
        raise ValueError(f"d_model must be even, got {d_model}")
    pos = torch.arange(length, dtype=torch.float64, device=device).unsqueeze(1)  # (length, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64, device=device)  # (d/2,)
    angle = pos / torch.pow(10000.0, two_i / d_model)  # (length, d/2)
    pe = torch.stack((angle.sin(), angle.cos()), dim=-1)  # (length, d/2, 2)
    return pe.view(length, d_model).to(dtype)  # (length, d): sin, cos interleaved
    ### END SOLUTION


# ---------------------------------------------------------------------------------------
# a5: the Transformer.
# ---------------------------------------------------------------------------------------


class TransformerEncoderLayer(nn.Module):
    r"""One post-norm encoder layer, the math of
    ``torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0,
    batch_first=True)`` (ReLU, LayerNorm eps 1e-5):

    .. math::
        x &\leftarrow \operatorname{LayerNorm}_1(x + \operatorname{SelfAttn}(x, x, x))\\
        x &\leftarrow \operatorname{LayerNorm}_2(x + W_2 \operatorname{ReLU}(W_1 x + b_1) + b_2)

    Args:
        d_model: E. nhead: nh. dim_feedforward: F.

    Submodules:
        self_attn = ``MultiHeadAttention(E, nh)``; linear1 = ``Linear(E, F)``;
        linear2 = ``Linear(F, E)``; norm1, norm2 = ``LayerNorm(E)``.

    Inputs: src ``[B, S, E]``; src_mask ``None`` or ``[S, S]``, ``[B, S, S]``,
    ``[B, nh, S, S]`` (or broadcastable, e.g. ``[B, 1, S]`` for padding).

    Output: ``[B, S, E]``.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int) -> None:
        super().__init__()
        self.d_model = d_model
        self.nhead = nhead
        self.dim_feedforward = dim_feedforward
        ### BEGIN SOLUTION
        self.self_attn = MultiHeadAttention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=1e-5)
        self.norm2 = nn.LayerNorm(d_model, eps=1e-5)
        ### END SOLUTION

    def forward(self, src: Tensor, src_mask: Optional[Tensor] = None) -> Tensor:
        ### BEGIN SOLUTION
        x = src
        h = self.norm1(x)
        x = x + self.self_attn(h, h, h, attn_mask=src_mask)[0]
        x = x + self.linear2(F.relu(self.linear1(self.norm2(x))))
        return x
        ### END SOLUTION


class TransformerDecoderLayer(nn.Module):
    r"""One post-norm decoder layer, the math of
    ``torch.nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout=0,
    batch_first=True)`` (ReLU, LayerNorm eps 1e-5):

    .. math::
        x &\leftarrow \operatorname{LayerNorm}_1(x + \operatorname{SelfAttn}(x, x, x))\\
        x &\leftarrow \operatorname{LayerNorm}_2(x + \operatorname{CrossAttn}(x, m, m))\\
        x &\leftarrow \operatorname{LayerNorm}_3(x + W_2 \operatorname{ReLU}(W_1 x + b_1) + b_2)

    where :math:`m` is the encoder's output (memory).

    Args:
        d_model: E. nhead: nh. dim_feedforward: F.

    Submodules:
        self_attn, multihead_attn = ``MultiHeadAttention(E, nh)``;
        linear1 = ``Linear(E, F)``; linear2 = ``Linear(F, E)``; norm1, norm2, norm3 =
        ``LayerNorm(E)``.

    Inputs: tgt ``[B, T, E]``, memory ``[B, S, E]``; tgt_mask ``None`` or ``[T, T]``,
    ``[B, T, T]``, ``[B, nh, T, T]``; memory_mask ``None`` or ``[T, S]``, ``[B, T, S]``,
    ``[B, nh, T, S]`` (or broadcastable, e.g. ``[B, 1, S]`` for source padding).

    Output: ``[B, T, E]``.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int) -> None:
        super().__init__()
        self.d_model = d_model
        self.nhead = nhead
        self.dim_feedforward = dim_feedforward
        ### BEGIN SOLUTION
        self.self_attn = MultiHeadAttention(d_model, nhead)
        self.multihead_attn = MultiHeadAttention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=1e-5)
        self.norm2 = nn.LayerNorm(d_model, eps=1e-5)
        self.norm3 = nn.LayerNorm(d_model, eps=1e-5)
        ### END SOLUTION

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Optional[Tensor] = None,
        memory_mask: Optional[Tensor] = None,
    ) -> Tensor:
        ### BEGIN SOLUTION
        x = tgt
        x = self.norm1(x + self.self_attn(x, x, x, attn_mask=tgt_mask)[0])  # (B, T, E)
        x = self.norm2(x + self.multihead_attn(x, memory, memory, attn_mask=memory_mask)[0])
        x = self.norm3(x + self.linear2(F.relu(self.linear1(x))))  # (B, T, E)
        return x
        ### END SOLUTION


class Transformer(nn.Module):
    r"""Encoder-decoder Transformer over token ids (pad id 0).

    .. math::
        h^{src}_0 = \sqrt{E}\,\operatorname{Emb}_{src}(x) + PE, \quad
        m = \operatorname{Enc}_N \circ \dots \circ \operatorname{Enc}_1(h^{src}_0)

        h^{tgt}_0 = \sqrt{E}\,\operatorname{Emb}_{tgt}(y) + PE, \quad
        \text{logits} = \operatorname{generator}(\operatorname{Dec}_M \circ \dots \circ
            \operatorname{Dec}_1(h^{tgt}_0, m))

    Masks are built inside from the token ids: the encoder's self-attention and the
    decoder's cross-attention never attend a source pad; the decoder's self-attention
    is causal and never attends a target pad.

    Args:
        src_vocab: Vs. tgt_vocab: Vt. d_model: E. nhead: nh.
        num_encoder_layers, num_decoder_layers: the number of layers.
        dim_feedforward: F.

    Submodules:
        src_embed = ``Embedding(Vs, E, padding_idx=0)``;
        tgt_embed = ``Embedding(Vt, E, padding_idx=0)``;
        encoder_layers = ``ModuleList`` of :class:`TransformerEncoderLayer`;
        decoder_layers = ``ModuleList`` of :class:`TransformerDecoderLayer`;
        generator = ``Linear(E, Vt)``.

    Inputs of ``forward``: src ``[B, S]``, tgt_in ``[B, T]`` (the target shifted
    right: BOS first).

    Output of ``forward``: logits ``[B, T, Vt]``.
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        d_model: int,
        nhead: int,
        num_encoder_layers: int,
        num_decoder_layers: int,
        dim_feedforward: int,
    ) -> None:
        super().__init__()
        self.src_vocab = src_vocab
        self.tgt_vocab = tgt_vocab
        self.d_model = d_model
        self.nhead = nhead
        ### BEGIN SOLUTION
        self.src_embed = nn.Embedding(src_vocab, d_model, padding_idx=0)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model, padding_idx=0)
        self.encoder_layers = nn.ModuleList(
            TransformerEncoderLayer(d_model, nhead, dim_feedforward)
            for _ in range(num_encoder_layers)
        )
        self.decoder_layers = nn.ModuleList(
            TransformerDecoderLayer(d_model, nhead, dim_feedforward)
            for _ in range(num_decoder_layers)
        )
        self.generator = nn.Linear(d_model, tgt_vocab)
        # Initialisation of the annotated Transformer (and of nn.Transformer for its
        # own weights): xavier uniform for every matrix, so that the embeddings are
        # small and sqrt(E) brings them to the scale of the positional encoding.
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        with torch.no_grad():
            self.src_embed.weight[0].zero_()  # keep padding_idx's row at 0
            self.tgt_embed.weight[0].zero_()
        ### END SOLUTION

    def embed(self, embedding: nn.Embedding, tokens: Tensor) -> Tensor:
        """``sqrt(E) * embedding(tokens) + PE`` for tokens ``[B, L]``; returns ``[B, L, E]``."""
        ### BEGIN SOLUTION
        x = embedding(tokens) * math.sqrt(self.d_model)  # (B, L, E)
        pe = sinusoidal_positional_encoding(tokens.size(1), self.d_model, x.dtype, x.device)
        return x + pe  # (B, L, E) + (L, E)
        ### END SOLUTION

    def encode(self, src: Tensor) -> Tuple[Tensor, Tensor]:
        """Run the encoder on src ``[B, S]``; returns (memory ``[B, S, E]``,
        src_mask ``[B, 1, S]``, True at real tokens), the mask the decoder's
        cross-attention needs.
        """
        ### BEGIN SOLUTION
        src_mask = (src != 0).unsqueeze(1)  # (B, 1, S): keys that are not padding
        x = self.embed(self.src_embed, src)  # (B, S, E)
        for layer in self.encoder_layers:
            x = layer(x, src_mask=src_mask)
        return x, src_mask
        ### END SOLUTION

    def decode(self, tgt_in: Tensor, memory: Tensor, src_mask: Tensor) -> Tensor:
        """Run the decoder and the generator on tgt_in ``[B, T]`` given memory
        ``[B, S, E]`` and src_mask ``[B, 1, S]`` from :meth:`encode`; returns logits
        ``[B, T, Vt]``.
        """
        ### BEGIN SOLUTION
        T = tgt_in.size(1)
        tgt_mask = causal_mask(T, device=tgt_in.device) & (tgt_in != 0).unsqueeze(1)  # (B, T, T)
        x = self.embed(self.tgt_embed, tgt_in)  # (B, T, E)
        for layer in self.decoder_layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=src_mask)
        return self.generator(x)  # (B, T, Vt)
        ### END SOLUTION

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        memory, src_mask = self.encode(src)
        return self.decode(tgt_in, memory, src_mask)
        ### END SOLUTION

    def greedy_decode(self, src: Tensor, max_len: int, bos_id: int, eos_id: int) -> Tensor:
        """Greedy decoding of the whole batch at once.

        Starts every row from ``bos_id`` and appends the arg-max token, up to
        ``max_len`` tokens. The output excludes BOS and keeps EOS; a row that has
        produced EOS is filled with 0 (pad) after it; decoding stops as soon as every
        row has produced EOS, so the result ``[B, <= max_len]`` is as wide as its
        longest row. Does not build an autograd graph.
        """
        ### BEGIN SOLUTION
        with torch.no_grad():
            memory, src_mask = self.encode(src)
            B = src.size(0)
            ys = src.new_full((B, 1), bos_id)  # (B, 1): BOS
            finished = torch.zeros(B, dtype=torch.bool, device=src.device)  # (B,)
            for _ in range(max_len):
                logits = self.decode(ys, memory, src_mask)[:, -1]  # (B, Vt): the last step
                nxt = logits.argmax(dim=-1).masked_fill(finished, 0)  # (B,): pad once finished
                ys = torch.cat((ys, nxt.unsqueeze(1)), dim=1)  # (B, t + 2)
                finished = finished | (nxt == eos_id)
                if bool(finished.all()):
                    break
            return ys[:, 1:]  # (B, <= max_len): without BOS
        ### END SOLUTION
