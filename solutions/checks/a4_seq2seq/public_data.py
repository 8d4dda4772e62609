"""Builds the expected outputs the public a4_seq2seq checks compare with (fixed inputs, fixed weights).

`build(ref)` returns {file name: {tensor name: tensor}}; the release command writes
each dict to assignments/a4_seq2seq/checks/data/<file name> with safetensors.
Everything is deterministic (fixed seeds) and small (a few KB per file).
Weights are stored under "state.<parameter name>" (a Seq2Seq state_dict).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from grader.checks import Draw, load_cases


def _int(x: int) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.int64)


def _attention_file(ref) -> dict[str, torch.Tensor]:
    """Seq2Seq(Encoder, AttentionDecoder), GRU, one layer: forward logits, and one decoder call."""
    cases = load_cases(__file__)
    d = Draw(20260401)
    V, E, H, L, B, S, T = 9, 3, 4, 1, 3, 5, 4
    kw = cases.kwargs_of(V, E, H, L, "gru")
    m, state = cases.loaded(cases.seq2seq(ref, "AttentionDecoder", kw), d, 0.6)
    src, lengths = cases.ragged(d, B, S, V)
    tgt_in = d.randint(1, V, (B, T))
    tgt_in[1, T - 1] = 0
    h0 = d.uniform(L, B, H, lo=-0.8, hi=0.8)
    src_mask = cases.mask_of(lengths, S)
    enc = d.uniform(B, S, H, lo=-0.9, hi=0.9) * src_mask.unsqueeze(-1)
    with torch.no_grad():
        logits = m(src, lengths, tgt_in)
        dec_logits, dec_state, dec_weights = m.decoder(tgt_in, h0, enc, src_mask)
    out = {f"state.{k}": v for k, v in state.items()}
    out.update(vocab_size=_int(V), embed_size=_int(E), hidden_size=_int(H), num_layers=_int(L),
               src=src, src_lengths=lengths, tgt_in=tgt_in, logits=logits,
               h0=h0, enc_outputs=enc, src_mask=src_mask, dec_logits=dec_logits, dec_state=dec_state,
               dec_weights=dec_weights)
    return out


def _decode_file(ref) -> dict[str, torch.Tensor]:
    """Seq2Seq(Encoder, AttentionDecoder), LSTM, one layer: greedy decoding and beam search."""
    cases = load_cases(__file__)
    d = Draw(20260402)
    while True:
        c = cases.decode_case(d, ref, "AttentionDecoder", "lstm", 1, 4, 8, 3)
        if c.kw["vocab_size"] <= 10 and c.kw["hidden_size"] <= 5 and not torch.equal(
                cases._pad_to(c.greedy, 8), cases._pad_to(c.beam, 8)):
            break
        d = d.child("again")
    out = {f"state.{k}": v for k, v in c.state.items()}
    out.update(vocab_size=_int(c.kw["vocab_size"]), embed_size=_int(c.kw["embed_size"]),
               hidden_size=_int(c.kw["hidden_size"]), num_layers=_int(1), src=c.src, src_lengths=c.lengths,
               bos_id=_int(c.bos), eos_id=_int(c.eos), max_len=_int(c.max_len), beam_size=_int(c.beam_size),
               greedy=c.greedy, beam=c.beam)
    return out


def build(ref) -> dict[str, dict[str, torch.Tensor]]:
    return {"attention_gru.safetensors": _attention_file(ref), "decode_lstm.safetensors": _decode_file(ref)}


if __name__ == "__main__":  # python solutions/checks/a4_seq2seq/public_data.py: write the files
    from safetensors.torch import save_file

    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location("seqgrade_reference_seq2seq", root / "solutions" / "seq2seq.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    out_dir = root / "assignments" / "a4_seq2seq" / "checks" / "data"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, tensors in build(ref).items():
        save_file({k: v.detach().contiguous() for k, v in tensors.items()}, str(out_dir / name))
        print(out_dir / name, (out_dir / name).stat().st_size, "bytes")
