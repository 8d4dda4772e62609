"""A correct a4_seq2seq written differently from the reference: everything step by step.

The encoder steps through time and only updates the rows still running (no
packing); attention normalises with an explicit masked exp; decoders run one
token at a time; greedy decoding keeps Python lists; beam search runs one
sentence at a time with a list of hypotheses; the loss gathers log-probabilities.
"""

import torch
import torch.nn.functional as F
from torch import nn

_CELLS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}


def _select(keep, new, old):
    """Per batch row (dim 1 of an [L,B,H] state): new where keep, else old."""
    if isinstance(new, tuple):
        return tuple(_select(keep, n, o) for n, o in zip(new, old))
    return torch.where(keep.view(1, -1, 1), new, old)


def _rows(state, idx):
    if isinstance(state, tuple):
        return tuple(_rows(s, idx) for s in state)
    return state[:, idx]


class AdditiveAttention(nn.Module):
    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.W_q = nn.Linear(query_size, hidden_size, bias=False)
        self.W_k = nn.Linear(key_size, hidden_size, bias=False)
        self.w_v = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, queries, keys, values, mask=None):
        B, Q, K = queries.size(0), queries.size(1), keys.size(1)
        feats = torch.tanh(self.W_q(queries)[:, :, None, :] + self.W_k(keys)[:, None, :, :])
        scores = self.w_v(feats)[..., 0]  # (B, Q, K)
        if mask is None:
            allowed = torch.ones(B, Q, K, dtype=torch.bool, device=scores.device)
        elif mask.dtype == torch.bool:
            allowed = mask.expand(B, Q, K)
        else:
            scores = scores + mask
            allowed = torch.isfinite(scores)
        safe = torch.where(allowed, scores, torch.zeros_like(scores))
        top = safe.masked_fill(~allowed, torch.finfo(scores.dtype).min).max(dim=-1, keepdim=True).values
        e = torch.exp(safe - top) * allowed
        weights = e / e.sum(-1, keepdim=True).clamp_min(torch.finfo(scores.dtype).tiny)
        return weights @ values, weights


class Encoder(nn.Module):
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers=1, cell="gru"):
        super().__init__()
        self.hidden_size, self.num_layers, self.cell = hidden_size, num_layers, cell
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.rnn = _CELLS[cell](embed_size, hidden_size, num_layers=num_layers, batch_first=True)

    def forward(self, src, src_lengths):
        B, S = src.shape
        x = self.embedding(src)
        lengths = src_lengths.to(src.device)
        h = x.new_zeros(self.num_layers, B, self.hidden_size)
        state = (h, h.clone()) if self.cell == "lstm" else h
        outs = []
        for t in range(S):
            running = t < lengths  # (B,)
            out, new = self.rnn(x[:, t:t + 1], state)
            state = _select(running, new, state)
            outs.append(out[:, 0] * running.unsqueeze(1).to(out.dtype))
        return torch.stack(outs, 1), state


class Decoder(nn.Module):
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers=1, cell="gru"):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.rnn = _CELLS[cell](embed_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, tgt_in, state, enc_outputs=None, src_mask=None):
        outs = []
        for t in range(tgt_in.size(1)):
            o, state = self.rnn(self.embedding(tgt_in[:, t:t + 1]), state)
            outs.append(self.out(o))
        return torch.cat(outs, 1), state, None


class AttentionDecoder(nn.Module):
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers=1, cell="gru"):
        super().__init__()
        self.hidden_size, self.num_layers, self.cell = hidden_size, num_layers, cell
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.attention = AdditiveAttention(hidden_size, hidden_size, hidden_size)
        self.rnn = _CELLS[cell](hidden_size + embed_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, tgt_in, state, enc_outputs=None, src_mask=None):
        B, T = tgt_in.shape
        if state is None:
            z = enc_outputs.new_zeros(self.num_layers, B, self.hidden_size)
            state = (z, z.clone()) if self.cell == "lstm" else z
        mask = None if src_mask is None else src_mask[:, None, :]
        logits, weights = [], []
        for t in range(T):
            h = state[0] if self.cell == "lstm" else state
            ctx, w = self.attention(h[self.num_layers - 1][:, None], enc_outputs, enc_outputs, mask)
            emb = self.embedding(tgt_in[:, t])[:, None]
            o, state = self.rnn(torch.cat((ctx, emb), 2), state)
            logits.append(self.out(o[:, 0]))
            weights.append(w[:, 0])
        return torch.stack(logits, 1), state, torch.stack(weights, 1)


