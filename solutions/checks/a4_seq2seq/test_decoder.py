"""Hidden checks of Decoder and AttentionDecoder: values and gradients against the reference.

The attention decoder gets a ragged source (encoder outputs 0 at padding, as
an Encoder gives them) and a random initial state; its logits, final state and
attention weights must all equal the reference's. When they do not, the
diagnoses compare with what the usual mistakes give (no mask, [embedding;
context], an LSTM attending with c, the query taken after the step).
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tensor, expect_tuple, fail, load_cases
from grader.sandbox.wire import GradInput


cases = load_cases(__file__)


def _tgt(d, B, T, V):
    tgt = d.randint(1, V, (B, T))
    if B >= 2 and T >= 3:  # one target row is shorter: trailing pad, as in a padded batch
        tgt[d.int(0, B - 1), T - 1] = 0
    return tgt


def _decoder_case(d, ref, name, cell, L, grads=False, square=False):
    V, E, H = cases.sizes(d)
    B = d.int(2, 4)
    T = B if square else d.int(2, 5)
    S = d.int(3, 6)
    kw = cases.kwargs_of(V, E, H, L, cell)
    dec, state = cases.loaded(getattr(ref, name)(**kw), d, 0.6)
    src_lengths = cases.ragged(d, B, S, V)[1]
    src_mask = cases.mask_of(src_lengths, S)
    enc = d.uniform(B, S, H, lo=-0.9, hi=0.9) * src_mask.unsqueeze(-1)
    h0 = cases.random_state(d, cell, L, B, H)
    tgt = _tgt(d, B, T, V)
    c = SimpleNamespace(name=name, kw=kw, state=state, cell=cell, L=L, B=B, T=T, S=S, V=V, H=H, tgt=tgt,
                        h0=h0, enc=enc, src_mask=src_mask, what=f"{name} ({cases.cell_name(cell, L)})")
    h0g = cases.state_map(h0, lambda s: s.clone().requires_grad_(grads))
    encg = enc.clone().requires_grad_(grads)
    with torch.set_grad_enabled(grads):
        logits, st, w = dec(tgt, h0g, encg, src_mask)
        if grads:
            c.g_logits = d.randn(*logits.shape)
            c.g_state = cases.state_map(st, lambda s: d.randn(*s.shape))
            outs = [logits, *(st if isinstance(st, tuple) else (st,))]
            gs = [c.g_logits, *(c.g_state if isinstance(c.g_state, tuple) else (c.g_state,))]
            if w is not None:
                c.g_weights = d.randn(*w.shape)
                outs.append(w)
                gs.append(c.g_weights)
            else:
                c.g_weights = None
            torch.autograd.backward(outs, gs)
            c.grads = cases.param_grads(dec)
            c.d_h0 = tuple(s.grad for s in (h0g if isinstance(h0g, tuple) else (h0g,)))
            c.d_enc = encg.grad
    c.logits, c.st, c.w = logits.detach(), cases.detach(st), None if w is None else w.detach()
    if not grads:
        c.variants = []
        with torch.no_grad():
            if name == "AttentionDecoder":
                c.variants = cases.attention_variants(ref, dec, kw, tgt, h0, enc, src_mask)
            lg, st0, _ = dec(tgt, None, enc, src_mask)
            c.variants.append((lg, st0, None, "your decoder ignores the initial state passed in (it starts "
                                              "from zeros): start from `state`, the encoder's final state"))
    return c


@check(points=1, description="Decoder (no attention): logits and final state equal the reference's",
       kind="values", promises=("decoder.forward",),
       targets=("Decoder",))
def test_decoder_values(sub, ref, once):
    cs = once(lambda d: [_decoder_case(d.child(i), ref, "Decoder", cell, L)
                         for i, (cell, L) in enumerate((("gru", 2), ("lstm", 1)))])
    for c in cs:
        m = sub.build("Decoder", c.state, **c.kw, dtype=torch.float64)
        value = sub.call(m, c.tgt, c.h0, c.enc, c.src_mask).value
        logits, st, _ = expect_tuple(value, f"{c.what}: the result (logits, state, None)", 3)
        assert_close(logits, c.logits, f"{c.what}: logits",
                     diagnoses=cases.variant_diagnoses([(v[0], v[3]) for v in c.variants]))
        cases.compare_state(st, c.st, c.cell, f"{c.what}: final state", [(v[1], v[3]) for v in c.variants])


@check(points=3, description="AttentionDecoder: logits, final state and attention weights equal the "
                             "reference's (GRU, LSTM, RNN; ragged source)",
       kind="values", promises=("attn-decoder.query", "attn-decoder.context", "attn-decoder.forward"),
       targets=("AttentionDecoder",))
def test_attention_decoder_values(sub, ref, once):
    configs = (("gru", 2, False), ("lstm", 2, True), ("rnn", 1, False))
    cs = once(lambda d: [_decoder_case(d.child(i), ref, "AttentionDecoder", cell, L, square=sq)
                         for i, (cell, L, sq) in enumerate(configs)])
    for c in cs:
        m = sub.build("AttentionDecoder", c.state, **c.kw, dtype=torch.float64)
        value = sub.call(m, c.tgt, c.h0, c.enc, c.src_mask).value
        logits, st, w = expect_tuple(value, f"{c.what}: the result (logits, state, attention_weights)", 3)
        expect_tensor(w, f"{c.what}: attention weights", (c.B, c.T, c.S), torch.float64)
        first = w[:, 0][c.src_mask]  # the first step's weights at real source positions
        if bool((c.src_mask.sum(1) > 1).any()) and torch.allclose(first, torch.ones_like(first)):
            fail(f"{c.what}: the attention weights are all 1 (or NaN at padding): the softmax runs over a "
                 "dimension of size 1 (one query per step); check the softmax dimension: normalise over the "
                 "source positions (the last dimension of the scores [B, 1, S])")
        diag = cases.variant_diagnoses([(v[0], v[3]) for v in c.variants])
        assert_close(logits, c.logits, f"{c.what}: logits", diagnoses=diag)
        assert_close(w, c.w, f"{c.what}: attention weights",
                     diagnoses=cases.variant_diagnoses([(v[2], v[3]) for v in c.variants]))
        cases.compare_state(st, c.st, c.cell, f"{c.what}: final state", [(v[1], v[3]) for v in c.variants])


@check(points=1, description="Decoders: gradients w.r.t. the initial state, the encoder outputs and every "
                             "parameter equal the reference's",
       kind="gradients", promises=("decoder.forward", "attn-decoder.forward"),
       targets=("Decoder", "AttentionDecoder"))
def test_decoder_gradients(sub, ref, once):
    configs = (("AttentionDecoder", "lstm", 2), ("AttentionDecoder", "gru", 1), ("Decoder", "gru", 1))
    cs = once(lambda d: [_decoder_case(d.child(i), ref, name, cell, L, grads=True)
                         for i, (name, cell, L) in enumerate(configs)])
    for c in cs:
        m = sub.build(c.name, c.state, **c.kw, dtype=torch.float64)
        h0 = cases.state_map(c.h0, GradInput)
        attn = c.name == "AttentionDecoder"
        enc = GradInput(c.enc) if attn else c.enc
        r = sub.call(m, c.tgt, h0, enc, c.src_mask, backward=(c.g_logits, c.g_state, c.g_weights))
        names = ("h0", "c0") if c.cell == "lstm" else ("h0",)
        for i, n in enumerate(names):
            assert_grad_close(r.input_grads[i], c.d_h0[i], f"{c.what}: d loss / d {n} (the initial state)")
        if attn:
            assert_grad_close(r.input_grads[len(names)], c.d_enc, f"{c.what}: d loss / d enc_outputs")
        for name, g in c.grads.items():
            if g is None:
                continue
            assert_grad_close(r.param_grads.get(name), g, f"{c.what}: d loss / d {name}")
