"""a3_attention: attention mechanisms, from Bahdanau's additive score to multi-head attention.

Every function and module here is batch-first and built from plain tensor operations
(no ``nn.MultiheadAttention``, no ``F.scaled_dot_product_attention``). None of them loops
in Python over batch items, positions or heads: the number of tensor operations they
execute does not depend on B, L, S or the number of heads.

Legend of symbols used in the shapes below::

    B  = batch size
    Q  = number of queries (L in the multi-head / scaled dot-product functions)
    K  = number of keys and values (S in the multi-head / scaled dot-product functions)
    L  = target (query) sequence length
    S  = source (key/value) sequence length
    dq = query size, dk = key size, dv = value size, h = hidden size of the additive score
    E  = embedding size (embed_dim), Ev = value embedding size
    nh = number of heads (num_heads), hd = head size = E // nh

Mask convention, the same in every function and module of the course:

* a **boolean** mask means ``True`` = this query may attend to this key;
* a **float** mask is added to the scores before the softmax (``-inf`` forbids);
* a query row whose keys are all masked gets weights 0 and context 0, never NaN
  (what ``F.scaled_dot_product_attention`` gives). Unlike torch, whose
  ``nn.MultiheadAttention`` uses ``True`` = *not* allowed, there is one convention.

A mask only has to be broadcastable to the scores, e.g. a padding mask over the keys
is passed as ``[B, 1, K]``.
"""

import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "AdditiveAttention",
    "DotProductAttention",
    "GeneralAttention",
    "scaled_dot_product_attention",
    "MultiHeadAttention",
    "causal_mask",
    "sinusoidal_positional_encoding",
]


def masked_softmax(scores: Tensor, mask: Optional[Tensor] = None) -> Tensor:
    r"""Softmax over the last dimension of ``scores`` after applying ``mask``.

    .. math::
        w_{ij} = \frac{\exp(s_{ij} + m_{ij})}{\sum_{j'} \exp(s_{ij'} + m_{ij'})}

    where :math:`m_{ij} = 0` where a boolean mask is True and :math:`-\infty` where it
    is False, or the float mask itself. A row in which every score is :math:`-\infty`
    gets weights 0 (not the NaN that 0/0 would give), also in the backward pass.

    Args:
        scores: ``[..., Q, K]`` attention scores.
        mask: ``None``, a boolean mask (True = may attend) or a float mask (added),
            broadcastable to ``scores``.

    Returns:
        weights ``[..., Q, K]``, each row sums to 1 or is all 0.
    """
    ### BEGIN SOLUTION
    if mask is not None:
        if mask.dtype == torch.bool:
            pass  # masked after the softmax
        else:
            scores = scores + mask
    # A row with every key forbidden would give exp(-inf) / 0 = NaN. Give such a
    # row harmless finite scores (so neither the forward nor the backward pass sees
    # a NaN), then zero its weights. torch.softmax subtracts the row maximum, so
    # large finite scores (1e4) do not overflow.
    dead = torch.isneginf(scores).all(dim=-1, keepdim=True)  # (..., Q, 1)
    weights = torch.softmax(scores.masked_fill(dead, 0.0), dim=-2)
    weights = weights.masked_fill(dead, 0.0)
    if mask is not None and mask.dtype == torch.bool:
        weights = weights * mask
    return weights
    ### END SOLUTION


