"""Cases and comparisons shared by the hidden a4_seq2seq checks (not a check file itself).

Check files cannot import a sibling (pytest runs with --import-mode=importlib),
so each loads this file with `grader.checks.load_cases(__file__)`.

A case holds the sizes, the state_dict, the inputs and what the reference
returns, and often what a few common mistakes would return (for the diagnoses
in failure messages). Everything random comes from the `Draw` passed in.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import torch

from grader.checks import assert_close, expect_tensor, expect_tuple, fail

F64 = torch.float64
CELLS = ("gru", "lstm", "rnn")


# ----------------------------------------------------------------------------- small helpers
def near(a, b, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
            and a.is_floating_point() and torch.allclose(a.to(b.dtype), b, rtol=rtol, atol=atol))


def sizes(d):
    """(V, E, H): a vocabulary and two different sizes that cannot be confused."""
    V = d.int(8, 13)
    E, H = d.distinct(2, 3, 7)
    return V, E, H


def ragged(d, B: int, S: int, V: int):
    """A padded batch of token ids [B,S] (0 = pad) and its lengths [B], in no particular order.

    One row is full (length S) and, when B >= 3, one has a single token, so both
    ends of the length range are there; real tokens are never 0.
    """
    lengths = [S] + [d.int(1, S) for _ in range(B - 1)]
    if B >= 3:
        lengths[1] = 1
    if B >= 2 and S >= 2:
        lengths[-1] = min(lengths[-1], S - 1)  # at least one padded row
    d.rng.shuffle(lengths)
    lengths_t = torch.tensor(lengths, dtype=torch.int64)
    src = d.randint(1, V, (B, S))
    src = src.masked_fill(~mask_of(lengths_t, S), 0)
    return src, lengths_t


def mask_of(lengths: torch.Tensor, S: int) -> torch.Tensor:
    return torch.arange(S).unsqueeze(0) < lengths.unsqueeze(1)


def kwargs_of(V, E, H, L, cell) -> dict:
    return dict(vocab_size=V, embed_size=E, hidden_size=H, num_layers=L, cell=cell)


def random_state(d, cell, L, B, H, scale=0.8):
    h = d.uniform(L, B, H, lo=-scale, hi=scale)
    if cell == "lstm":
        return (h, d.uniform(L, B, H, lo=-scale, hi=scale))
    return h


def state_map(state, fn):
    if isinstance(state, tuple):
        return tuple(fn(s) for s in state)
    return fn(state)


def detach(state):
    return None if state is None else state_map(state, lambda s: s.detach().clone())


def loaded(module: torch.nn.Module, d, scale: float = 0.5):
    """`module` in float64 with every parameter redrawn; returns (module, state_dict)."""
    module = module.to(F64)
    state = d.perturb_state(module, scale)
    module.load_state_dict(state)
    return module, state


def seq2seq(ref, decoder: str, kw: dict):
    return ref.Seq2Seq(ref.Encoder(**kw), getattr(ref, decoder)(**kw))


def build_seq2seq(sub, decoder: str, kw: dict, state: dict, dtype=F64):
    """Seq2Seq(Encoder(**kw), <decoder>(**kw)) in the submission, with `state` loaded."""
    enc = sub.new("Encoder", **kw)
    dec = sub.new(decoder, **kw)
    return sub.build("Seq2Seq", state, enc, dec, dtype=dtype)


def param_grads(module) -> dict:
    return {n: (None if p.grad is None else p.grad.detach().clone()) for n, p in module.named_parameters()}


def cell_name(cell: str, L: int) -> str:
    return f"{ {'gru': 'GRU', 'lstm': 'LSTM', 'rnn': 'RNN'}[cell] }, {L} layer{'s' if L > 1 else ''}"


# ----------------------------------------------------------------------------- comparing states
def state_parts(value, cell: str, what: str):
    """The submission's state as a tuple of tensors ((h,) or (h, c)), failing clearly on a wrong kind."""
    if cell == "lstm":
        h, c = expect_tuple(value, f"{what}: an LSTM state is the pair (h, c)", 2)
        return (h, c), ("h", "c")
    if isinstance(value, (tuple, list)):
        fail(f"{what}: a {cell.upper()} state is one tensor h [num_layers, B, H], got a tuple/list of "
             f"{len(value)}")
    return (value,), ("h",)


