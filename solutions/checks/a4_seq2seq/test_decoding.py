"""Hidden checks of greedy decoding and beam search against the reference.

The models are drawn so that decoding is not degenerate: pad and BOS get
almost no probability, and EOS is tuned until the rows finish at different
steps, all before max_len, and beam search disagrees with greedy decoding on
some row. Ties are ruled out (the results do not move when the weights move by
1e-7). BOS and EOS ids are drawn too.

Every case contains its situation by construction, and says so: greedy and
beam rows that finish at different steps, a max_len that cuts some rows off
after others have finished, and, for beam search, cases on which each known
mistake (state or tokens not reordered with their beam, copies of one start
hypothesis, finished hypotheses extended, length normalisation, stopping when
any hypothesis finishes, the last beam returned) gives another answer, and a
near tie that a beam search keeping float32 scores gets wrong.
"""

from __future__ import annotations

import torch

from grader.checks import check, fail, load_cases


cases = load_cases(__file__)
# (decoder, cell, layers, batch, max_len, beam size)
CONFIGS = (("AttentionDecoder", "gru", 2, 5, 10, 3), ("AttentionDecoder", "lstm", 1, 4, 9, 2),
           ("Decoder", "rnn", 2, 4, 10, 4))


def _all(d, ref, configs=CONFIGS):
    """Greedy cases whose rows finish at different steps, all before max_len (so a decoder that does not stop
    when every row has finished returns a wider result), with a shorter max_len that cuts some rows off after
    others have finished."""
    out = []
    for i, cfg in enumerate(configs):
        for attempt in range(30):
            c = cases.decode_case(d.child(i, attempt), ref, *cfg)
            ends = cases.ends_of(c.greedy, c.eos)
            if None in ends or len(set(ends)) < 2 or max(ends) >= c.max_len:
                continue
            m = cases.seq2seq(ref, c.decoder, c.kw).to(torch.float64)
            m.load_state_dict(c.state)
            with torch.no_grad():
                n = cases.cut_length(lambda k: m.greedy_decode(c.src, c.lengths, k, c.bos, c.eos), c.greedy, c.eos)
                if n is None:
                    continue
                c.short_len, c.greedy_short = n, m.greedy_decode(c.src, c.lengths, n, c.bos, c.eos)
            break
        else:
            raise RuntimeError("internal error: no greedy decoding case has rows that finish at different steps "
                               "before max_len")
        out.append(c)
    return out


def _model(sub, c):
    return cases.build_seq2seq(sub, c.decoder, c.kw, c.state)


def _greedy(sub, m, c, max_len):
    return sub.call(m, c.src, c.lengths, max_len, c.bos, c.eos, method="greedy_decode").value


def _beam(sub, m, c, k, max_len):
    return sub.call(m, c.src, c.lengths, k, max_len, c.bos, c.eos, method="beam_search").value


@check(points=2, description="greedy_decode gives the reference's tokens (stops at EOS, pads after it, "
                             "excludes BOS, stops at max_len)",
       kind="decoding", promises=("seq2seq.greedy", "decode.format", "decode.stop"),
       targets=("Seq2Seq.greedy_decode",))
def test_greedy_decode(sub, ref, once):
    for c in once(lambda d: _all(d, ref)):
        m = _model(sub, c)
        cases.compare_tokens(_greedy(sub, m, c, c.max_len), c.greedy,
                             f"{c.what}: greedy_decode(max_len={c.max_len})", c.max_len, c.bos, c.eos)
        cases.compare_tokens(_greedy(sub, m, c, c.short_len), c.greedy_short,
                             f"{c.what}: greedy_decode(max_len={c.short_len}), shorter than the longest "
                             "row", c.short_len, c.bos, c.eos)


def _beam_diagnoses(c, got):
    """The known mistake whose answer the submission's equals, in words (empty when none does)."""
    if not (isinstance(got, torch.Tensor) and got.dtype == torch.int64 and got.dim() == 2
            and got.size(0) == c.B and got.size(1) <= c.max_len):
        return ""
    for bug, tokens in c.variants.items():
        if not cases.same_tokens(tokens, c.beam, c.max_len) and cases.same_tokens(got, tokens, c.max_len):
            return cases.BEAM_BUGS[bug]
    return ""


@check(points=3, description="beam_search gives the reference's best hypothesis (sum of log-probabilities, "
                             "finished hypotheses extended by pad only; beams that change places; max_len "
                             "cutting rows that finished at different steps)",
       kind="decoding",
       promises=("seq2seq.beam", "beam.score", "beam.finished-pad", "beam.start", "beam.state", "beam.stop",
                 "decode.format", "decode.stop"),
       targets=("Seq2Seq.beam_search",))
