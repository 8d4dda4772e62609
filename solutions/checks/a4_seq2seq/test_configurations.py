"""Hidden checks of a4_seq2seq in the configurations short checks leave out, each built into its case:
the attention decoder's parallelism over source positions and batch items, sources of 512+ tokens
(encoder, decoders, teacher forcing, greedy and beam decoding), decoding that ignores source padding,
sequence_loss with confident logits (1e3), with every target padding, and its padding mask, batches
and sequences of length one, and inputs that are non-contiguous views.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
import torch.nn.functional as F

from grader.checks import (
    assert_close, assert_grad_close, check, expect_tensor, expect_tuple, fail, load_cases, view_hint,
)
from grader.checks.parallel import counted_ops
from grader.sandbox.wire import GradInput, Strided

cases = load_cases(__file__)
F32, F64 = torch.float32, torch.float64


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise RuntimeError(f"internal error: the check's case lacks its situation ({what})")


# ----------------------------------------------------------------------------- parallelism of AttentionDecoder
def _parallel_case(d, ref):
    V, E, H = cases.sizes(d)
    T = 1  # the loop over decoding steps is allowed: one step is enough to count the work of a step
    kw = cases.kwargs_of(V, E, H, 1, "gru")
    dec, state = cases.loaded(ref.AttentionDecoder(**kw), d, 0.6)
    S2, B2 = d.int(9, 14), d.int(5, 8)
    calls = {}
    for B, S in ((2, 3), (B2, S2), (2, S2), (B2, 3)):
        lengths = torch.tensor([S] + [max(1, S - 1)] * (B - 1))
        mask = cases.mask_of(lengths, S)
        enc = d.uniform(B, S, H, lo=-0.9, hi=0.9).float() * mask.unsqueeze(-1)
        h0 = d.uniform(1, B, H, lo=-0.8, hi=0.8).float()
        tgt = d.randint(1, V, (B, T))
        with torch.no_grad():
            exp = dec(tgt, h0.double(), enc.double(), mask)
        calls[B, S] = ((tgt, h0, enc, mask), exp)
    return SimpleNamespace(kw=kw, state={k: v.float() for k, v in state.items()}, T=T, S2=S2, B2=B2, calls=calls)


@check(points=1, description="AttentionDecoder: each step's scores and context cover all source positions and "
                             "batch items at once (no Python loop over them)", kind="parallelism",
       promises=("attn-decoder.parallel", "parallel.no-loop"), targets=("AttentionDecoder",))
def test_attention_decoder_parallel(sub, ref, once):
    c = once(lambda d: _parallel_case(d, ref))
    m = sub.build("AttentionDecoder", c.state, **c.kw, dtype=F32)

    def count(B, S):
        args, exp = c.calls[B, S]
        return counted_ops(sub, m, *args, expected=exp, what=f"AttentionDecoder (B={B}, S={S}, T={c.T})")

    base = count(2, 3)
    if count(c.B2, c.S2) == base:  # the usual case: one call with both grown
        return
    longer, wider = count(2, c.S2), count(c.B2, 3)
    if longer != base:
        fail(f"AttentionDecoder: the number of tensor operations grows with the source length ({base} for S=3, "
             f"{longer} for S={c.S2}, one decoding step each): at each step compute the scores and the context over "
             "all source positions at once (one additive score over [B, 1, S], a softmax, one bmm), not one position "
             "at a time")
    if wider != base:
        fail(f"AttentionDecoder: the number of tensor operations grows with the batch size ({base} for B=2, "
             f"{wider} for B={c.B2}): every step must process the whole batch at once")


# ----------------------------------------------------------------------------- sources of 512+ tokens
def _long_case(d, ref):
    S = d.int(515, 530)
    B = 2
    for attempt in range(20):
        dd = d.child("long", attempt)
        m, kw, state, bos, eos = cases.decode_model(dd, ref, "AttentionDecoder", "gru", 1)
        src, lengths = cases.ragged(dd, B, S, kw["vocab_size"])
        lengths[0], lengths[1] = S, S - dd.int(10, 200)  # a long row padded after a few hundred tokens
        src = src.masked_fill(~cases.mask_of(lengths, S), 0)
        if int((src[lengths == S] != 0).sum()) == 0:
            continue
        for eb in (x / 2 for x in range(-4, 16)):
            state["decoder.out.bias"][eos] = eb
            m.load_state_dict(state)
            with torch.no_grad():
                g = m.greedy_decode(src, lengths, 6, bos, eos)
            if len({tuple(r) for r in g.tolist()}) < 2 and B > 1:
                continue
            with torch.no_grad():
                ok = cases.stable(m, dict(state), lambda mm: mm.greedy_decode(src, lengths, 6, bos, eos), dd)
            if not ok:
                continue
            T = 3
            tgt = dd.randint(1, kw["vocab_size"], (B, T))
            with torch.no_grad():
                c = SimpleNamespace(kw=kw, state={k: v.clone() for k, v in state.items()}, bos=bos, eos=eos, src=src,
                                    lengths=lengths, S=S, tgt=tgt, greedy=g, logits=m(src, lengths, tgt))
            _require(c.S >= 512 and bool((c.lengths < c.S).any()), "a padded source of more than 512 positions")
            return c
    raise RuntimeError("internal error: no long-source decoding case found")


@check(points=2, timeout=30, description="sources of 512+ tokens: encoder and attention decoder in teacher "
                                         "forcing, and greedy decoding",
       kind="long_sequence",
       promises=("encoder.final-state", "encoder.padding", "seq2seq.forward", "seq2seq.greedy"),
       targets=("Encoder", "AttentionDecoder", "Seq2Seq", "Seq2Seq.greedy_decode"))
def test_long_sequences(sub, ref, once):
    c = once(lambda d: _long_case(d, ref))
    what = f"Seq2Seq(Encoder, AttentionDecoder) (GRU) on a source of S = {c.S} tokens (one row padded)"
    model = cases.build_seq2seq(sub, "AttentionDecoder", c.kw, c.state)
    assert_close(sub.call(model, c.src, c.lengths, c.tgt).value, c.logits,
                 f"{what}: forward logits (teacher forcing: the encoder, then the attention decoder)")
    got = sub.call(model, c.src, c.lengths, 6, c.bos, c.eos, method="greedy_decode").value
    cases.compare_tokens(got, c.greedy, f"{what}: greedy_decode(max_len=6)", 6, c.bos, c.eos)


# ----------------------------------------------------------------------------- decoding ignores source padding
def _unmasked_greedy(ref, c, src):
    """Greedy decoding by a Seq2Seq whose attention also reads the source padding (the mistake)."""
    m = cases.seq2seq(ref, c.decoder, c.kw).to(F64)
    m.load_state_dict(c.state)
    encode = m._encode

    def unmasked(src, lengths):
        enc, state, mask = encode(src, lengths)
        return enc, state, torch.ones_like(mask)

    m._encode = unmasked
    with torch.no_grad():
        return m.greedy_decode(src, c.lengths, c.max_len, c.bos, c.eos)


def _padding_cases(d, ref):
    """Decoding cases on which attending the padding changes the greedy tokens (by construction)."""
    out = []
    for i, cfg in enumerate((("AttentionDecoder", "lstm", 2, 4, 8, 3),)):
        for attempt in range(20):
            c = cases.decode_case(d.child(i, attempt), ref, *cfg)
            c.src_padded = torch.cat([c.src, c.src.new_zeros(c.B, d.int(3, 6))], 1)
            if bool((c.lengths < c.src.size(1)).any()) and not cases.same_tokens(
                    _unmasked_greedy(ref, c, c.src_padded), c.greedy, c.max_len):
                break
        else:
            raise RuntimeError("internal error: no decoding case on which source padding matters")
        out.append(c)
    return out


@check(points=1, description="greedy_decode and beam_search ignore source padding: more padding columns change "
                             "no token", kind="masks",
       promises=("pad.zero", "attn-decoder.context", "seq2seq.greedy", "seq2seq.beam"),
       targets=("Seq2Seq.greedy_decode", "Seq2Seq.beam_search"))
def test_decoding_ignores_source_padding(sub, ref, once):
    for c in once(lambda d: _padding_cases(d, ref)):
        m = cases.build_seq2seq(sub, c.decoder, c.kw, c.state)
        extra = c.src_padded.size(1) - c.src.size(1)
        for method, args, exp in (("greedy_decode", (c.max_len, c.bos, c.eos), c.greedy),
                                  ("beam_search", (c.beam_size, c.max_len, c.bos, c.eos), c.beam)):
            got = sub.call(m, c.src_padded, c.lengths, *args, method=method).value
            what = f"{c.what}: {method} on the source with {extra} more padding columns (same lengths)"
            try:
                cases.compare_tokens(got, exp, what, c.max_len, c.bos, c.eos, beam=method == "beam_search")
            except AssertionError as exc:
                raise type(exc)(f"{exc}. Padding must change nothing: the encoder must not read it and the "
                                "attention must mask it (src_mask from src_lengths)") from None


# ----------------------------------------------------------------------------- sequence_loss edge cases
def _loss_cases(d, ref):
    out = []
    B, T, V = d.distinct(3, 2, 7)
    V = max(V, 4)
    logits = d.randn(B, T, V, scale=1000.0)  # confident: log-softmax of a raw softmax gives log(0) = -inf
    targets = d.randint(1, V, (B, T))
    targets[0, -1] = 0
    out.append(("confident logits (scale 1e3)", logits, targets, 0))
    out.append(("every target is padding", d.randn(B, T, V), torch.zeros(B, T, dtype=torch.int64), 0))
    out.append(("one sequence of one token", d.randn(1, 1, V), d.randint(1, V, (1, 1)), 0))
    res = []
    for what, lg, tg, p in out:
        leaf = lg.clone().requires_grad_(True)
        loss = ref.sequence_loss(leaf, tg, p)
        loss.backward()
        res.append(SimpleNamespace(what=what, logits=lg, targets=tg, pad_id=p, loss=loss.detach(), grad=leaf.grad))
    _require(float(res[0].logits.abs().max()) >= 1e3 and not bool((res[1].targets != 0).any()),
             "confident logits and an all-pad target")
    return res


@check(points=1, description="sequence_loss with confident logits (1e3), with every target padding (0 and a zero "
                             "gradient, never NaN) and on one token: values and gradients", kind="values",
       promises=("loss.mean", "loss.all-pad", "numerics.large-scores", "length.one"), targets=("sequence_loss",))
def test_sequence_loss_edge_cases(sub, ref, once):
    for c in once(lambda d: _loss_cases(d, ref)):
        what = f"sequence_loss with {c.what}"
        r = sub.call("sequence_loss", GradInput(c.logits), c.targets, c.pad_id,
                     backward=torch.tensor(1.0, dtype=F64))
        loss = expect_tensor(r.value, f"{what}: the loss", (), F64)
        if not torch.isfinite(loss):
            fail(f"{what}: the loss is {float(loss)}: " + (
                "compute the log-probabilities with log_softmax (or F.cross_entropy), not log(softmax(...)), which "
                "is log(0) = -inf for confident logits" if "confident" in c.what else
                "with no token to average over the loss must be 0 (divide by max(count, 1)), never NaN"))
        assert_close(loss, c.loss, f"{what}: the loss")
        g = r.input_grads[0]
        if g is not None and torch.isnan(g).any():
            fail(f"{what}: the gradient w.r.t. the logits contains NaN although the loss is finite: a branch that "
                 "divides by 0 poisons the gradient even when torch.where does not select it; divide by "
                 "count.clamp(min=1) instead")
        assert_grad_close(g, c.grad, f"{what}: d loss / d logits")


def _loss_mask_case(d, ref):
    B, T, V = d.distinct(3, 2, 7)
    V = max(V, 4)
    out = []
    for pad in (d.int(1, V - 1),):
        logits = d.randn(B, T, V)
        targets = d.randint(0, V, (B, T))
        targets[:, -1] = pad
        targets[0, 0] = pad
        targets[-1, 0] = (pad + 1) % V
        is_pad = targets == pad
        noisy = logits + d.randn(B, T, V, scale=50.0) * is_pad.unsqueeze(-1)  # only pad positions change
        leaf = noisy.clone().requires_grad_(True)
        loss = ref.sequence_loss(leaf, targets, pad)
        loss.backward()
        out.append(SimpleNamespace(logits=logits, noisy=noisy, targets=targets, pad=pad, is_pad=is_pad,
                                   loss=loss.detach(), grad=leaf.grad))
        _require(bool(is_pad.any()) and bool((~is_pad).any()), "pad and real targets")
    return out


@check(points=0.5, description="sequence_loss ignores pad targets: their logits change neither the loss nor "
                               "receive any gradient (a pad_id other than 0)", kind="masks",
       promises=("loss.mean", "pad.zero"), targets=("sequence_loss",))
def test_sequence_loss_ignores_padding(sub, ref, once):
    for c in once(lambda d: _loss_mask_case(d, ref)):
        what = f"sequence_loss(..., pad_id={c.pad})"
        base = expect_tensor(sub.call("sequence_loss", c.logits, c.targets, c.pad).value, what, (), F64)
        r = sub.call("sequence_loss", GradInput(c.noisy), c.targets, c.pad, backward=torch.tensor(1.0, dtype=F64))
        noisy = expect_tensor(r.value, what, (), F64)
        if not torch.allclose(base, noisy, rtol=1e-9, atol=1e-12):
            fail(f"{what}: changing the logits at positions whose target is pad changed the loss ({float(base):.6g} "
                 f"-> {float(noisy):.6g}): pad targets must be left out of the sum and of the count")
        g = r.input_grads[0]
        if isinstance(g, torch.Tensor) and g.shape == c.noisy.shape and g[c.is_pad].abs().max() > 0:
            fail(f"{what}: the logits at pad targets receive a gradient: they must not take part in the loss")
        assert_close(noisy, c.loss, what)
        assert_grad_close(g, c.grad, f"{what}: d loss / d logits")


# ----------------------------------------------------------------------------- length one, batch of one
def _one_cases(d, ref):
    V, E, H = cases.sizes(d)
    out = []
    for cell, L in (("lstm", 2),):
        kw = cases.kwargs_of(V, E, H, L, cell)
        m, state = cases.loaded(cases.seq2seq(ref, "AttentionDecoder", kw), d, 0.6)
        bos, eos = d.distinct(2, 1, V - 1)
        state["decoder.out.bias"][0] = -30.0  # a trained model emits neither pad nor BOS
        state["decoder.out.bias"][bos] = -30.0
        m.load_state_dict(state)
        src, lengths = torch.randint(1, V, (1, 1), generator=d.gen), torch.tensor([1])
        tgt = d.randint(1, V, (1, 1))
        with torch.no_grad():
            c = SimpleNamespace(cell=cell, L=L, kw=kw, state=state, src=src, lengths=lengths, tgt=tgt, bos=bos,
                                eos=eos, logits=m(src, lengths, tgt), enc=m.encoder(src, lengths),
                                greedy=m.greedy_decode(src, lengths, 3, bos, eos),
                                beam=m.beam_search(src, lengths, 2, 3, bos, eos),
                                what=f"Seq2Seq(Encoder, AttentionDecoder) ({cases.cell_name(cell, L)}) with one "
                                     "source of one token (B = 1, S = 1)")
        out.append(c)
    return out


@check(points=1, description="a batch of one and sequences of length one: forward (Encoder, AttentionDecoder), "
                             "greedy_decode and beam_search", kind="shapes",
       promises=("batch.any", "length.one", "seq2seq.forward", "seq2seq.greedy", "seq2seq.beam"),
       targets=("Encoder", "AttentionDecoder", "Seq2Seq", "Seq2Seq.greedy_decode", "Seq2Seq.beam_search"))
def test_length_one(sub, ref, once):
    for c in once(lambda d: _one_cases(d, ref)):
        model = cases.build_seq2seq(sub, "AttentionDecoder", c.kw, c.state)
        assert_close(sub.call(model, c.src, c.lengths, c.tgt).value, c.logits,
                     f"{c.what}: forward logits [1, 1, V] (the encoder, then the attention decoder)")
        for n, exp in ((3, c.greedy),):
            cases.compare_tokens(sub.call(model, c.src, c.lengths, n, c.bos, c.eos, method="greedy_decode").value,
                                 exp, f"{c.what}: greedy_decode(max_len={n})", n, c.bos, c.eos)
        cases.compare_tokens(sub.call(model, c.src, c.lengths, 2, 3, c.bos, c.eos, method="beam_search").value,
                             c.beam, f"{c.what}: beam_search(beam_size=2, max_len=3)", 3, c.bos, c.eos, beam=True)


# ----------------------------------------------------------------------------- non-contiguous inputs
def _strided_case(d, ref):
    V, E, H = cases.sizes(d)
    B, S, T = d.distinct(3, 3, 6)
    kw = cases.kwargs_of(V, E, H, 2, "gru")
    m, state = cases.loaded(cases.seq2seq(ref, "AttentionDecoder", kw), d, 0.6)
    src, lengths = cases.ragged(d, B, S, V)
    tgt = d.randint(1, V, (B, T))
    mask = cases.mask_of(lengths, S)
    enc = d.uniform(B, S, H, lo=-0.9, hi=0.9) * mask.unsqueeze(-1)
    h0 = d.uniform(2, B, H, lo=-0.8, hi=0.8)
    with torch.no_grad():
        return SimpleNamespace(kw=kw, state=state, src=src, lengths=lengths, tgt=tgt, mask=mask, enc=enc, h0=h0,
                               logits=m(src, lengths, tgt), dec=m.decoder(tgt, h0, enc, mask),
                               encoded=m.encoder(src, lengths))


@check(points=1, description="Encoder, AttentionDecoder and Seq2Seq accept non-contiguous views (transposed, "
                             "sliced) as inputs", kind="values",
       promises=("input.non-contiguous", "attn-decoder.forward", "seq2seq.forward", "encoder.final-state"),
       targets=("Encoder", "AttentionDecoder", "Seq2Seq"))
def test_noncontiguous_inputs(sub, ref, once):
    c = once(lambda d: _strided_case(d, ref))
    what = "GRU, 2 layers, with transposed and sliced views as inputs"
    dec = sub.build("AttentionDecoder", {k[8:]: v for k, v in c.state.items() if k.startswith("decoder.")},
                    **c.kw, dtype=F64)
    lg, st, w = expect_tuple(sub.call(dec, Strided(c.tgt, "transposed"), Strided(c.h0, "sliced"),
                                      Strided(c.enc, "transposed"), Strided(c.mask, "transposed")).value,
                             f"AttentionDecoder ({what})", 3)
    with view_hint():
        assert_close(w, c.dec[2], f"AttentionDecoder ({what}): attention weights")
    with view_hint():
        assert_close(lg, c.dec[0], f"AttentionDecoder ({what}): logits")
    model = cases.build_seq2seq(sub, "AttentionDecoder", c.kw, c.state)
    got = sub.call(model, Strided(c.src, "transposed"), c.lengths, Strided(c.tgt, "sliced")).value
    with view_hint():
        assert_close(got, c.logits, f"Seq2Seq.forward ({what}): logits (Encoder and decoder)")