class AdditiveAttention(nn.Module):
    r"""Additive (Bahdanau, concat) attention.

    .. math::
        \text{score}(q_i, k_j) = w_v^\top \tanh(W_q q_i + W_k k_j), \qquad
        \alpha_{ij} = \operatorname{softmax}_j(\text{score}(q_i, k_j)), \qquad
        c_i = \sum_j \alpha_{ij} v_j

    Args:
        query_size: dq, the size of each query.
        key_size: dk, the size of each key.
        hidden_size: h, the size of the hidden layer of the score.

    Submodules:
        W_q: ``Linear(dq, h, bias=False)``; W_k: ``Linear(dk, h, bias=False)``;
        w_v: ``Linear(h, 1, bias=False)``.

    Inputs: queries ``[B, Q, dq]``, keys ``[B, K, dk]``, values ``[B, K, dv]``,
    mask ``None`` or broadcastable to ``[B, Q, K]``.

    Outputs: (context ``[B, Q, dv]``, weights ``[B, Q, K]``).
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int) -> None:
        super().__init__()
        self.query_size = query_size
        self.key_size = key_size
        self.hidden_size = hidden_size
        ### BEGIN SOLUTION
        self.W_q = nn.Linear(query_size, hidden_size, bias=False)
        self.W_k = nn.Linear(key_size, hidden_size, bias=False)
        self.w_v = nn.Linear(hidden_size, 1, bias=False)
        ### END SOLUTION

    def forward(
        self, queries: Tensor, keys: Tensor, values: Tensor, mask: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        ### BEGIN SOLUTION
        q = self.W_q(queries).unsqueeze(2)  # (B, Q, 1, h)
        k = self.W_k(keys).unsqueeze(1)  # (B, 1, K, h)
        scores = self.w_v(torch.tanh(q + k)).squeeze(-1)  # (B, Q, K)
        weights = masked_softmax(scores, mask)  # (B, Q, K)
        return weights @ values, weights  # (B, Q, dv), (B, Q, K)
        ### END SOLUTION


class DotProductAttention(nn.Module):
    r"""Dot-product (Luong "dot") attention; no parameters.

    .. math::
        \text{score}(q_i, k_j) = \frac{q_i^\top k_j}{\sqrt{d}} \text{ if scaled else } q_i^\top k_j

    with :math:`d = dq = dk`, the softmax and context as in :class:`AdditiveAttention`.

    Args:
        scaled: divide the scores by sqrt(d) (the Transformer's scaled dot product).

    Inputs: queries ``[B, Q, d]``, keys ``[B, K, d]``, values ``[B, K, dv]``,
    mask ``None`` or broadcastable to ``[B, Q, K]``.

    Outputs: (context ``[B, Q, dv]``, weights ``[B, Q, K]``).
    """

    def __init__(self, scaled: bool = False) -> None:
        super().__init__()
        self.scaled = scaled

    def forward(
        self, queries: Tensor, keys: Tensor, values: Tensor, mask: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        ### BEGIN SOLUTION
        scores = queries @ keys.transpose(-2, -1)  # (B, Q, K)
        if self.scaled:
            scores = scores / math.sqrt(queries.size(-1))
        weights = masked_softmax(scores, mask)  # (B, Q, K)
        return weights @ values, weights  # (B, Q, dv), (B, Q, K)
        ### END SOLUTION


class GeneralAttention(nn.Module):
    r"""Luong "general" (bilinear) attention.

    .. math::
        \text{score}(q_i, k_j) = q_i^\top W k_j

    with the softmax and context as in :class:`AdditiveAttention`.

    Args:
        query_size: dq, the size of each query.
        key_size: dk, the size of each key.

    Submodules:
        W: ``Linear(dk, dq, bias=False)`` (maps a key into query space).

    Inputs: queries ``[B, Q, dq]``, keys ``[B, K, dk]``, values ``[B, K, dv]``,
    mask ``None`` or broadcastable to ``[B, Q, K]``.

    Outputs: (context ``[B, Q, dv]``, weights ``[B, Q, K]``).
    """

    def __init__(self, query_size: int, key_size: int) -> None:
        super().__init__()
        self.query_size = query_size
        self.key_size = key_size
        ### BEGIN SOLUTION
        self.W = nn.Linear(key_size, query_size, bias=False)
        ### END SOLUTION

    def forward(
        self, queries: Tensor, keys: Tensor, values: Tensor, mask: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        ### BEGIN SOLUTION
        scores = queries @ self.W(keys).transpose(-2, -1)  # (B, Q, K)
        weights = masked_softmax(scores, mask)  # (B, Q, K)
        return weights @ values, weights  # (B, Q, dv), (B, Q, K)
        ### END SOLUTION


def causal_mask(L: int, S: Optional[int] = None, device=None) -> Tensor:
    """Boolean causal mask ``[L, S]``: query i may attend key j iff ``j <= i``.

    ``S`` defaults to ``L``. For ``S != L`` the mask is aligned at the top left, as
    ``F.scaled_dot_product_attention(..., is_causal=True)`` aligns it.
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
    r"""Scaled dot-product attention (Vaswani et al., 2017), returning the weights too.

    .. math::
        \operatorname{Attention}(Q, K, V) = \operatorname{softmax}\left(
            \frac{Q K^\top}{\sqrt{E}} + M\right) V

    The math of ``F.scaled_dot_product_attention`` (without dropout), with the
    course's mask convention. With both ``attn_mask`` and ``is_causal`` both apply
    (torch raises instead).

    Args:
        query: ``[..., L, E]``.
        key: ``[..., S, E]``.
        value: ``[..., S, Ev]``.
        attn_mask: ``None``, boolean (True = may attend) or float (added to the
            scores), broadcastable to ``[..., L, S]``.
        is_causal: also apply :func:`causal_mask` ``(L, S)``.

    Returns:
        (output ``[..., L, Ev]``, weights ``[..., L, S]``); a fully masked query row
        has weights 0 and output 0.
    """
    ### BEGIN SOLUTION
    L, S = query.size(-2), key.size(-2)
    scores = (query @ key.transpose(-2, -1)) / math.sqrt(query.size(-1))  # (..., L, S)
    if attn_mask is not None and attn_mask.dtype != torch.bool:
        scores = scores + attn_mask  # a float mask is added
        attn_mask = None
    if is_causal:
        causal = causal_mask(L, S, device=query.device)  # (L, S)
        attn_mask = causal if attn_mask is None else attn_mask & causal
    weights = masked_softmax(scores, attn_mask)  # (..., L, S)
    return weights @ value, weights  # (..., L, Ev), (..., L, S)
    ### END SOLUTION


class MultiHeadAttention(nn.Module):
    r"""Multi-head attention with the parameter layout of
    ``torch.nn.MultiheadAttention(embed_dim, num_heads, bias=bias, batch_first=True)``.

    .. math::
        \operatorname{MultiHead}(Q, K, V) = \operatorname{Concat}(\text{head}_1, \dots,
            \text{head}_{nh}) W^O + b^O, \qquad
        \text{head}_i = \operatorname{Attention}(Q W_i^Q + b_i^Q, K W_i^K + b_i^K,
            V W_i^V + b_i^V)

    with ``Attention`` the scaled dot product of :func:`scaled_dot_product_attention`
    (scaled by sqrt(hd)). The projections of all heads are stacked:
    ``in_proj_weight = [W^Q; W^K; W^V]`` (in that order), head i owns rows
    ``i*hd:(i+1)*hd`` of each block.

    Args:
        embed_dim: E, the model size; must be divisible by ``num_heads``.
        num_heads: nh, the number of heads.
        bias: add ``in_proj_bias`` and ``out_proj.bias``.

    Parameters:
        in_proj_weight ``[3E, E]`` (xavier uniform), in_proj_bias ``[3E]`` (zeros; only
        if ``bias``), out_proj = ``Linear(E, E, bias=bias)`` (its bias zeros).

    Inputs:
        query ``[B, L, E]``, key ``[B, S, E]``, value ``[B, S, E]``;
        attn_mask ``None``, ``[L, S]``, ``[B, L, S]`` (the same for every head) or
        ``[B, nh, L, S]``, boolean or float;
        is_causal: also apply the causal mask (together with ``attn_mask`` if given).

    Outputs:
        (output ``[B, L, E]``, weights ``[B, nh, L, S]``, per head, not averaged).
        A fully masked query row has weights 0 and a context of 0 before
        ``out_proj``, so its output is ``out_proj.bias``.
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
        # torch.nn.MultiheadAttention._reset_parameters; out_proj.weight keeps
        # nn.Linear's default initialisation, as in torch.
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
    r"""The Transformer's fixed positional encoding ``[length, d_model]``.

    .. math::
        PE_{p, 2i} = \sin\left(p / 10000^{2i/d}\right), \qquad
        PE_{p, 2i+1} = \cos\left(p / 10000^{2i/d}\right)

    with :math:`d` = ``d_model`` (even), :math:`p` the position, :math:`i` the pair index.
    Computed in float64 and then cast to ``dtype``.
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
