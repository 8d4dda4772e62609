"""Hidden checks of every module's parameters, output shapes and dtypes (batch size 1 and more, float32 and
float64, one and two layers), for each cell type."""

from __future__ import annotations


import pytest
import torch

from grader.checks import check, expect_tensor, expect_tuple, fail, load_cases, unless_missing


cases = load_cases(__file__)


# One configuration per cell; together (and with the public shapes check) they cover one and two layers,
# batch size 1 and more, float32 and float64.
CONFIGS = {"gru": ((2, 1, torch.float64),), "lstm": ((1, 1, torch.float32),), "rnn": ((2, 3, torch.float32),)}


def _configs(d, ref, cell):
    out = []
    for L, B, dtype in CONFIGS[cell]:
        V, E, H = cases.sizes(d)
        S, T = d.int(2, 6), d.int(2, 5)
        kw = cases.kwargs_of(V, E, H, L, cell)
        params = {}
        for name in ("Encoder", "Decoder", "AttentionDecoder"):
            params[name] = [(n, tuple(p.shape)) for n, p in getattr(ref, name)(**kw).named_parameters()]
        src, lengths = cases.ragged(d, B, S, V)
        out.append(dict(kw=kw, params=params, src=src, lengths=lengths, tgt=d.randint(1, V, (B, T)),
                        L=L, B=B, S=S, T=T, V=V, H=H, dtype=dtype,
                        h0=cases.state_map(cases.random_state(d, cell, L, B, H), lambda s: s.to(dtype)),
                        enc=d.randn(B, S, H).to(dtype)))
    return out


def _check_params(sub, m, name, expected, what):
    got = [(n, tuple(s)) for n, s, _ in sub.parameters(m)]
    if sorted(got) != sorted(expected):
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        fail(f"{what}: parameters differ from the contract; missing or misshapen {missing[:4]}, unexpected "
             f"{extra[:4]} (use the submodules the contract names: embedding, rnn, attention, out)")


def _check_state(st, cell, L, B, H, dtype, what):
    parts, names = cases.state_parts(st, cell, what)
    for p, n in zip(parts, names):
        expect_tensor(p, f"{what} {n}" if cell == "lstm" else what, (L, B, H), dtype)


@pytest.mark.parametrize("cell", cases.CELLS)
@check(points=1, description="Parameters, shapes and dtypes of Encoder, Decoder, AttentionDecoder, Seq2Seq "
                             "and sequence_loss",
       kind="shapes", promises=("params.names", "ctor.keywords", "encoder.modules", "attn-decoder.modules",
                                "batch.any", "dtype.float32-float64"),
       targets=("Encoder", "Decoder", "AttentionDecoder", "Seq2Seq", "Seq2Seq.greedy_decode", "Seq2Seq.beam_search",
                "sequence_loss"))
def test_shapes(sub, ref, once, cell):
    for c in once(lambda d: _configs(d, ref, cell), key=cell):
        kw, L, B, S, T, V, H, dt = c["kw"], c["L"], c["B"], c["S"], c["T"], c["V"], c["H"], c["dtype"]
        tag = f"({cases.cell_name(cell, L)}, B={B}, {str(dt).replace('torch.', '')})"
        enc = sub.new("Encoder", **kw, dtype=dt)
        _check_params(sub, enc, "Encoder", c["params"]["Encoder"], f"Encoder {tag}")
        out, st = expect_tuple(sub.call(enc, c["src"], c["lengths"]).value, f"Encoder {tag}: (outputs, state)", 2)
        expect_tensor(out, f"Encoder {tag}: outputs", (B, S, H), dt)
        _check_state(st, cell, L, B, H, dt, f"Encoder {tag}: state")

        dec = sub.new("Decoder", **kw, dtype=dt)
        _check_params(sub, dec, "Decoder", c["params"]["Decoder"], f"Decoder {tag}")
        res = expect_tuple(sub.call(dec, c["tgt"], c["h0"], c["enc"], None).value,
                           f"Decoder {tag}: (logits, state, None)", 3)
        expect_tensor(res[0], f"Decoder {tag}: logits", (B, T, V), dt)
        _check_state(res[1], cell, L, B, H, dt, f"Decoder {tag}: state")
        if res[2] is not None:
            fail(f"Decoder {tag}: the third result must be None (a decoder without attention has no weights)")

        adec = sub.new("AttentionDecoder", **kw, dtype=dt)
        _check_params(sub, adec, "AttentionDecoder", c["params"]["AttentionDecoder"], f"AttentionDecoder {tag}")
        mask = cases.mask_of(c["lengths"], S)
        res = expect_tuple(sub.call(adec, c["tgt"], c["h0"], c["enc"], mask).value,
                           f"AttentionDecoder {tag}: (logits, state, attention_weights)", 3)
        expect_tensor(res[0], f"AttentionDecoder {tag}: logits", (B, T, V), dt)
        _check_state(res[1], cell, L, B, H, dt, f"AttentionDecoder {tag}: state")
        expect_tensor(res[2], f"AttentionDecoder {tag}: attention weights", (B, T, S), dt)

        model = sub.new("Seq2Seq", enc, adec)
        logits = sub.call(model, c["src"], c["lengths"], c["tgt"]).value
        expect_tensor(logits, f"Seq2Seq {tag}: forward logits", (B, T, V), dt)
        for method, args in (("greedy_decode", (4, 1, 2)), ("beam_search", (2, 4, 1, 2))):
            with unless_missing(method):  # a decoder not written yet is reported by the decoding checks
                toks = expect_tensor(sub.call(model, c["src"], c["lengths"], *args, method=method).value,
                                     f"Seq2Seq {tag}: {method}")
                if toks.dtype != torch.int64 or toks.dim() != 2 or toks.size(0) != B or not 1 <= toks.size(1) <= 4:
                    fail(f"Seq2Seq {tag}: {method}(max_len=4) should give int64 tokens of shape [B={B}, 1..4], "
                         f"got {tuple(toks.shape)} {str(toks.dtype).replace('torch.', '')} "
                         "(at most max_len tokens; BOS is not part of the output)")
        loss = sub.call("sequence_loss", logits, c["tgt"]).value
        expect_tensor(loss, f"sequence_loss {tag}: the loss (a scalar)", (), dt)
