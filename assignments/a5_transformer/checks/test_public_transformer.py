"""Public checks of a5_transformer: the whole Transformer on fixed inputs and weights
(data/*.safetensors), causality, and greedy decoding."""

import torch

from grader.checks import assert_close, check, expect_tensor, fail, load_tensors

F64 = torch.float64


def _load(name):
    data = load_tensors(__file__, name)
    state = {k[len("state."):]: v for k, v in data.items() if k.startswith("state.")}
    return data, state, tuple(int(x) for x in data["config"])


@check(points=2, description="Transformer.forward gives the expected logits on a fixed padded batch",
       kind="values", promises=("transformer.forward", "transformer.embedding", "transformer.masks"),
       targets=("Transformer",))
def test_public_transformer_expected(sub):
    data, state, config = _load("transformer.safetensors")
    m = sub.build("Transformer", state, *config, dtype=F64)
    got = sub.call(m, data["src"], data["tgt_in"]).value
    assert_close(got, data["logits"], f"Transformer{config} logits on the fixed src {tuple(data['src'].shape)} and "
                                      f"tgt_in {tuple(data['tgt_in'].shape)} (both padded with 0)")


@check(points=1, description="the logits at step t do not depend on target tokens after t",
       kind="properties", promises=("transformer.masks",),
       targets=("Transformer",))
def test_public_causality(sub, draw):
    Vs, Vt = draw.distinct(2, 5, 9)
    m = sub.new("Transformer", Vs, Vt, 4, 2, 1, 1, 6, dtype=F64)
    sub.set_mode(m, False)
    B, S, T = 2, draw.int(2, 5), draw.int(3, 6)
    src, tgt = draw.randint(1, Vs, (B, S)), draw.randint(1, Vt, (B, T))
    t = draw.int(0, T - 2)
    tgt2 = tgt.clone()
    tgt2[:, t + 1:] = tgt[:, t + 1:] % (Vt - 1) + 1
    a = expect_tensor(sub.call(m, src, tgt).value, "Transformer logits", (B, T, Vt), F64)
    b = expect_tensor(sub.call(m, src, tgt2).value, "Transformer logits", (B, T, Vt), F64)
    if not torch.allclose(a[:, :t + 1], b[:, :t + 1], rtol=1e-9, atol=1e-10):
        fail(f"Transformer: changing the target tokens after step {t} changed the logits at steps <= {t}: the "
             "decoder's self-attention must be causal")


@check(points=1, description="greedy_decode gives the expected tokens (no BOS, EOS kept, zeros after EOS)",
       kind="decoding", promises=("transformer.greedy", "decode.format"),
       targets=("Transformer.greedy_decode",))
def test_public_greedy_expected(sub):
    data, state, config = _load("greedy.safetensors")
    max_len, bos, eos = (int(x) for x in data["decode"])
    m = sub.build("Transformer", state, *config, dtype=F64)
    sub.set_mode(m, False)
    got = expect_tensor(sub.call(m, data["src"], method="greedy_decode", max_len=max_len, bos_id=bos,
                                 eos_id=eos).value, "greedy_decode's result")
    exp = data["output"]
    what = f"greedy_decode(max_len={max_len}, bos_id={bos}, eos_id={eos}) on the fixed inputs"
    if got.shape != exp.shape:
        fail(f"{what}: expected shape {tuple(exp.shape)} (no BOS; as wide as the longest row, up to its EOS), got "
             f"{tuple(got.shape)}; expected {exp.tolist()}, got {got.tolist()}")
    if not torch.equal(got, exp):
        fail(f"{what}: expected {exp.tolist()}, got {got.tolist()} (rows are 0 after their EOS)")
