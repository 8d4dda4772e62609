"""Public checks of AttentionDecoder and Seq2Seq: properties of the attention weights, teacher forcing,
padding invariance, and expected outputs for fixed weights and inputs (data/attention_gru.safetensors)."""

from __future__ import annotations

import torch

from grader.checks import assert_close, check, expect_tensor, expect_tuple, fail, load_cases


common = load_cases(__file__, "_common")
F64 = torch.float64


def _model(sub, d, decoder, cell, L):
    V = d.int(7, 12)
    E, H = d.distinct(2, 3, 7)
    kw = dict(vocab_size=V, embed_size=E, hidden_size=H, num_layers=L, cell=cell)
    _, state = common.random_state(d, common.Seq2SeqLayout(decoder, **kw))
    model, dec = common.build_seq2seq(sub, decoder, kw, state)
    return model, dec, kw


@check(points=1, description="AttentionDecoder: attention weights are a softmax over the real source "
                             "positions (each step's weights sum to 1, padding gets 0)",
       kind="masks", promises=("attn-decoder.context", "attn-decoder.forward"),
       targets=("AttentionDecoder",))
def test_public_attention_weights(sub, draw):
    for cell, L in (("gru", 1), ("lstm", 2)):
        d = draw.child(cell)
        _, dec, kw = _model(sub, d, "AttentionDecoder", cell, L)
        H, V = kw["hidden_size"], kw["vocab_size"]
        B, S, T = d.distinct(3, 2, 6)
        S = max(S, 3)
        _, lengths = common.ragged(d, B, S, V)
        mask = common.mask_of(lengths, S)
        enc = d.uniform(B, S, H, lo=-0.9, hi=0.9) * mask.unsqueeze(-1)
        h0 = d.uniform(L, B, H, lo=-0.8, hi=0.8)
        h0 = (h0, d.uniform(L, B, H, lo=-0.8, hi=0.8)) if cell == "lstm" else h0
        tgt = d.randint(1, V, (B, T))
        what = f"AttentionDecoder ({cell.upper()}, {L} layer{'s' if L > 1 else ''})"
        res = expect_tuple(sub.call(dec, tgt, h0, enc, mask).value,
                           f"{what}: the result (logits, state, attention_weights)", 3)
        w = expect_tensor(res[2], f"{what}: attention weights", (B, T, S), F64)
        first = w[:, 0][mask]  # the first step's weights at real source positions
        if bool((lengths > 1).any()) and torch.allclose(first, torch.ones_like(first)):
            fail(f"{what}: the attention weights are all 1 (or NaN at padding): the softmax runs over a "
                 "dimension of size 1 (one query per step); check the softmax dimension: normalise over the "
                 "source positions, the last dimension of the scores [B, 1, S]")
        if not torch.isfinite(w).all():
            fail(f"{what}: the attention weights contain NaN or inf")
        if (w < 0).any():
            fail(f"{what}: some attention weights are negative: they must be a softmax of the scores")
        pad = ~mask.unsqueeze(1).expand(B, T, S)
        if (w[pad].abs() > 1e-12).any():
            fail(f"{what}: padded source positions get attention weight (up to {float(w[pad].abs().max()):.3g}): "
                 "mask the scores with src_mask (True = real token) before the softmax")
        sums = w.sum(-1)
        if not torch.allclose(sums, torch.ones_like(sums), rtol=1e-6, atol=1e-8):
            over_t = w.sum(1)
            if torch.allclose(over_t, torch.ones_like(over_t)):
                fail(f"{what}: the weights sum to 1 over the target steps instead of the source positions: "
                     "check the softmax dimension")
            fail(f"{what}: a step's weights do not sum to 1 over the source positions (sums between "
                 f"{float(sums.min()):.4g} and {float(sums.max()):.4g}): check the softmax dimension (the "
                 "last one, over the source positions)")


@check(points=1, description="Seq2Seq.forward uses teacher forcing correctly: logits at step t depend on "
                             "tgt_in[:, t] and on no later token",
       kind="properties", promises=("seq2seq.forward",),
       targets=("Seq2Seq",))
