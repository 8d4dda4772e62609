"""Public checks of greedy decoding and beam search: expected tokens for fixed weights and inputs
(data/decode_lstm.safetensors), the output format, and beam_size=1 = greedy."""

from __future__ import annotations

import torch

from grader.checks import assert_close, check, expect_tensor, expect_tuple, fail, load_cases


common = load_cases(__file__, "_common")
F64 = torch.float64


def _setup(sub):
    data = common.load_data("decode_lstm.safetensors")
    kw = common.kwargs_from(data, "lstm")
    model, _ = common.build_seq2seq(sub, "AttentionDecoder", kw, common.state_from(data))
    ids = {k: int(data[k]) for k in ("bos_id", "eos_id", "max_len", "beam_size")}
    return data, model, ids


@check(points=1, description="greedy_decode gives the expected tokens (no BOS, pad after EOS, stops when "
                             "every row has finished)",
       kind="decoding", promises=("seq2seq.greedy", "decode.format", "decode.stop"),
       targets=("Seq2Seq.greedy_decode",))
def test_public_greedy_data(sub):
    data, model, ids = _setup(sub)
    got = sub.call(model, data["src"], data["src_lengths"], ids["max_len"], ids["bos_id"], ids["eos_id"],
                   method="greedy_decode").value
    common.compare_tokens(got, data["greedy"], "greedy_decode", ids["max_len"], ids["bos_id"], ids["eos_id"])


@check(points=1, description="beam_search gives the expected tokens, and equals greedy decoding with "
                             "beam_size=1",
       kind="decoding", promises=("seq2seq.beam", "beam.size-one"),
       targets=("Seq2Seq.beam_search",))
def test_public_beam_data(sub):
    data, model, ids = _setup(sub)
    got = sub.call(model, data["src"], data["src_lengths"], ids["beam_size"], ids["max_len"], ids["bos_id"],
                   ids["eos_id"], method="beam_search").value
    common.compare_tokens(got, data["beam"], f"beam_search(beam_size={ids['beam_size']})", ids["max_len"],
                          ids["bos_id"], ids["eos_id"], beam=True)
    got = sub.call(model, data["src"], data["src_lengths"], 1, ids["max_len"], ids["bos_id"], ids["eos_id"],
                   method="beam_search").value
    common.compare_tokens(got, data["greedy"], "beam_search(beam_size=1) (it must equal greedy decoding)",
                          ids["max_len"], ids["bos_id"], ids["eos_id"])