def compare_state(actual, expected, cell: str, what: str, variants=()):
    """`variants`: (state a mistake gives, message) pairs, turned into diagnoses per component."""
    parts, names = state_parts(actual, cell, what)
    exp = expected if isinstance(expected, tuple) else (expected,)
    for i, (a, e, n) in enumerate(zip(parts, exp, names)):
        diags = []
        for v, msg in variants:
            vv = v if isinstance(v, tuple) else (v,)
            diags.append(((lambda a_, e_, o=vv[i]: near(a_, o) and not near(e_, o)), msg))
        assert_close(a, e, f"{what} {n}" if cell == "lstm" else what, diagnoses=diags)


def variant_diagnoses(variants):
    return [((lambda a, e, o=o: near(a, o) and not near(e, o)), msg) for o, msg in variants if o is not None]


# ----------------------------------------------------------------------------- attention decoder variants
def attention_loop(dec, tgt_in, state, enc_outputs, src_mask, query: str = "h"):
    """The attention decoder's recurrence with a chosen mistake, for diagnoses.

    query="h": the contract (previous top-layer h); "c": an LSTM that attends with c;
    "new": the query is the step's new hidden state (the previous step's context is fed in).
    """
    B, T = tgt_in.shape
    mask = None if src_mask is None else src_mask.unsqueeze(1)
    emb = dec.embedding(tgt_in)
    outs, weights = [], []
    ctx_prev = enc_outputs.new_zeros(B, 1, enc_outputs.size(-1))
    for t in range(T):
        if query == "new":
            out, state = dec.rnn(torch.cat([ctx_prev, emb[:, t:t + 1]], -1), state)
            ctx_prev, w = dec.attention(out, enc_outputs, enc_outputs, mask)
        else:
            hc = state[1] if (query == "c" and isinstance(state, tuple)) else (
                state[0] if isinstance(state, tuple) else state)
            ctx, w = dec.attention(hc[-1].unsqueeze(1), enc_outputs, enc_outputs, mask)
            out, state = dec.rnn(torch.cat([ctx, emb[:, t:t + 1]], -1), state)
        outs.append(out)
        weights.append(w)
    return dec.out(torch.cat(outs, 1)), state, torch.cat(weights, 1)


def swapped_concat_copy(ref, dec, kw):
    """A copy of the reference decoder whose rnn reads [embedding; context] (the wrong order)."""
    E, H = kw["embed_size"], kw["hidden_size"]
    other = ref.AttentionDecoder(**kw).to(F64)
    st = {k: v.clone() for k, v in dec.state_dict().items()}
    w = st["rnn.weight_ih_l0"]  # [G*H, H+E]: columns [:H] read the context, [H:] the embedding
    # The mistake computes W[:, :E] emb + W[:, E:] ctx; a reference with these columns gives the same.
    st["rnn.weight_ih_l0"] = torch.cat([w[:, E:], w[:, :E]], 1)
    other.load_state_dict(st)
    return other


def attention_variants(ref, dec, kw, tgt_in, state, enc_outputs, src_mask):
    """(logits, state, weights, message) for the common mistakes of the attention decoder."""
    out = []
    with torch.no_grad():
        lg, st, w = dec(tgt_in, state, enc_outputs, None)
        out.append((lg, st, w, "your decoder attends to padded source positions: mask the attention "
                               "scores with src_mask (True = real token) before the softmax"))
        lg, st, w = swapped_concat_copy(ref, dec, kw)(tgt_in, state, enc_outputs, src_mask)
        out.append((lg, st, w, "your rnn reads [embedding; context]: the contract concatenates "
                               "[context; embedding] (context first)"))
        if kw["cell"] == "lstm":
            lg, st, w = attention_loop(dec, tgt_in, state, enc_outputs, src_mask, query="c")
            out.append((lg, st, w, "your LSTM decoder attends with the cell state c: the query is the "
                                   "top layer's previous hidden state h"))
        lg, st, w = attention_loop(dec, tgt_in, state, enc_outputs, src_mask, query="new")
        out.append((lg, st, w, "your query is the hidden state computed at the current step: the "
                               "query at step t is the top layer's hidden state *before* the step "
                               "(s_{t-1}), and its context is fed into that same step"))
    return out


