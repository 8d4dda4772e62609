"""Public checks of Encoder and Decoder against torch's own Embedding, GRU/LSTM/RNN and Linear.

An encoder is an embedding and a torch recurrent layer; run on each sequence
alone (no padding at all), torch gives what the padded batch must give at the
real positions: outputs 0 at padding and the state after the last real token.
"""

from __future__ import annotations

import torch

from grader.checks import assert_close, check, expect_tensor, expect_tuple, fail, load_cases


common = load_cases(__file__, "_common")
F64 = torch.float64


def _encoder_expected(layout, src, lengths):
    outs, hs, cs = [], [], []
    with torch.no_grad():
        for b in range(src.size(0)):
            n = int(lengths[b])
            o, st = layout.rnn(layout.embedding(src[b:b + 1, :n]))
            outs.append(torch.nn.functional.pad(o[0], (0, 0, 0, src.size(1) - n)))
            h, c = st if isinstance(st, tuple) else (st, None)
            hs.append(h)
            cs.append(c)
        out = torch.stack(outs)
        h = torch.cat(hs, 1)
        st = (h, torch.cat(cs, 1)) if cs[0] is not None else h
        full = layout.rnn(layout.embedding(src))[1]  # what running over the padding gives
    return out, st, full


@check(points=2, description="Encoder equals torch's Embedding + GRU/LSTM run on each sequence without its "
                             "padding (outputs 0 at padding, state after the last real token)",
       kind="values", promises=("encoder.modules", "encoder.padding", "encoder.final-state"),
       targets=("Encoder",))
def test_public_encoder_vs_torch(sub, draw):
    for cell, L in (("gru", 2), ("lstm", 1)):
        d = draw.child(cell)
        V = d.int(6, 12)
        E, H = d.distinct(2, 3, 7)
        B, S = d.int(2, 4), d.int(3, 6)
        kw = dict(vocab_size=V, embed_size=E, hidden_size=H, num_layers=L, cell=cell)
        layout, state = common.random_state(d, common.Layout("Encoder", **kw))
        src, lengths = common.ragged(d, B, S, V)
        exp_out, exp_st, full = _encoder_expected(layout, src, lengths)
        what = f"Encoder ({cell.upper()}, {L} layer{'s' if L > 1 else ''})"
        m = sub.build("Encoder", state, **kw, dtype=F64)
        out, st = expect_tuple(sub.call(m, src, lengths).value, f"{what}: the result (outputs, state)", 2)
        pad = ~common.mask_of(lengths, S)
        expect_tensor(out, f"{what}: outputs", (B, S, H), F64)
        if (out[pad] != 0).any():
            fail(f"{what}: the outputs at padded positions must be exactly 0 (pad_packed_sequence gives that, "
                 "or multiply by the mask)")
        assert_close(out, exp_out, f"{what}: outputs")
        parts, names = common.state_parts(st, cell, f"{what}: final state")
        exp_parts = exp_st if isinstance(exp_st, tuple) else (exp_st,)
        full_parts = full if isinstance(full, tuple) else (full,)
        for a, e, f, n in zip(parts, exp_parts, full_parts, names):
            assert_close(a, e, f"{what}: final state {n}", diagnoses=[
                (lambda a_, e_, f=f: torch.allclose(a_, f, rtol=1e-6, atol=1e-8),
                 "your final state is the state after the last column (after the padding): take the state "
                 "after each sequence's last real token (pack_padded_sequence(..., enforce_sorted=False))")])


@check(points=1, description="Decoder (no attention) equals torch's Embedding + GRU/LSTM + Linear",
       kind="values", promises=("decoder.forward",),
       targets=("Decoder",))
def test_public_decoder_vs_torch(sub, draw):
    for cell, L in (("lstm", 2), ("rnn", 1)):
        d = draw.child(cell)
        V = d.int(6, 12)
        E, H = d.distinct(2, 3, 7)
        B, T = d.int(2, 4), d.int(2, 5)
        kw = dict(vocab_size=V, embed_size=E, hidden_size=H, num_layers=L, cell=cell)
        layout, state = common.random_state(d, common.Layout("Decoder", **kw))
        tgt = d.randint(1, V, (B, T))
        h0 = d.uniform(L, B, H, lo=-0.8, hi=0.8)
        h0 = (h0, d.uniform(L, B, H, lo=-0.8, hi=0.8)) if cell == "lstm" else h0
        with torch.no_grad():
            o, exp_st = layout.rnn(layout.embedding(tgt), h0)
            exp_logits = layout.out(o)
            zero_logits = layout.out(layout.rnn(layout.embedding(tgt))[0])
        what = f"Decoder ({cell.upper()}, {L} layer{'s' if L > 1 else ''})"
        m = sub.build("Decoder", state, **kw, dtype=F64)
        res = expect_tuple(sub.call(m, tgt, h0).value, f"{what}: the result (logits, state, None)", 3)
        assert_close(res[0], exp_logits, f"{what}: logits", diagnoses=[
            (lambda a, e: torch.allclose(a, zero_logits, rtol=1e-6, atol=1e-8),
             "your decoder ignores the initial state passed in (it starts from zeros): start from `state`")])
        parts, names = common.state_parts(res[1], cell, f"{what}: final state")
        for a, e, n in zip(parts, exp_st if isinstance(exp_st, tuple) else (exp_st,), names):
            assert_close(a, e, f"{what}: final state {n}")