def test_public_teacher_forcing(sub, draw):
    for decoder, cell in (("AttentionDecoder", "gru"), ("Decoder", "lstm")):
        d = draw.child(decoder)
        model, _, kw = _model(sub, d, decoder, cell, 1)
        V = kw["vocab_size"]
        B, S, T = d.int(2, 4), d.int(3, 6), d.int(4, 6)
        src, lengths = common.ragged(d, B, S, V)
        tgt = d.randint(1, V, (B, T))
        t0 = d.int(1, T - 2)
        tgt2 = tgt.clone()
        tgt2[:, t0] = tgt[:, t0] % (V - 1) + 1  # a different real token at step t0 only
        what = f"Seq2Seq(Encoder, {decoder})"
        a = expect_tensor(sub.call(model, src, lengths, tgt).value, f"{what}: logits", (B, T, V), F64)
        b = expect_tensor(sub.call(model, src, lengths, tgt2).value, f"{what}: logits", (B, T, V), F64)
        if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
            fail(f"{what}: the logits contain NaN or inf (for random weights and ordinary inputs)")
        if not torch.allclose(a[:, :t0], b[:, :t0], rtol=1e-9, atol=1e-12):
            fail(f"{what}: changing tgt_in[:, {t0}] changed the logits at an earlier step: the logits at step t "
                 "must depend only on tgt_in[:, :t+1]. tgt_in already starts with BOS: feed it to the decoder as "
                 "it is, not the targets (tgt_in shifted left)")
        if torch.allclose(a[:, t0], b[:, t0], rtol=1e-9, atol=1e-12):
            fail(f"{what}: changing tgt_in[:, {t0}] did not change the logits at step {t0}: the prediction at "
                 "step t reads tgt_in[:, t]. tgt_in already starts with BOS: do not shift it inside forward")


@check(points=1, description="Seq2Seq.forward: appending padding to src, or changing another sentence, "
                             "changes no logits",
       kind="masks", promises=("pad.zero", "encoder.final-state"),
       targets=("Seq2Seq",))
def test_public_padding_invariance(sub, draw):
    d = draw.child("pad")
    model, _, kw = _model(sub, d, "AttentionDecoder", "lstm", 2)
    V = kw["vocab_size"]
    B, S, T = d.int(3, 4), d.int(3, 6), d.int(2, 4)
    src, lengths = common.ragged(d, B, S, V)
    tgt = d.randint(1, V, (B, T))
    what = "Seq2Seq(Encoder, AttentionDecoder) (LSTM, 2 layers)"
    base = expect_tensor(sub.call(model, src, lengths, tgt).value, f"{what}: logits", (B, T, V), F64)
    more = torch.cat([src, src.new_zeros(B, d.int(1, 3))], 1)
    got = expect_tensor(sub.call(model, more, lengths, tgt).value, f"{what}: logits", (B, T, V), F64)
    assert_close(got, base, f"{what}: logits after appending pad columns to src (padding must change nothing: "
                            "the encoder's state is taken after each sequence's last real token and the attention "
                            "ignores padded positions)")
    other = src.clone()
    other[0, : int(lengths[0])] = other[0, : int(lengths[0])] % (V - 1) + 1
    got = expect_tensor(sub.call(model, other, lengths, tgt).value, f"{what}: logits", (B, T, V), F64)
    assert_close(got[1:], base[1:], f"{what}: logits of sentences 1.. after changing sentence 0 only (the "
                                    "sentences of a batch must not influence each other)")


@check(points=1, description="AttentionDecoder and Seq2Seq.forward give the expected outputs for fixed "
                             "weights and inputs",
       kind="values", promises=("attn-decoder.forward", "attn-decoder.query", "attn-decoder.context",
                                "seq2seq.forward"),
       targets=("AttentionDecoder", "Seq2Seq"))
def test_public_attention_data(sub):
    data = common.load_data("attention_gru.safetensors")
    kw = common.kwargs_from(data, "gru")
    model, dec = common.build_seq2seq(sub, "AttentionDecoder", kw, common.state_from(data))
    res = expect_tuple(sub.call(dec, data["tgt_in"], data["h0"], data["enc_outputs"], data["src_mask"]).value,
                       "AttentionDecoder: the result (logits, state, attention_weights)", 3)
    assert_close(res[2], data["dec_weights"], "AttentionDecoder: attention weights")
    assert_close(res[0], data["dec_logits"], "AttentionDecoder: logits")
    assert_close(res[1], data["dec_state"], "AttentionDecoder: final state")
    logits = sub.call(model, data["src"], data["src_lengths"], data["tgt_in"]).value
    assert_close(logits, data["logits"], "Seq2Seq.forward: logits")
