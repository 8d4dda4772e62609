# Starter code for a4_seq2seq: generated from the reference by `seqgrade release`.
# Replace every `raise NotImplementedError` (marked TODO) with your code; keep the names,
# signatures and docstrings. Check your work with `seqgrade check a4_seq2seq seq2seq.py`.
"""a4_seq2seq: an RNN encoder-decoder with Bahdanau attention, greedy and beam decoding.

A sequence-to-sequence model maps a source sentence ``x_1 .. x_S`` to a target
sentence ``y_1 .. y_T`` of a different length. It factorises

    p(y | x) = prod_t p(y_t | y_<t, x)

and splits the work between two recurrent networks:

* the **encoder** reads the source and returns one vector per source position,
  ``h^enc_s`` (its "annotations"), plus its final state, which summarises the
  whole sentence;
* the **decoder** is a conditional language model: starting from the encoder's
  final state and a BOS token, at every step it reads the previous target token
  and predicts a distribution over the next one.

Without attention the whole source must squeeze through the encoder's final
state. With **attention** (Bahdanau et al., 2015, "Neural Machine Translation by
Jointly Learning to Align and Translate") the decoder looks back at every
encoder output at every step: it scores each source position against its
current state, turns the scores into weights with a softmax, and takes the
weighted average of the encoder outputs, the **context vector**.

Everything here is batch-first and token id 0 is padding.

Legend (shapes in docstrings and comments):
    B  batch size                  S  source length (padded)
    T  target length               V  vocabulary size
    E  embedding size              H  hidden size (encoder = decoder)
    L  number of RNN layers        K  beam size (in beam search), or number of keys
    Q  number of queries           A  attention hidden size
    dq, dk, dv  query, key, value sizes
"""

from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# An RNN state: h [L,B,H] for GRU/RNN, the pair (h, c) for an LSTM.
State = Union[Tensor, Tuple[Tensor, Tensor]]

_CELLS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}


def _make_rnn(cell: str, input_size: int, hidden_size: int, num_layers: int) -> nn.RNNBase:
    """The torch.nn recurrent layer named by ``cell`` (batch-first). Plumbing."""
    if cell not in _CELLS:
        raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}")
    return _CELLS[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True)


def _map_state(state: State, fn) -> State:
    """Apply ``fn`` to every tensor of an RNN state (h, or both h and c). Plumbing."""
    if isinstance(state, tuple):
        return tuple(fn(s) for s in state)
    return fn(state)


def lengths_to_mask(lengths: Tensor, max_len: int) -> Tensor:
    """``mask[b, s] = s < lengths[b]``: True at real tokens, False at padding. [B, max_len]."""
    positions = torch.arange(max_len, device=lengths.device)  # (max_len,)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)  # (B, max_len)


