"""Hidden checks of Seq2Seq.forward (teacher forcing): logits and gradients against the reference."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check, fail, load_cases


cases = load_cases(__file__)
CONFIGS = (("AttentionDecoder", "gru", 2), ("AttentionDecoder", "lstm", 1), ("Decoder", "rnn", 1))


def _case(d, ref, decoder, cell, L, grads=False):
    V, E, H = cases.sizes(d)
    B = d.int(2, 5)
    S = d.int(3, 7)
    T = d.int(3, 6)
    kw = cases.kwargs_of(V, E, H, L, cell)
    m, state = cases.loaded(cases.seq2seq(ref, decoder, kw), d, 0.6)
    src, lengths = cases.ragged(d, B, S, V)
    tgt_in = d.randint(1, V, (B, T))
    tgt_in[d.int(0, B - 1), T - 1] = 0  # a shorter target row (trailing pad)
    c = SimpleNamespace(decoder=decoder, kw=kw, state=state, src=src, lengths=lengths, tgt_in=tgt_in,
                        B=B, S=S, T=T, V=V, cell=cell, what=f"Seq2Seq(Encoder, {decoder}) "
                                                            f"({cases.cell_name(cell, L)})")
    with torch.set_grad_enabled(grads):
        logits = m(src, lengths, tgt_in)
        if grads:
            c.g = d.randn(*logits.shape)
            logits.backward(c.g)
            c.grads = cases.param_grads(m)
    c.logits = logits.detach()
    if not grads:
        with torch.no_grad():
            left = torch.cat([tgt_in[:, 1:], tgt_in.new_zeros(B, 1)], 1)
            right = torch.cat([tgt_in[:, :1], tgt_in[:, :-1]], 1)
            c.variants = [
                (m(src, lengths, left), "your logits are what the decoder gives when it reads the *next* "
                                        "tokens (tgt_in shifted left, i.e. the targets): feed tgt_in as it is; "
                                        "it already starts with BOS"),
                (m(src, lengths, right), "your logits are what the decoder gives when tgt_in is shifted once more "
                                         "(one step late): tgt_in already starts with BOS, do not shift it "
                                         "inside forward"),
            ]
    return c


@check(points=2, description="Seq2Seq.forward (teacher forcing): logits equal the reference's on ragged "
                             "source and target batches",
       kind="values", promises=("seq2seq.forward",),
       targets=("Seq2Seq",))
def test_seq2seq_values(sub, ref, once):
    cs = once(lambda d: [_case(d.child(i), ref, *cfg) for i, cfg in enumerate(CONFIGS)])
    for c in cs:
        m = cases.build_seq2seq(sub, c.decoder, c.kw, c.state)
        logits = sub.call(m, c.src, c.lengths, c.tgt_in).value
        assert_close(logits, c.logits, f"{c.what}: logits", diagnoses=cases.variant_diagnoses(c.variants))


@check(points=2, description="Seq2Seq.forward: gradients of every parameter (encoder and decoder) equal "
                             "the reference's",
       kind="gradients", promises=("seq2seq.forward",),
       targets=("Seq2Seq",))
def test_seq2seq_gradients(sub, ref, once):
    cs = once(lambda d: [_case(d.child(i), ref, *cfg, grads=True) for i, cfg in enumerate(CONFIGS[:2])])
    for c in cs:
        m = cases.build_seq2seq(sub, c.decoder, c.kw, c.state)
        r = sub.call(m, c.src, c.lengths, c.tgt_in, backward=c.g)
        wrong = []
        for name, g in c.grads.items():
            got = r.param_grads.get(name)
            if g is not None and not cases.near(got, g):
                wrong.append(name)
        enc = [n for n in wrong if n.startswith("encoder.")]
        if enc and len(enc) == len(wrong):
            got = r.param_grads.get(enc[0])
            if got is None:
                fail(f"{c.what}: no gradient reaches {enc[0]}: the encoder is cut off from the loss (look for "
                     ".detach(), .data or torch.no_grad() in the encoder or in Seq2Seq)")
            fail(f"{c.what}: the decoder's gradients are right but the encoder's are not (first: {enc[0]}): "
                 "the loss must reach the encoder through both its final state and its outputs (the "
                 "attention's keys and values); do not detach the encoder outputs or state")
        for name in wrong:
            assert_grad_close(r.param_grads.get(name), c.grads[name], f"{c.what}: d loss / d {name}")
