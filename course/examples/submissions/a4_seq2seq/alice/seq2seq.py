"""A correct a4_seq2seq written differently from the reference: sort, pack, unsort; keys projected once.

The encoder sorts the batch by length, packs with enforce_sorted=True and puts
outputs and state back in the original order; the attention decoder projects
the keys once before its loop and scores with einsum and an additive -inf mask;
greedy decoding writes into a preallocated tensor; beam search uses topk over
the flattened K*V candidates (only beam 0 at the first step); the loss uses
nll_loss with ignore_index.
"""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def _rnn(cell, inp, hid, layers):
    cls = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[cell]
    return cls(inp, hid, num_layers=layers, batch_first=True)


def _apply(state, fn):
    return tuple(fn(s) for s in state) if isinstance(state, tuple) else fn(state)


def _masked_softmax(scores, allowed):
    neg = torch.zeros_like(scores).masked_fill(~allowed, float("-inf"))
    s = scores + neg
    empty = ~allowed.any(-1, keepdim=True)
    w = torch.softmax(torch.where(empty, torch.zeros_like(s), s), dim=-1)
    return torch.where(empty, torch.zeros_like(w), w)


class AdditiveAttention(nn.Module):
    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.W_q = nn.Linear(query_size, hidden_size, bias=False)
        self.W_k = nn.Linear(key_size, hidden_size, bias=False)
        self.w_v = nn.Linear(hidden_size, 1, bias=False)

    def score(self, queries, projected_keys):
        z = torch.tanh(self.W_q(queries).unsqueeze(-2) + projected_keys.unsqueeze(-3))  # (B,Q,K,A)
        return torch.einsum("bqka,a->bqk", z, self.w_v.weight[0])

    def forward(self, queries, keys, values, mask: Optional[torch.Tensor] = None):
        scores = self.score(queries, self.W_k(keys))
        if mask is not None and mask.dtype != torch.bool:
            scores = scores + mask
            mask = None
        allowed = torch.isfinite(scores) if mask is None else mask.expand_as(scores)
        w = _masked_softmax(scores, allowed)
        return torch.einsum("bqk,bkd->bqd", w, values), w


class Encoder(nn.Module):
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers=1, cell="gru"):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.rnn = _rnn(cell, embed_size, hidden_size, num_layers)

    def forward(self, src, src_lengths):
        lengths = src_lengths.detach().cpu()
        order = torch.argsort(lengths, descending=True, stable=True)
        inverse = torch.argsort(order)
        x = self.embedding(src)[order.to(src.device)]
        packed = pack_padded_sequence(x, lengths[order], batch_first=True, enforce_sorted=True)
        out, state = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        inv = inverse.to(src.device)
        return out[inv], _apply(state, lambda s: s[:, inv])


class Decoder(nn.Module):
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers=1, cell="gru"):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.rnn = _rnn(cell, embed_size, hidden_size, num_layers)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, tgt_in, state, enc_outputs=None, src_mask=None):
        h, state = self.rnn(self.embedding(tgt_in), state)
        return self.out(h), state, None


class AttentionDecoder(nn.Module):
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers=1, cell="gru"):
        super().__init__()
        self.H, self.L, self.lstm = hidden_size, num_layers, cell == "lstm"
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.attention = AdditiveAttention(hidden_size, hidden_size, hidden_size)
        self.rnn = _rnn(cell, hidden_size + embed_size, hidden_size, num_layers)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, tgt_in, state, enc_outputs=None, src_mask=None):
        B, T = tgt_in.shape
        S = enc_outputs.size(1)
        if state is None:
            z = enc_outputs.new_zeros(self.L, B, self.H)
            state = (z, torch.zeros_like(z)) if self.lstm else z
        keys = self.attention.W_k(enc_outputs)  # projected once
        allowed = (torch.ones(B, 1, S, dtype=torch.bool, device=enc_outputs.device) if src_mask is None
                   else src_mask.view(B, 1, S))
        emb = self.embedding(tgt_in)
        hs, ws = [], []
        for t in range(T):
            top = (state[0] if self.lstm else state)[-1]  # (B, H)
            w = _masked_softmax(self.attention.score(top.unsqueeze(1), keys), allowed)  # (B, 1, S)
            ctx = torch.bmm(w, enc_outputs)
            o, state = self.rnn(torch.cat([ctx, emb[:, t].unsqueeze(1)], -1), state)
            hs.append(o)
            ws.append(w)
        if T == 0:
            return emb.new_zeros(B, 0, self.out.out_features), state, emb.new_zeros(B, 0, S)
        return self.out(torch.cat(hs, 1)), state, torch.cat(ws, 1)