class AdditiveAttention(nn.Module):
    r"""Additive (Bahdanau) attention.

    For a query :math:`q_i` and keys :math:`k_j` with values :math:`v_j`:

    .. math::
        e_{ij} = w_v^\top \tanh(W_q q_i + W_k k_j)        \quad \text{(score)}

        \alpha_{ij} = \frac{\exp e_{ij}}{\sum_{j'} \exp e_{ij'}}  \quad \text{(weights, over allowed } j)

        c_i = \sum_j \alpha_{ij} v_j                       \quad \text{(context)}

    A boolean ``mask`` (True = may attend) removes keys from the softmax; a float
    ``mask`` is added to the scores. A query whose keys are all masked gets
    weights 0 and context 0 (never NaN).

    Args:
        query_size: dq.  key_size: dk.  hidden_size: A, the size of the tanh layer.

    Submodules:
        W_q: ``Linear(dq, A, bias=False)``; W_k: ``Linear(dk, A, bias=False)``;
        w_v: ``Linear(A, 1, bias=False)``.

    Inputs: ``queries [B,Q,dq]``, ``keys [B,K,dk]``, ``values [B,K,dv]``,
    ``mask`` broadcastable to ``[B,Q,K]`` (a key padding mask is ``[B,1,K]``).

    Outputs: ``(context [B,Q,dv], weights [B,Q,K])``.
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


class Encoder(nn.Module):
    r"""Embeds the source and runs a (multi-layer) GRU, LSTM or tanh RNN over it.

    .. math::
        x_s = \mathrm{Embedding}(src_s), \qquad
        h^{enc}_s = \mathrm{RNN}(x_s, h^{enc}_{s-1}) \quad (s = 1 .. len_b)

    Padding must not leak into the result: the outputs at padded positions are
    exactly 0, and ``state`` is the state right after each sequence's *last real
    token* (not after the padding). Two ways to get there: pack the batch with
    ``torch.nn.utils.rnn.pack_padded_sequence(..., enforce_sorted=False)``, or
    step through time yourself and only update the rows whose sequence is still
    running.

    Args:
        vocab_size: V.  embed_size: E.  hidden_size: H.  num_layers: L.
        cell: ``"gru"``, ``"lstm"`` or ``"rnn"``.

    Submodules:
        embedding: ``Embedding(V, E, padding_idx=0)``;
        rnn: ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN`` ``(E, H, num_layers=L, batch_first=True)``.

    Inputs: ``src [B,S]`` token ids (0 = pad), ``src_lengths [B]`` (each >= 1).

    Outputs: ``(outputs [B,S,H], state)``; the top layer's output at every
    position, and the final state ``h [L,B,H]`` (GRU, RNN) or ``(h, c)`` (LSTM).
    """

    def __init__(
        self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1, cell: str = "gru"
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embed_size = embed_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        # TODO: write Encoder.__init__ (see the docstring).
        raise NotImplementedError("TODO: Encoder.__init__")

    def forward(self, src: Tensor, src_lengths: Tensor) -> Tuple[Tensor, State]:
        # TODO: write Encoder.forward (see the docstring).
        raise NotImplementedError("TODO: Encoder.forward")


class Decoder(nn.Module):
    r"""A conditional language model without attention.

    .. math::
        h_t = \mathrm{RNN}(\mathrm{Embedding}(y_{t-1}), h_{t-1}), \qquad
        \mathrm{logits}_t = W_{out} h_t + b_{out}

    with :math:`h_0` the encoder's final state and :math:`y_0` = BOS. The
    encoder outputs and source mask are accepted (so every decoder has the same
    call) and ignored.

    Submodules:
        embedding: ``Embedding(V, E, padding_idx=0)``;
        rnn: ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN`` ``(E, H, num_layers=L, batch_first=True)``;
        out: ``Linear(H, V)``.

    Inputs: ``tgt_in [B,T]`` (the previous tokens, starting with BOS), ``state``
    (``h [L,B,H]`` or ``(h, c)``; None means zeros), ``enc_outputs``, ``src_mask`` (unused).

    Outputs: ``(logits [B,T,V], state, None)``; ``state`` is the state after the
    last step, so decoding can continue from it one token at a time.
    """

    def __init__(
        self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1, cell: str = "gru"
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embed_size = embed_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        # TODO: write Decoder.__init__ (see the docstring).
        raise NotImplementedError("TODO: Decoder.__init__")

    def forward(
        self,
        tgt_in: Tensor,
        state: Optional[State],
        enc_outputs: Optional[Tensor] = None,
        src_mask: Optional[Tensor] = None,
    ) -> Tuple[Tensor, State, None]:
        # TODO: write Decoder.forward (see the docstring).
        raise NotImplementedError("TODO: Decoder.forward")


class AttentionDecoder(nn.Module):
    r"""A decoder with Bahdanau (additive) attention over the encoder outputs.

    At every step t, with :math:`s_{t-1}` the top layer's previous hidden state
    (for an LSTM its ``h``, not ``c``; at t = 1 the encoder's final state):

    .. math::
        e_{t,s} = w_v^\top \tanh(W_q s_{t-1} + W_k h^{enc}_s)        \quad (s \text{ real, not pad})

        \alpha_{t,s} = \mathrm{softmax}_s(e_{t,s})

        c_t = \sum_s \alpha_{t,s} h^{enc}_s                         \quad \text{(context vector, [B,H])}

        s_t = \mathrm{RNN}([c_t; \mathrm{Embedding}(y_{t-1})], s_{t-1})  \quad \text{(context first)}

        \mathrm{logits}_t = W_{out} s_t + b_{out}

    The query depends on the previous step's state, so the steps run in a
    Python loop over t, one ``rnn`` step each.

    Submodules:
        embedding: ``Embedding(V, E, padding_idx=0)``;
        attention: ``AdditiveAttention(H, H, H)``;
        rnn: ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN`` ``(H + E, H, num_layers=L, batch_first=True)``;
        out: ``Linear(H, V)``.

    Inputs: ``tgt_in [B,T]``, ``state`` (``h [L,B,H]`` or ``(h, c)``; None means
    zeros), ``enc_outputs [B,S,H]`` (required), ``src_mask [B,S]`` (True = real
    token; None = attend everywhere).

    Outputs: ``(logits [B,T,V], state, attention_weights [B,T,S])``.
    """

    def __init__(
        self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1, cell: str = "gru"
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embed_size = embed_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        # TODO: write AttentionDecoder.__init__ (see the docstring).
        raise NotImplementedError("TODO: AttentionDecoder.__init__")

    def forward(
        self,
        tgt_in: Tensor,
        state: Optional[State],
        enc_outputs: Optional[Tensor] = None,
        src_mask: Optional[Tensor] = None,
    ) -> Tuple[Tensor, State, Tensor]:
        # TODO: write AttentionDecoder.forward (see the docstring).
        raise NotImplementedError("TODO: AttentionDecoder.forward")


class Seq2Seq(nn.Module):
    r"""Encoder + decoder, trained with teacher forcing, decoded greedily or by beam search.

    **Teacher forcing** (``forward``): the decoder reads the *gold* previous
    tokens ``tgt_in = [BOS, y_1, .., y_{T-1}]`` and returns logits for
    ``[y_1, .., y_T]``, all T steps in one call.

    **Decoding** (``greedy_decode``, ``beam_search``) feeds back the model's own
    predictions, one step at a time, continuing from the decoder's state. The
    result excludes BOS and keeps EOS; a row that has produced EOS is filled with
    0 (pad) after it; decoding stops when every row has finished or after
    ``max_len`` tokens, and the result is as wide as its longest row.

    **Beam search** keeps the K best prefixes (hypotheses) per source sentence,
    scored by the sum of their log-probabilities (no length penalty). At each step
    every hypothesis is extended by every token (a finished one only by pad, at
    cost 0), and the K best of the ``K * V`` candidates are kept. All ``B * K``
    hypotheses run as one batch through the decoder. A row is finished when its
    best hypothesis has ended with EOS: log-probabilities are <= 0, so no
    unfinished hypothesis can overtake it. With ``K = 1`` this is greedy decoding.

    Args: ``encoder`` (an :class:`Encoder`), ``decoder`` (a :class:`Decoder` or
    :class:`AttentionDecoder` with the same hidden size, layers and cell).
    """

    def __init__(self, encoder: Encoder, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def _encode(self, src: Tensor, src_lengths: Tensor) -> Tuple[Tensor, State, Tensor]:
        """Encoder outputs [B,S,H], final state and the source mask [B,S] (True = real token)."""
        # TODO: write Seq2Seq._encode (see the docstring).
        raise NotImplementedError("TODO: Seq2Seq._encode")

    def forward(self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor) -> Tensor:
        """Teacher forcing: ``src [B,S]``, ``src_lengths [B]``, ``tgt_in [B,T]`` -> logits ``[B,T,V]``."""
        # TODO: write Seq2Seq.forward (see the docstring).
        raise NotImplementedError("TODO: Seq2Seq.forward")

    @torch.no_grad()
    def greedy_decode(self, src: Tensor, src_lengths: Tensor, max_len: int, bos_id: int, eos_id: int) -> Tensor:
        """Pick the most likely token at each step: ``src [B,S]`` -> tokens ``[B, <=max_len]``."""
        # TODO: write Seq2Seq.greedy_decode (see the docstring).
        raise NotImplementedError("TODO: Seq2Seq.greedy_decode")

    @torch.no_grad()
    def beam_search(
        self, src: Tensor, src_lengths: Tensor, beam_size: int, max_len: int, bos_id: int, eos_id: int
    ) -> Tensor:
        """The best of ``beam_size`` hypotheses per row: ``src [B,S]`` -> tokens ``[B, <=max_len]``."""
        # TODO: write Seq2Seq.beam_search (see the docstring).
        raise NotImplementedError("TODO: Seq2Seq.beam_search")


def sequence_loss(logits: Tensor, targets: Tensor, pad_id: int = 0) -> Tensor:
    r"""Token-level cross-entropy averaged over the non-pad targets.

    .. math::
        \mathcal{L} = -\frac{1}{N} \sum_{b,t:\ y_{b,t} \ne pad} \log \mathrm{softmax}(\mathrm{logits}_{b,t})_{y_{b,t}},
        \qquad N = \#\{(b,t): y_{b,t} \ne pad\}

    Inputs: ``logits [B,T,V]``, ``targets [B,T]`` (pad positions ignored).
    Output: a scalar, differentiable; 0 (not NaN) when every target is pad.
    """
    # TODO: write sequence_loss (see the docstring).
    raise NotImplementedError("TODO: sequence_loss")
