# Starter code for a5_transformer: generated from the reference by `seqgrade release`.
# Replace every `raise NotImplementedError` (marked TODO) with your code; keep the names,
# signatures and docstrings. Check your work with `seqgrade check a5_transformer transformer.py`.
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
    # TODO: write masked_softmax (see the docstring).
    raise NotImplementedError("TODO: masked_softmax")


def causal_mask(L: int, S: Optional[int] = None, device=None) -> Tensor:
    """Boolean causal mask ``[L, S]`` (S defaults to L): query i may attend key j iff
    ``j <= i``. (a3's ``causal_mask``.)
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
    r"""``softmax(Q K^T / sqrt(E) + M) V`` for query ``[..., L, E]``, key ``[..., S, E]``,
    value ``[..., S, Ev]``; returns (output ``[..., L, Ev]``, weights ``[..., L, S]``).
    With both ``attn_mask`` and ``is_causal`` both apply. (a3's
    ``scaled_dot_product_attention``.)
    """
    # TODO: write scaled_dot_product_attention (see the docstring).
    raise NotImplementedError("TODO: scaled_dot_product_attention")


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
    r"""``PE [length, d_model]`` with ``PE[p, 2i] = sin(p / 10000^(2i/d))`` and
    ``PE[p, 2i+1] = cos(p / 10000^(2i/d))``. (a3's ``sinusoidal_positional_encoding``.)
    """
    # TODO: write sinusoidal_positional_encoding (see the docstring).
    raise NotImplementedError("TODO: sinusoidal_positional_encoding")


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
        # TODO: write TransformerEncoderLayer.__init__ (see the docstring).
        raise NotImplementedError("TODO: TransformerEncoderLayer.__init__")

    def forward(self, src: Tensor, src_mask: Optional[Tensor] = None) -> Tensor:
        # TODO: write TransformerEncoderLayer.forward (see the docstring).
        raise NotImplementedError("TODO: TransformerEncoderLayer.forward")


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
        # TODO: write TransformerDecoderLayer.__init__ (see the docstring).
        raise NotImplementedError("TODO: TransformerDecoderLayer.__init__")

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Optional[Tensor] = None,
        memory_mask: Optional[Tensor] = None,
    ) -> Tensor:
        # TODO: write TransformerDecoderLayer.forward (see the docstring).
        raise NotImplementedError("TODO: TransformerDecoderLayer.forward")


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
        # TODO: write Transformer.__init__ (see the docstring).
        raise NotImplementedError("TODO: Transformer.__init__")

    def embed(self, embedding: nn.Embedding, tokens: Tensor) -> Tensor:
        """``sqrt(E) * embedding(tokens) + PE`` for tokens ``[B, L]``; returns ``[B, L, E]``."""
        # TODO: write Transformer.embed (see the docstring).
        raise NotImplementedError("TODO: Transformer.embed")

    def encode(self, src: Tensor) -> Tuple[Tensor, Tensor]:
        """Run the encoder on src ``[B, S]``; returns (memory ``[B, S, E]``,
        src_mask ``[B, 1, S]``, True at real tokens), the mask the decoder's
        cross-attention needs.
        """
        # TODO: write Transformer.encode (see the docstring).
        raise NotImplementedError("TODO: Transformer.encode")

    def decode(self, tgt_in: Tensor, memory: Tensor, src_mask: Tensor) -> Tensor:
        """Run the decoder and the generator on tgt_in ``[B, T]`` given memory
        ``[B, S, E]`` and src_mask ``[B, 1, S]`` from :meth:`encode`; returns logits
        ``[B, T, Vt]``.
        """
        # TODO: write Transformer.decode (see the docstring).
        raise NotImplementedError("TODO: Transformer.decode")

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        # TODO: write Transformer.forward (see the docstring).
        raise NotImplementedError("TODO: Transformer.forward")

    def greedy_decode(self, src: Tensor, max_len: int, bos_id: int, eos_id: int) -> Tensor:
        """Greedy decoding of the whole batch at once.

        Starts every row from ``bos_id`` and appends the arg-max token, up to
        ``max_len`` tokens. The output excludes BOS and keeps EOS; a row that has
        produced EOS is filled with 0 (pad) after it; decoding stops as soon as every
        row has produced EOS, so the result ``[B, <= max_len]`` is as wide as its
        longest row. Does not build an autograd graph.
        """
        # TODO: write Transformer.greedy_decode (see the docstring).
        raise NotImplementedError("TODO: Transformer.greedy_decode")
