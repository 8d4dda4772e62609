# Starter code for a3_attention: generated from the reference by `seqgrade release`.
# Replace every `raise NotImplementedError` (marked TODO) with your code; keep the names,
# signatures and docstrings. Check your work with `seqgrade check a3_attention attention.py`.
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
    # TODO: write masked_softmax (see the docstring).
    raise NotImplementedError("TODO: masked_softmax")


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
        # TODO: write AdditiveAttention.__init__ (see the docstring).
        raise NotImplementedError("TODO: AdditiveAttention.__init__")

    def forward(
        self, queries: Tensor, keys: Tensor, values: Tensor, mask: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        # TODO: write AdditiveAttention.forward (see the docstring).
        raise NotImplementedError("TODO: AdditiveAttention.forward")


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
        # TODO: write DotProductAttention.forward (see the docstring).
        raise NotImplementedError("TODO: DotProductAttention.forward")


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
        # TODO: write GeneralAttention.__init__ (see the docstring).
        raise NotImplementedError("TODO: GeneralAttention.__init__")

    def forward(
        self, queries: Tensor, keys: Tensor, values: Tensor, mask: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        # TODO: write GeneralAttention.forward (see the docstring).
        raise NotImplementedError("TODO: GeneralAttention.forward")


def causal_mask(L: int, S: Optional[int] = None, device=None) -> Tensor:
    """Boolean causal mask ``[L, S]``: query i may attend key j iff ``j <= i``.

    ``S`` defaults to ``L``. For ``S != L`` the mask is aligned at the top left, as
    ``F.scaled_dot_product_attention(..., is_causal=True)`` aligns it.
    """
    # TODO: write causal_mask (see the docstring).
    raise NotImplementedError("TODO: causal_mask")


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
    # TODO: write scaled_dot_product_attention (see the docstring).
    raise NotImplementedError("TODO: scaled_dot_product_attention")


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
        # TODO: write MultiHeadAttention.__init__ (see the docstring).
        raise NotImplementedError("TODO: MultiHeadAttention.__init__")

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        attn_mask: Optional[Tensor] = None,
        is_causal: bool = False,
    ) -> Tuple[Tensor, Tensor]:
        # TODO: write MultiHeadAttention.forward (see the docstring).
        raise NotImplementedError("TODO: MultiHeadAttention.forward")


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
    # TODO: write sinusoidal_positional_encoding (see the docstring).
    raise NotImplementedError("TODO: sinusoidal_positional_encoding")