class Seq2Seq(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def _encode(self, src, src_lengths):
        enc, state = self.encoder(src, src_lengths)
        mask = torch.arange(src.size(1), device=src.device).expand(src.size(0), -1) < \
            src_lengths.to(src.device).unsqueeze(1)
        return enc, state, mask

    def forward(self, src, src_lengths, tgt_in):
        enc, state, mask = self._encode(src, src_lengths)
        logits, _, _ = self.decoder(tgt_in, state, enc, mask)
        return logits

    @torch.no_grad()
    def greedy_decode(self, src, src_lengths, max_len, bos_id, eos_id):
        B = src.size(0)
        enc, state, mask = self._encode(src, src_lengths)
        out = torch.zeros(B, max_len, dtype=torch.long, device=src.device)
        alive = torch.ones(B, dtype=torch.bool, device=src.device)
        prev = torch.full((B, 1), bos_id, dtype=torch.long, device=src.device)
        steps = 0
        while steps < max_len and bool(alive.any()):
            logits, state, _ = self.decoder(prev, state, enc, mask)
            tok = torch.where(alive, logits.squeeze(1).argmax(-1), torch.zeros_like(alive, dtype=torch.long))
            out[:, steps] = tok
            alive = alive & (tok != eos_id)
            prev = tok.unsqueeze(1)
            steps += 1
        return out[:, :steps]

    @torch.no_grad()
    def beam_search(self, src, src_lengths, beam_size, max_len, bos_id, eos_id):
        B, K = src.size(0), beam_size
        enc, state, mask = self._encode(src, src_lengths)
        idx = torch.arange(B, device=src.device).repeat_interleave(K)
        enc, mask = enc[idx], mask[idx]
        state = _apply(state, lambda s: s[:, idx])
        score = torch.zeros(B, K, dtype=enc.dtype, device=src.device)
        done = torch.zeros(B, K, dtype=torch.bool, device=src.device)
        seqs = torch.zeros(B, K, max_len, dtype=torch.long, device=src.device)
        prev = torch.full((B * K, 1), bos_id, dtype=torch.long, device=src.device)
        steps = 0
        for step in range(max_len):
            logits, state, _ = self.decoder(prev, state, enc, mask)
            logp = torch.log_softmax(logits[:, 0], -1).view(B, K, -1)
            V = logp.size(-1)
            ext = torch.full_like(logp, float("-inf"))
            ext[..., 0] = 0.0
            logp = torch.where(done.unsqueeze(-1), ext, logp)
            total = score.unsqueeze(-1) + logp  # (B, K, V)
            if step == 0:
                total = total[:, :1]  # all beams are the same BOS prefix: use beam 0 only
            flat = total.reshape(B, -1)
            score, pick = flat.topk(K, dim=-1)
            parent, tok = pick // V, pick % V
            seqs = torch.gather(seqs, 1, parent.unsqueeze(-1).expand(-1, -1, max_len))
            seqs[:, :, step] = tok
            done = torch.gather(done, 1, parent) | (tok == eos_id)
            rows = (parent + torch.arange(B, device=src.device).unsqueeze(1) * K).flatten()
            state = _apply(state, lambda s: s[:, rows])
            prev = tok.reshape(-1, 1)
            steps = step + 1
            if bool(done[:, 0].all()):
                break
        best = seqs[:, 0, :steps]
        is_eos = best == eos_id
        ends = torch.where(is_eos.any(1), is_eos.float().argmax(1) + 1, torch.full_like(is_eos[:, 0], steps,
                                                                                        dtype=torch.long))
        width = int(ends.max()) if B else 0
        keep = torch.arange(width, device=src.device).unsqueeze(0) < ends.unsqueeze(1)
        return best[:, :width] * keep


def sequence_loss(logits, targets, pad_id=0):
    V = logits.size(-1)
    logp = F.log_softmax(logits.reshape(-1, V), dim=-1)
    flat = targets.reshape(-1)
    total = F.nll_loss(logp, flat, ignore_index=pad_id, reduction="sum")
    return total / (flat != pad_id).sum().clamp(min=1).to(logits.dtype)
