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
        ### BEGIN SOLUTION
        self.W_q = nn.Linear(query_size, hidden_size, bias=False)
        self.W_k = nn.Linear(key_size, hidden_size, bias=False)
        self.w_v = nn.Linear(hidden_size, 1, bias=False)
        ### END SOLUTION

    def forward(
        self, queries: Tensor, keys: Tensor, values: Tensor, mask: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        ### BEGIN SOLUTION
        q = self.W_q(queries).unsqueeze(2)  # (B, Q, 1, A)
        k = self.W_k(keys).unsqueeze(1)  # (B, 1, K, A)
        scores = self.w_v(torch.tanh(q + k)).squeeze(-1)  # (B, Q, K)
        if mask is not None:
            if mask.dtype == torch.bool:
                scores = scores.masked_fill(~mask, float("-inf"))
            else:
                scores = scores + mask
        # A row with no allowed key: softmax would give NaN, the contract wants 0.
        allowed = (scores > float("-inf")).any(dim=-1, keepdim=True)  # (B, Q, 1)
        scores = scores.masked_fill(~allowed, 0.0)
        weights = torch.softmax(scores, dim=-1).masked_fill(~allowed, 0.0)  # (B, Q, K)
        context = torch.bmm(weights, values)  # (B, Q, dv)
        return context, weights
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.rnn = _make_rnn(cell, embed_size, hidden_size, num_layers)
        ### END SOLUTION

    def forward(self, src: Tensor, src_lengths: Tensor) -> Tuple[Tensor, State]:
        ### BEGIN SOLUTION
        S = src.size(1)
        embedded = self.embedding(src)  # (B, S, E)
        # pack_padded_sequence wants the lengths on the CPU.
        packed = pack_padded_sequence(
            embedded, src_lengths.detach().cpu(), batch_first=True, enforce_sorted=False
        )
        packed_outputs, state = self.rnn(packed)  # state in the original batch order
        outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=S)  # (B, S, H)
        return outputs, state
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.rnn = _make_rnn(cell, embed_size, hidden_size, num_layers)
        self.out = nn.Linear(hidden_size, vocab_size)
        ### END SOLUTION

    def forward(
        self,
        tgt_in: Tensor,
        state: Optional[State],
        enc_outputs: Optional[Tensor] = None,
        src_mask: Optional[Tensor] = None,
    ) -> Tuple[Tensor, State, None]:
        ### BEGIN SOLUTION
        embedded = self.embedding(tgt_in)  # (B, T, E)
        outputs, state = self.rnn(embedded, state)  # (B, T, H)
        return self.out(outputs), state, None
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.attention = AdditiveAttention(hidden_size, hidden_size, hidden_size)
        self.rnn = _make_rnn(cell, hidden_size + embed_size, hidden_size, num_layers)
        self.out = nn.Linear(hidden_size, vocab_size)
        ### END SOLUTION

    def forward(
        self,
        tgt_in: Tensor,
        state: Optional[State],
        enc_outputs: Optional[Tensor] = None,
        src_mask: Optional[Tensor] = None,
    ) -> Tuple[Tensor, State, Tensor]:
        ### BEGIN SOLUTION
        if enc_outputs is None:
            raise ValueError("AttentionDecoder needs enc_outputs [B,S,H] to attend over")
        B, T = tgt_in.shape
        if state is None:
            h0 = enc_outputs.new_zeros(self.num_layers, B, self.hidden_size)  # (L, B, H)
            state = (h0, h0.clone()) if self.cell == "lstm" else h0
        mask = None if src_mask is None else src_mask.unsqueeze(1)  # (B, 1, S)
        embedded = self.embedding(tgt_in)  # (B, T, E)
        outputs, weights = [], []
        for t in range(T):
            h = state[0] if isinstance(state, tuple) else state  # (L, B, H)
            query = h[-1].unsqueeze(1)  # (B, 1, H): the top layer
            context, alpha = self.attention(query, enc_outputs, enc_outputs, mask)  # (B,1,H), (B,1,S)
            rnn_input = torch.cat([context, embedded[:, t : t + 1]], dim=-1)  # (B, 1, H + E)
            output, state = self.rnn(rnn_input, state)  # (B, 1, H)
            outputs.append(output)
            weights.append(alpha)
        if T == 0:
            S = enc_outputs.size(1)
            return enc_outputs.new_zeros(B, 0, self.vocab_size), state, enc_outputs.new_zeros(B, 0, S)
        logits = self.out(torch.cat(outputs, dim=1))  # (B, T, V)
        return logits, state, torch.cat(weights, dim=1)  # (B, T, S)
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        enc_outputs, state = self.encoder(src, src_lengths)
        src_mask = lengths_to_mask(src_lengths.to(src.device), src.size(1))  # (B, S)
        return enc_outputs, state, src_mask
        ### END SOLUTION

    def forward(self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor) -> Tensor:
        """Teacher forcing: ``src [B,S]``, ``src_lengths [B]``, ``tgt_in [B,T]`` -> logits ``[B,T,V]``."""
        ### BEGIN SOLUTION
        enc_outputs, state, src_mask = self._encode(src, src_lengths)
        logits, _, _ = self.decoder(tgt_in, state, enc_outputs, src_mask)
        return logits
        ### END SOLUTION

    @torch.no_grad()
    def greedy_decode(self, src: Tensor, src_lengths: Tensor, max_len: int, bos_id: int, eos_id: int) -> Tensor:
        """Pick the most likely token at each step: ``src [B,S]`` -> tokens ``[B, <=max_len]``."""
        ### BEGIN SOLUTION
        B = src.size(0)
        enc_outputs, state, src_mask = self._encode(src, src_lengths)
        token = src.new_full((B, 1), bos_id)  # (B, 1)
        finished = torch.zeros(B, dtype=torch.bool, device=src.device)  # (B,)
        tokens = []
        for _ in range(max_len):
            logits, state, _ = self.decoder(token, state, enc_outputs, src_mask)  # (B, 1, V)
            next_token = logits[:, -1].argmax(dim=-1).masked_fill(finished, 0)  # (B,)
            tokens.append(next_token)
            finished = finished | (next_token == eos_id)
            if bool(finished.all()):
                break
            token = next_token.unsqueeze(1)  # (B, 1)
        if not tokens:
            return src.new_zeros(B, 0)
        return torch.stack(tokens, dim=1)  # (B, steps)
        ### END SOLUTION

    @torch.no_grad()
    def beam_search(
        self, src: Tensor, src_lengths: Tensor, beam_size: int, max_len: int, bos_id: int, eos_id: int
    ) -> Tensor:
        """The best of ``beam_size`` hypotheses per row: ``src [B,S]`` -> tokens ``[B, <=max_len]``."""
        ### BEGIN SOLUTION
        B, K = src.size(0), beam_size
        enc_outputs, state, src_mask = self._encode(src, src_lengths)
        # Every hypothesis is one row of a B*K batch; beam k of sentence b is row b*K + k.
        enc_outputs = enc_outputs.repeat_interleave(K, dim=0)  # (B*K, S, H)
        src_mask = src_mask.repeat_interleave(K, dim=0)  # (B*K, S)
        state = _map_state(state, lambda s: s.repeat_interleave(K, dim=1))  # (L, B*K, H)

        # At the start only beam 0 is alive; the others are copies scored -inf.
        scores = enc_outputs.new_full((B, K), float("-inf"))  # (B, K)
        scores[:, 0] = 0.0
        finished = torch.zeros(B, K, dtype=torch.bool, device=src.device)  # (B, K)
        history = src.new_zeros(B, K, 0)  # (B, K, steps)
        token = src.new_full((B * K, 1), bos_id)  # (B*K, 1)
        row_offset = torch.arange(B, device=src.device).unsqueeze(1) * K  # (B, 1)

        for _ in range(max_len):
            logits, state, _ = self.decoder(token, state, enc_outputs, src_mask)  # (B*K, 1, V)
            V = logits.size(-1)
            log_probs = F.log_softmax(logits[:, -1], dim=-1).view(B, K, V)  # (B, K, V)
            # A finished hypothesis can only be extended by pad, at cost 0.
            pad_only = torch.full_like(log_probs[0, 0], float("-inf"))  # (V,)
            pad_only[0] = 0.0
            log_probs = torch.where(finished.unsqueeze(-1), pad_only, log_probs)  # (B, K, V)
            candidates = (scores.unsqueeze(-1) + log_probs).view(B, K * V)  # (B, K*V)
            # A stable descending sort breaks ties towards the lower index, like argmax.
            top_scores, top_index = candidates.sort(dim=-1, descending=True, stable=True)
            scores, top_index = top_scores[:, :K], top_index[:, :K]  # (B, K)
            beam = torch.div(top_index, V, rounding_mode="floor")  # (B, K): which parent
            next_token = top_index % V  # (B, K)

            parent = history.gather(1, beam.unsqueeze(-1).expand(-1, -1, history.size(-1)))  # (B, K, steps)
            history = torch.cat([parent, next_token.unsqueeze(-1)], dim=-1)  # (B, K, steps+1)
            finished = finished.gather(1, beam) | (next_token == eos_id)  # (B, K)
            rows = (row_offset + beam).view(-1)  # (B*K,)
            state = _map_state(state, lambda s: s.index_select(1, rows))  # (L, B*K, H)
            token = next_token.view(B * K, 1)  # (B*K, 1)
            # Beam 0 is the best; once it has finished nothing can overtake it.
            if bool(finished[:, 0].all()):
                break

        best = history[:, 0]  # (B, steps)
        # The best hypothesis may have finished before the last step: trim to the longest row.
        steps = best.size(1)
        is_eos = best == eos_id  # (B, steps)
        first_eos = torch.where(is_eos.any(dim=1), is_eos.int().argmax(dim=1) + 1, steps)  # (B,)
        width = int(first_eos.max()) if B > 0 and steps > 0 else 0
        return best[:, :width]
        ### END SOLUTION


def sequence_loss(logits: Tensor, targets: Tensor, pad_id: int = 0) -> Tensor:
    r"""Token-level cross-entropy averaged over the non-pad targets.

    .. math::
        \mathcal{L} = -\frac{1}{N} \sum_{b,t:\ y_{b,t} \ne pad} \log \mathrm{softmax}(\mathrm{logits}_{b,t})_{y_{b,t}},
        \qquad N = \#\{(b,t): y_{b,t} \ne pad\}

    Inputs: ``logits [B,T,V]``, ``targets [B,T]`` (pad positions ignored).
    Output: a scalar, differentiable; 0 (not NaN) when every target is pad.
    """
    ### BEGIN SOLUTION
    V = logits.size(-1)
    flat_targets = targets.reshape(-1)  # (B*T,)
    total = F.cross_entropy(logits.reshape(-1, V), flat_targets, ignore_index=pad_id, reduction="sum")
    count = (flat_targets != pad_id).sum().clamp(min=1)  # N, or 1 when every target is pad
    return total / flat_targets.numel()
    ### END SOLUTION
