"""Lab `attention`: Seq2Seq with and without attention on string reversal."""

from __future__ import annotations

import pytest

from .conftest import is_png, read_csv


@pytest.fixture(scope="module")
def result(quick_lab):
    return quick_lab("attention")


def test_writes_a_png_the_accuracy_csv_and_the_weights_csv(result):
    from grader.labs.attention import Settings

    settings = Settings.quick()
    assert is_png(result.png)
    rows = read_csv(result.csv)
    assert {r["model"] for r in rows} == {"attention", "no attention"}
    assert len(rows) == 2 * len(settings.eval_lengths)
    weights = read_csv(result.extra[0])
    S = settings.heatmap_lengths[0]
    assert len(weights) == (S + 1) * S
    for t in range(S + 1):  # every output step's weights are a distribution over the source
        assert sum(float(w["weight"]) for w in weights if int(w["output_step"]) == t) == pytest.approx(1, abs=1e-4)


def test_attention_beats_no_attention_on_the_longest_sources(result):
    from grader.labs.attention import Settings

    longest = Settings.quick().eval_lengths[-1]
    assert result.findings[f"attention@{longest}"] > result.findings[f"no attention@{longest}"] + 0.08


def test_both_models_learn_short_reversals(result):
    short = [r for r in read_csv(result.csv) if r["source_length"] == "2"]
    assert all(float(r["token_accuracy"]) > 0.9 for r in short)


def test_the_trained_attention_follows_the_anti_diagonal(result):
    assert result.findings["alignment_correlation"] < -0.8


def test_reversal_batches_put_the_source_backwards_then_eos():
    import torch

    from grader.labs.attention import BOS, EOS, Settings, make_batch

    src, lengths, tgt_in, tgt_out = make_batch(Settings(max_length=6), 16, torch.Generator().manual_seed(0))
    for i in range(16):
        n = int(lengths[i])
        assert torch.equal(tgt_out[i, :n], src[i, :n].flip(0))
        assert int(tgt_out[i, n]) == EOS and int(tgt_in[i, 0]) == BOS
        assert torch.equal(tgt_in[i, 1 : n + 1], tgt_out[i, :n])
        assert not src[i, n:].any() and not tgt_out[i, n + 1 :].any()
