"""Public checks of the parameter layout (as torch's modules lay it out) and of every output's shape and dtype."""

from __future__ import annotations

import torch

from grader.checks import check, expect_tensor, expect_tuple, fail, load_cases, unless_missing


common = load_cases(__file__, "_common")


@check(points=1, description="Parameter names and shapes follow the contract; outputs have the contract's "
                             "shapes and dtypes (batch size 1 and more, float32 and float64)",
       kind="shapes", promises=("params.names", "encoder.modules", "attn-decoder.modules"),
       targets=("Encoder", "Decoder", "AttentionDecoder", "Seq2Seq"))
def test_public_shapes(sub, draw):
    for cell, L, B, dt in (("gru", 1, 1, torch.float32), ("lstm", 2, 3, torch.float64)):
        d = draw.child(cell)
        V = d.int(6, 12)
        E, H = d.distinct(2, 3, 7)
        S, T = d.int(2, 5), d.int(2, 5)
        kw = dict(vocab_size=V, embed_size=E, hidden_size=H, num_layers=L, cell=cell)
        tag = f"({cell.upper()}, {L} layer{'s' if L > 1 else ''}, B={B}, {str(dt).replace('torch.', '')})"
        mods = {}
        for name in ("Encoder", "Decoder", "AttentionDecoder"):
            m = mods[name] = sub.new(name, **kw, dtype=dt)
            want = sorted((n, tuple(p.shape)) for n, p in common.Layout(name, **kw).named_parameters())
            got = sorted((n, tuple(s)) for n, s, _ in sub.parameters(m))
            if got != want:
                fail(f"{name} {tag}: parameters differ from the contract: missing or misshapen "
                     f"{sorted(set(want) - set(got))[:4]}, unexpected {sorted(set(got) - set(want))[:4]}")
        src, lengths = common.ragged(d, B, S, V) if B > 1 else (d.randint(1, V, (1, S)), torch.tensor([S]))
        tgt = d.randint(1, V, (B, T))
        out, st = expect_tuple(sub.call(mods["Encoder"], src, lengths).value, f"Encoder {tag}: (outputs, state)", 2)
        expect_tensor(out, f"Encoder {tag}: outputs", (B, S, H), dt)
        for p, n in zip(*common.state_parts(st, cell, f"Encoder {tag}: state")):
            expect_tensor(p, f"Encoder {tag}: state {n}", (L, B, H), dt)
        mask = common.mask_of(lengths, S)
        for name in ("Decoder", "AttentionDecoder"):
            res = expect_tuple(sub.call(mods[name], tgt, st, out, mask).value, f"{name} {tag}: the result", 3)
            expect_tensor(res[0], f"{name} {tag}: logits", (B, T, V), dt)
            for p, n in zip(*common.state_parts(res[1], cell, f"{name} {tag}: state")):
                expect_tensor(p, f"{name} {tag}: state {n}", (L, B, H), dt)
            if name == "AttentionDecoder":
                expect_tensor(res[2], f"{name} {tag}: attention weights", (B, T, S), dt)
        model = sub.new("Seq2Seq", mods["Encoder"], mods["AttentionDecoder"])
        expect_tensor(sub.call(model, src, lengths, tgt).value, f"Seq2Seq {tag}: logits", (B, T, V), dt)
        with unless_missing("greedy_decode"):  # a decoder not written yet is reported by the decoding checks
            toks = expect_tensor(sub.call(model, src, lengths, 3, 1, 2, method="greedy_decode").value,
                                 f"Seq2Seq {tag}: greedy_decode")
            if toks.dtype != torch.int64 or toks.dim() != 2 or toks.size(0) != B or not 1 <= toks.size(1) <= 3:
                fail(f"Seq2Seq {tag}: greedy_decode(max_len=3) should give int64 tokens [B={B}, 1..3], got "
                     f"{tuple(toks.shape)} {str(toks.dtype).replace('torch.', '')} "
                     "(at most max_len tokens; BOS is not part of the output)")