# ----------------------------------------------------------------------------- decoding
def first_eos(row: list, eos: int):
    return row.index(eos) if eos in row else None


BEAM_HINT = (" (beam search stops once every row's best hypothesis has finished: return that best hypothesis, the "
             "one with the highest sum of log-probabilities, without length normalisation, not another beam)")


def check_tokens_format(got, what: str, B: int, max_len: int, bos: int, eos: int, beam: bool = False) -> torch.Tensor:
    """What every decoding result must satisfy, whatever the model (BOS is never likely in our models)."""
    got = expect_tensor(got, what)
    if got.dtype != torch.int64:
        fail(f"{what}: expected token ids of dtype int64 (long), got {str(got.dtype).replace('torch.', '')}")
    if got.dim() != 2 or got.size(0) != B:
        fail(f"{what}: expected shape [B={B}, <=max_len={max_len}], got {tuple(got.shape)}")
    W = got.size(1)
    if W > max_len:
        fail(f"{what}: {W} tokens per row, more than max_len={max_len}")
    rows = got.tolist()
    if W > 0 and all(r[0] == bos for r in rows):
        fail(f"{what}: every row starts with BOS ({bos}): the output must exclude BOS and start with the "
             "first generated token")
    if any(bos in r for r in rows):
        b = next(i for i, r in enumerate(rows) if bos in r)
        fail(f"{what}: row {b} contains BOS ({bos}) although the model gives it almost no probability: "
             f"the output must exclude BOS (got {rows[b]})")
    ends = []
    for b, r in enumerate(rows):
        k = first_eos(r, eos)
        if k is not None and any(x != 0 for x in r[k + 1:]):
            fail(f"{what}: row {b} has tokens other than pad (0) after its EOS ({eos}): got {r}. Once a "
                 "row has produced EOS, fill the rest of it with 0 (and, in beam search, extend a finished "
                 "hypothesis only by pad)")
        ends.append(None if k is None else k + 1)
    if any(e is None for e in ends):
        if W < max_len:
            b = ends.index(None)
            fail(f"{what}: row {b} never produced EOS, yet decoding stopped after {W} < max_len={max_len} "
                 f"steps: got {rows[b]}" + (BEAM_HINT if beam else ""))
    elif W > max(ends, default=0):
        fail(f"{what}: every row has finished by step {max(ends)} but the output is {W} wide: stop "
             "decoding when every row has produced EOS (the result is as wide as its longest row)")
    return got


def compare_tokens(got, expected: torch.Tensor, what: str, max_len: int, bos: int, eos: int,
                   beam: bool = False) -> None:
    got = check_tokens_format(got, what, expected.size(0), max_len, bos, eos, beam)
    if got.shape == expected.shape and torch.equal(got, expected):
        return
    rows_g, rows_e = got.tolist(), expected.tolist()
    bad = [b for b in range(len(rows_e)) if _strip(rows_g[b]) != _strip(rows_e[b])]
    if not bad:
        fail(f"{what}: expected {expected.size(1)} columns, got {got.size(1)}")
    b = bad[0]
    fail(f"{what}: {len(bad)} of {len(rows_e)} rows differ from the reference's; row {b}: got "
         f"{rows_g[b]}, expected {rows_e[b]}" + (BEAM_HINT if beam else ""))


def _strip(row):
    row = list(row)
    while row and row[-1] == 0:
        row.pop()
    return row


def decode_model(d, ref, decoder: str, cell: str, L: int):
    """A model whose decoding is not degenerate: pad and BOS are never likely, EOS is tunable."""
    V, E, H = sizes(d)
    V = max(V, 9)
    kw = kwargs_of(V, E, H, L, cell)
    m = seq2seq(ref, decoder, kw).to(F64)
    state = d.perturb_state(m, 1.5)
    for k in state:
        if "embedding" in k:
            state[k] = state[k] * (2.0 / 1.5)
    state["decoder.out.weight"] = state["decoder.out.weight"] * 2.0
    bos, eos = d.distinct(2, 1, V - 1)
    state["decoder.out.bias"][0] = -30.0
    state["decoder.out.bias"][bos] = -30.0
    m.load_state_dict(state)
    return m, kw, state, bos, eos


def ends_of(tokens: torch.Tensor, eos: int):
    return [None if first_eos(r, eos) is None else first_eos(r, eos) + 1 for r in tokens.tolist()]