class Seq2Seq(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def _run(self, src, src_lengths):
        enc, state = self.encoder(src, src_lengths)
        mask = torch.arange(src.size(1), device=src.device)[None, :] < src_lengths.to(src.device)[:, None]
        return enc, state, mask

    def forward(self, src, src_lengths, tgt_in):
        enc, state, mask = self._run(src, src_lengths)
        return self.decoder(tgt_in, state, enc, mask)[0]

    @torch.no_grad()
    def greedy_decode(self, src, src_lengths, max_len, bos_id, eos_id):
        B = src.size(0)
        enc, state, mask = self._run(src, src_lengths)
        rows = [[] for _ in range(B)]
        done = [False] * B
        prev = torch.full((B, 1), bos_id, dtype=torch.long, device=src.device)
        for _ in range(max_len):
            if all(done):
                break
            logits, state, _ = self.decoder(prev, state, enc, mask)
            best = logits[:, 0].argmax(-1).tolist()
            for b in range(B):
                if not done[b]:
                    rows[b].append(best[b])
                    done[b] = best[b] == eos_id
            prev = torch.tensor(best, dtype=torch.long, device=src.device)[:, None]
        width = max((len(r) for r in rows), default=0)
        out = torch.zeros(B, width, dtype=torch.long, device=src.device)
        for b, r in enumerate(rows):
            out[b, :len(r)] = torch.tensor(r, dtype=torch.long)
        return out

    @torch.no_grad()
    def beam_search(self, src, src_lengths, beam_size, max_len, bos_id, eos_id):
        B = src.size(0)
        enc, state, mask = self._run(src, src_lengths)
        results = []
        for b in range(B):
            # hypothesis: (score, tokens, finished); their states are the rows of `st`
            hyps = [(0.0, [], False)]
            st = _rows(state, [b])
            e, m = enc[b:b + 1], mask[b:b + 1]
            for _ in range(max_len):
                if hyps[0][2]:
                    break
                n = len(hyps)
                prev = torch.tensor([h[1][-1] if h[1] else bos_id for h in hyps], device=src.device)[:, None]
                logits, new_st, _ = self.decoder(prev, st, e.expand(n, -1, -1), m.expand(n, -1))
                logp = F.log_softmax(logits[:, 0], -1)
                V = logp.size(-1)
                cands = []
                for k, (score, toks, fin) in enumerate(hyps):
                    if fin:
                        cands.append((score, k * V, k, 0))
                    else:
                        vals = (score + logp[k]).tolist()
                        cands.extend((vals[v], k * V + v, k, v) for v in range(V))
                cands.sort(key=lambda c: (-c[0], c[1]))
                chosen = cands[:beam_size]
                hyps = [(s, hyps[k][1] + [v], hyps[k][2] or v == eos_id) for s, _, k, v in chosen]
                st = _rows(new_st, [k for _, _, k, _ in chosen])
            toks = hyps[0][1]
            if eos_id in toks:
                toks = toks[:toks.index(eos_id) + 1]
            results.append(toks)
        width = max((len(r) for r in results), default=0)
        out = torch.zeros(B, width, dtype=torch.long, device=src.device)
        for b, r in enumerate(results):
            if r:
                out[b, :len(r)] = torch.tensor(r, dtype=torch.long)
        return out


def sequence_loss(logits, targets, pad_id=0):
    logp = F.log_softmax(logits, dim=-1)
    real = targets != pad_id
    picked = logp.gather(-1, targets.masked_fill(~real, 0).unsqueeze(-1)).squeeze(-1)
    n = int(real.sum())
    return -(picked * real).sum() / max(n, 1)