def test_beam_search(sub, ref, once):
    cs = once(lambda d: cases.beam_cases(d, ref, CONFIGS))
    for c in cs:
        m = _model(sub, c)
        got = _beam(sub, m, c, c.beam_size, c.max_len)
        what = f"{c.what}: beam_search(beam_size={c.beam_size}, max_len={c.max_len})"
        hint = _beam_diagnoses(c, got)
        if hint:
            exp = cases._pad_to(c.beam, c.max_len).tolist()
            rows = [b for b in range(c.B) if cases._pad_to(got, c.max_len).tolist()[b] != exp[b]]
            fail(f"{what}: rows {rows} differ from the reference's best hypotheses; your result is what this "
                 f"mistake gives: {hint} (row {rows[0]}: got {got.tolist()[rows[0]]}, expected "
                 f"{c.beam.tolist()[rows[0]]})")
        got = cases.check_tokens_format(got, what, c.B, c.max_len, c.bos, c.eos, beam=True)
        if torch.equal(cases._pad_to(got, c.max_len), cases._pad_to(c.greedy, c.max_len)) and \
                not torch.equal(c.beam, c.greedy):
            fail(f"{what}: your result is greedy decoding's, the reference's beam search finds better "
                 "hypotheses: keep the beam_size best of all beam_size * V extensions at every step, and "
                 "return the best hypothesis by its sum of log-probabilities")
        cases.compare_tokens(got, c.beam, what, c.max_len, c.bos, c.eos, beam=True)
        if c is not cs[0]:
            continue  # one case with max_len cutting rows off is enough
        got = _beam(sub, m, c, c.beam_size, c.beam_short_len)
        cases.compare_tokens(got, c.beam_short, f"{c.what}: beam_search(beam_size={c.beam_size}, "
                                                f"max_len={c.beam_short_len}), shorter than the longest row",
                             c.beam_short_len, c.bos, c.eos, beam=True)


@check(points=1, description="beam_search decides near ties (scores 1e-8 apart) by the exact sum of "
                             "log-probabilities", kind="decoding",
       promises=("decode.near-ties", "beam.score", "seq2seq.beam"), targets=("Seq2Seq.beam_search",))
def test_beam_near_ties(sub, ref, once):
    c = once(lambda d: cases.near_tie_case(d, ref))
    m = _model(sub, c)
    got = _beam(sub, m, c, c.beam_size, c.max_len)
    what = (f"{c.what}: beam_search(beam_size={c.beam_size}, max_len={c.max_len}) on a case where two hypotheses' "
            f"scores differ by about {c.delta:.0e}")
    got = cases.check_tokens_format(got, what, c.B, c.max_len, c.bos, c.eos, beam=True)
    if cases.same_tokens(got, c.float32, c.max_len) and not cases.same_tokens(c.float32, c.beam, c.max_len):
        fail(f"{what}: your result is what a beam search whose running scores are rounded to float32 gives: keep "
             "the scores in the model's dtype (float64 here), e.g. create them with enc_outputs.new_full(...)")
    cases.compare_tokens(got, c.beam, what, c.max_len, c.bos, c.eos, beam=True)


@check(points=1, description="beam_search with beam_size=1 equals greedy decoding",
       kind="decoding", promises=("beam.size-one",),
       targets=("Seq2Seq.beam_search",))
def test_beam_size_one(sub, ref, once):
    for c in once(lambda d: _all(d, ref, CONFIGS[:2])):
        m = _model(sub, c)
        got = _beam(sub, m, c, 1, c.max_len)
        cases.compare_tokens(got, c.greedy, f"{c.what}: beam_search(beam_size=1) (it must equal greedy "
                                            "decoding)", c.max_len, c.bos, c.eos)


@check(points=1, description="Decoding output format: int64 [B, <=max_len], no BOS, pad after EOS, as wide "
                             "as the longest row",
       kind="decoding", promises=("decode.format", "decode.stop"),
       targets=("Seq2Seq.greedy_decode", "Seq2Seq.beam_search"))
def test_decode_format(sub, ref, once):
    for c in once(lambda d: _all(d, ref, CONFIGS[1:])):
        m = _model(sub, c)
        cases.check_tokens_format(_greedy(sub, m, c, c.max_len), f"{c.what}: greedy_decode", c.B, c.max_len,
                                  c.bos, c.eos)
        cases.check_tokens_format(_beam(sub, m, c, c.beam_size, c.max_len),
                                  f"{c.what}: beam_search(beam_size={c.beam_size})", c.B, c.max_len, c.bos,
                                  c.eos, beam=True)