def stable(m, state, fn, d) -> bool:
    """The decoding result does not change when the weights move by ~1e-7 (no near ties)."""
    base = fn(m)
    noisy = {k: (v + 1e-7 * d.randn(*v.shape) if v.is_floating_point() else v) for k, v in state.items()}
    other = copy.deepcopy(m)
    other.load_state_dict(noisy)
    return torch.equal(base, fn(other))


def decode_case(d, ref, decoder: str, cell: str, L: int, B: int, max_len: int, beam_size: int):
    """Draw models until greedy and beam decoding are varied: rows of different lengths, all finishing
    before max_len, beam search different from greedy somewhere, and no near ties."""
    best = None
    for attempt in range(16):
        m, kw, state, bos, eos = decode_model(d, ref, decoder, cell, L)
        S = d.int(3, 7)
        src, lengths = ragged(d, B, S, kw["vocab_size"])
        for eb in (x / 2 for x in range(-6, 20)):
            state["decoder.out.bias"][eos] = eb
            m.load_state_dict(state)
            with torch.no_grad():
                g = m.greedy_decode(src, lengths, max_len, bos, eos)
            ends = ends_of(g, eos)
            if None in ends or max(ends) < 3:
                continue
            with torch.no_grad():
                bm = m.beam_search(src, lengths, beam_size, max_len, bos, eos)
            bends = ends_of(bm, eos)
            score = (len(set(ends)) >= min(B, 3)) + (None not in bends) + 2 * (not torch.equal(
                _pad_to(g, max_len), _pad_to(bm, max_len)))
            if best is not None and score <= best[0]:
                continue
            with torch.no_grad():
                ok = stable(m, dict(state), lambda mm: mm.greedy_decode(src, lengths, max_len, bos, eos), d) and \
                    stable(m, dict(state), lambda mm: mm.beam_search(src, lengths, beam_size, max_len, bos, eos), d)
            if not ok:
                continue
            best = (score, dict(kw=kw, state={k: v.clone() for k, v in state.items()}, bos=bos, eos=eos,
                                src=src, lengths=lengths))
            if score >= 4:
                break
        if best is not None and best[0] >= 4:
            break
    if best is None:  # extremely unlikely; decoding is still compared, only less varied
        m, kw, state, bos, eos = decode_model(d, ref, decoder, cell, L)
        S = d.int(3, 7)
        src, lengths = ragged(d, B, S, kw["vocab_size"])
        best = (0, dict(kw=kw, state=state, bos=bos, eos=eos, src=src, lengths=lengths))
    c = SimpleNamespace(decoder=decoder, cell=cell, L=L, B=B, max_len=max_len, beam_size=beam_size, **best[1])
    m = seq2seq(ref, decoder, c.kw).to(F64)
    m.load_state_dict(c.state)
    with torch.no_grad():
        c.greedy = m.greedy_decode(c.src, c.lengths, max_len, c.bos, c.eos)
        c.beam = m.beam_search(c.src, c.lengths, beam_size, max_len, c.bos, c.eos)
        longest = max(e for e in ends_of(c.greedy, c.eos) if e is not None)
        c.short_len = max(1, longest - 1)
        c.greedy_short = m.greedy_decode(c.src, c.lengths, c.short_len, c.bos, c.eos)
    c.what = f"Seq2Seq(Encoder, {decoder}) ({cell_name(cell, L)})"
    return c


def _pad_to(t: torch.Tensor, n: int) -> torch.Tensor:
    return torch.nn.functional.pad(t, (0, n - t.size(1)))


# ----------------------------------------------------------------------------- beam search, by construction
# What a known mistake in beam search returns, computed here (trusted) with the reference's own
# encoder and decoder: every case of the beam checks must be one on which each mistake gives
# another answer than the correct beam search, so no draw can hide one.
BEAM_BUGS = {
    "state_not_reordered": "each kept hypothesis must continue from its own parent's decoder state: when the "
                           "best hypotheses change places, reorder the state (index_select by the parent beam)",
    "history_not_reordered": "each kept hypothesis must carry its own parent's tokens: when the best hypotheses "
                             "change places, reorder the token history by the parent beam",
    "all_beams_start": "at the first step only one hypothesis exists (BOS): give the other beams the score -inf, "
                       "or the beam fills with copies of the same hypothesis",
    "finished_extended": "a finished hypothesis is extended only by pad, at cost 0",
    "length_normalised": "hypotheses are compared by their sum of log-probabilities, without length normalisation",
    "stops_when_a_beam_finishes": "decoding stops when the BEST hypothesis of every row has finished, not when "
                                  "any hypothesis of a row has",
    "returns_last_beam": "return each row's best hypothesis (the highest sum of log-probabilities), not the last "
                         "beam",
}
# Mistakes every beam case set must expose (the others are searched for too, when they can be).
REQUIRED_BEAM_BUGS = ("state_not_reordered", "history_not_reordered", "all_beams_start", "finished_extended",
                      "length_normalised", "stops_when_a_beam_finishes", "returns_last_beam")


def beam_variant(m, src, lengths, K, max_len, bos, eos, bug: str = ""):
    """The reference's beam search with one mistake switched on (bug="" is the correct one).

    bug="float32_scores" keeps the running scores in a float32 buffer (the mistake near ties expose).
    """
    F = torch.nn.functional
    with torch.no_grad():
        enc_outputs, state, src_mask = m._encode(src, lengths)
        B = src.size(0)
        enc_outputs = enc_outputs.repeat_interleave(K, dim=0)
        src_mask = src_mask.repeat_interleave(K, dim=0)
        state = state_map(state, lambda s: s.repeat_interleave(K, dim=1))
        scores = enc_outputs.new_full((B, K), float("-inf"))
        scores[:, 0] = 0.0
        if bug == "all_beams_start":
            scores[:] = 0.0
        if bug == "float32_scores":
            scores = scores.float()
        finished = torch.zeros(B, K, dtype=torch.bool)
        history = src.new_zeros(B, K, 0)
        token = src.new_full((B * K, 1), bos)
        row_offset = torch.arange(B).unsqueeze(1) * K
        for _ in range(max_len):
            logits, state, _ = m.decoder(token, state, enc_outputs, src_mask)
            V = logits.size(-1)
            log_probs = F.log_softmax(logits[:, -1], dim=-1).view(B, K, V)
            if bug != "finished_extended":
                pad_only = torch.full_like(log_probs[0, 0], float("-inf"))
                pad_only[0] = 0.0
                log_probs = torch.where(finished.unsqueeze(-1), pad_only, log_probs)
            candidates = (scores.unsqueeze(-1) + log_probs).view(B, K * V)
            top_scores, top_index = candidates.sort(dim=-1, descending=True, stable=True)
            scores, top_index = top_scores[:, :K], top_index[:, :K]
            if bug == "float32_scores":
                scores = scores.float()
            beam = torch.div(top_index, V, rounding_mode="floor")
            next_token = top_index % V
            if bug == "history_not_reordered":
                parent = history
            else:
                parent = history.gather(1, beam.unsqueeze(-1).expand(-1, -1, history.size(-1)))
            history = torch.cat([parent, next_token.unsqueeze(-1)], dim=-1)
            finished = finished.gather(1, beam) | (next_token == eos)
            if bug != "state_not_reordered":
                rows = (row_offset + beam).view(-1)
                state = state_map(state, lambda s: s.index_select(1, rows))
            token = next_token.view(B * K, 1)
            done = finished.any(dim=1) if bug == "stops_when_a_beam_finishes" else finished[:, 0]
            if bool(done.all()):
                break
        steps = history.size(-1)
        is_eos = history == eos  # (B, K, steps)
        ends = torch.where(is_eos.any(-1), is_eos.int().argmax(-1) + 1, steps)  # (B, K)
        if bug == "returns_last_beam":
            best = history[:, -1]
        elif bug == "length_normalised":
            pick = (scores.double() / ends.double()).argmax(dim=1)
            best = history[torch.arange(B), pick]
        else:
            best = history[:, 0]
        is_eos = best == eos
        first = torch.where(is_eos.any(dim=1), is_eos.int().argmax(dim=1) + 1, steps)
        width = int(first.max()) if B > 0 and steps > 0 else 0
        return best[:, :width]


def same_tokens(a: torch.Tensor, b: torch.Tensor, n: int) -> bool:
    return torch.equal(_pad_to(a, n), _pad_to(b, n))


def _model_for(ref, decoder, kw, state):
    m = seq2seq(ref, decoder, kw).to(F64)
    m.load_state_dict(state)
    return m.eval()


def cut_length(run, full: torch.Tensor, eos: int):
    """The largest max_len below the longest row of `full` at which `run(max_len)` leaves some rows finished
    and cuts others off (None when there is none)."""
    ends = ends_of(full, eos)
    if None in ends:
        return None
    for n in range(max(ends) - 1, 0, -1):
        short = ends_of(run(n), eos)
        if None in short and any(e is not None for e in short):
            return n
    return None


def _beam_candidate(d, ref, decoder, cell, L, B, max_len, K, need: set):
    """One model and source with an EOS bias that makes decoding varied; None when none is found."""
    m, kw, state, bos, eos = decode_model(d, ref, decoder, cell, L)
    S = d.int(3, 7)
    src, lengths = ragged(d, B, S, kw["vocab_size"])
    best = None
    for eb in (x / 2 for x in range(-6, 20)):
        state["decoder.out.bias"][eos] = eb
        m.load_state_dict(state)
        with torch.no_grad():
            g = m.greedy_decode(src, lengths, max_len, bos, eos)
        ends = ends_of(g, eos)
        if None in ends or len(set(ends)) < 2 or max(ends) < 3:
            continue
        with torch.no_grad():
            bm = m.beam_search(src, lengths, K, max_len, bos, eos)
        bends = ends_of(bm, eos)
        if None in bends or len(set(bends)) < 2:
            continue
        with torch.no_grad():
            if cut_length(lambda n: m.beam_search(src, lengths, K, n, bos, eos), bm, eos) is None:
                continue
        exposed = {bug for bug in BEAM_BUGS
                   if not same_tokens(beam_variant(m, src, lengths, K, max_len, bos, eos, bug), bm, max_len)}
        score = len(exposed & need) * 10 + len(exposed) + 5 * (not same_tokens(g, bm, max_len))
        if best is not None and score <= best[0]:
            continue
        with torch.no_grad():
            ok = stable(m, dict(state), lambda mm: mm.greedy_decode(src, lengths, max_len, bos, eos), d) and \
                stable(m, dict(state), lambda mm: mm.beam_search(src, lengths, K, max_len, bos, eos), d)
        if ok:
            best = (score, exposed, dict(kw=kw, state={k: v.clone() for k, v in state.items()}, bos=bos, eos=eos,
                                         src=src, lengths=lengths))
    return best


def beam_cases(d, ref, configs, required=REQUIRED_BEAM_BUGS, attempts: int = 60):
    """One decoding case per config (decoder, cell, layers, B, max_len, beam size), drawn until together
    they expose every mistake in `required` and each has rows that finish at different steps, in greedy
    decoding and in beam search, and a max_len that cuts some rows off after others have finished."""
    chosen: dict[int, tuple] = {}
    covered: set = set()
    for attempt in range(4 * attempts):  # past `attempts`, only the configs still without a case are drawn
        if len(chosen) == len(configs) and set(required) <= covered:
            break
        todo = [j for j in range(len(configs)) if j not in chosen] if attempt >= attempts else []
        i = todo[attempt % len(todo)] if todo else attempt % len(configs)
        need = set(required) - covered
        got = _beam_candidate(d.child("beam", attempt), ref, *configs[i], need=need)
        if got is None:
            continue
        if i not in chosen or len(got[1] & need) > len(chosen[i][1] & need) or (
                not (got[1] & need) and got[0] > chosen[i][0] and not (chosen[i][1] & need)):
            chosen[i] = got
            covered = set().union(*(c[1] for c in chosen.values()))
    missing = set(required) - covered
    if len(chosen) < len(configs) or missing:
        raise RuntimeError(f"internal error: no decoding cases expose {sorted(missing)} (seed {d.seed})")
    out = []
    for i, cfg in enumerate(configs):
        decoder, cell, L, B, max_len, K = cfg
        _, exposed, fields = chosen[i]
        c = SimpleNamespace(decoder=decoder, cell=cell, L=L, B=B, max_len=max_len, beam_size=K, exposed=exposed,
                            **fields)
        m = _model_for(ref, decoder, c.kw, c.state)
        with torch.no_grad():
            c.greedy = m.greedy_decode(c.src, c.lengths, max_len, c.bos, c.eos)
            c.beam = m.beam_search(c.src, c.lengths, K, max_len, c.bos, c.eos)
            if not torch.equal(beam_variant(m, c.src, c.lengths, K, max_len, c.bos, c.eos), c.beam):
                raise RuntimeError("internal error: the checks' beam search differs from the reference's")
            c.variants = {bug: beam_variant(m, c.src, c.lengths, K, max_len, c.bos, c.eos, bug) for bug in BEAM_BUGS}
            c.beam_short_len = cut_length(lambda n: m.beam_search(c.src, c.lengths, K, n, c.bos, c.eos), c.beam,
                                          c.eos) or 0
            c.beam_short = m.beam_search(c.src, c.lengths, K, max(c.beam_short_len, 1), c.bos, c.eos)
        c.what = f"Seq2Seq(Encoder, {decoder}) ({cell_name(cell, L)})"
        for name, full, short, n in (("beam", c.beam, c.beam_short, c.beam_short_len),):
            full_ends, short_ends = ends_of(full, c.eos), ends_of(short, c.eos)
            if None in full_ends or len(set(full_ends)) < 2:
                raise RuntimeError(f"internal error: the {name} case has no rows that finish at different steps")
            if None not in short_ends or all(e is None for e in short_ends) or n < 1:
                raise RuntimeError(f"internal error: max_len={n} cuts no row, or every row, in the {name} case")
        out.append(c)
    return out


def near_tie_case(d, ref, decoder="Decoder", cell="gru", L=1, B=3, max_len=7, K=3, attempts: int = 40):
    """A beam case in which two hypotheses' scores differ by about 1e-8: the EOS bias is bisected to the
    point where the result flips, then moved a little to the side where a beam search that keeps its
    scores in float32 (rounding errors ~1e-7) picks the other hypothesis."""
    for attempt in range(attempts):
        dd = d.child("tie", attempt)
        m, kw, state, bos, eos = decode_model(dd, ref, decoder, cell, L)
        src, lengths = ragged(dd, B, dd.int(3, 6), kw["vocab_size"])

        def result(eb, bug=""):
            state["decoder.out.bias"][eos] = eb
            m.load_state_dict(state)
            return _pad_to(beam_variant(m, src, lengths, K, max_len, bos, eos, bug), max_len)

        grid = [x / 2 for x in range(-4, 20)]
        results = [result(eb) for eb in grid]
        flips = [j for j in range(len(grid) - 1) if not torch.equal(results[j], results[j + 1])]
        for j in flips[:6]:
            lo, hi, r_lo = grid[j], grid[j + 1], results[j]
            for _ in range(60):  # bisection to ~1e-16 relative
                mid = (lo + hi) / 2
                if mid in (lo, hi):
                    break
                if torch.equal(result(mid), r_lo):
                    lo = mid
                else:
                    hi = mid
            for delta in (1e-8, 1e-7, 1e-6):
                for eb in (lo - delta, hi + delta):
                    exp = result(eb)
                    if torch.equal(exp, result(eb, "float32_scores")):
                        continue
                    if not (torch.equal(exp, result(eb - delta / 10)) and torch.equal(exp, result(eb + delta / 10))):
                        continue
                    if any(e is None for e in ends_of(exp, eos)):
                        continue
                    state["decoder.out.bias"][eos] = eb
                    c = SimpleNamespace(decoder=decoder, cell=cell, L=L, B=B, max_len=max_len, beam_size=K, kw=kw,
                                        state={k: v.clone() for k, v in state.items()}, bos=bos, eos=eos, src=src,
                                        lengths=lengths, flip=(lo + hi) / 2, delta=delta,
                                        what=f"Seq2Seq(Encoder, {decoder}) ({cell_name(cell, L)})")
                    mm = _model_for(ref, decoder, c.kw, c.state)
                    with torch.no_grad():
                        c.beam = mm.beam_search(src, lengths, K, max_len, bos, eos)
                        c.float32 = beam_variant(mm, src, lengths, K, max_len, bos, eos, "float32_scores")
                    if same_tokens(c.beam, c.float32, max_len):
                        continue
                    return c
    raise RuntimeError(f"internal error: no near-tie beam case found (seed {d.seed})")
