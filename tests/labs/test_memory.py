"""Lab `memory`: copy accuracy against delay after the same training budget."""

from __future__ import annotations

import pytest

from .conftest import is_png, read_csv


@pytest.fixture(scope="module")
def result(quick_lab):
    return quick_lab("memory")


def test_writes_a_png_and_a_csv_row_per_model_and_delay(result):
    from grader.labs.memory import Settings

    assert is_png(result.png)
    rows = read_csv(result.csv)
    assert {r["model"] for r in rows} == {"RNN", "LSTM", "GRU"}
    assert len(rows) == 3 * len(Settings.quick().delays())
    assert all(0.0 <= float(r["accuracy"]) <= 1.0 for r in rows)


def test_gated_networks_remember_the_longest_delay_and_the_rnn_does_not(result):
    from grader.labs.memory import Settings

    T = Settings.quick().length
    f = result.findings
    assert f[f"LSTM@{T}"] > 0.9
    assert f[f"GRU@{T}"] > 0.9
    assert f[f"RNN@{T}"] < 0.5
    assert f["RNN_holds"] < f["LSTM_holds"] and f["RNN_holds"] < f["GRU_holds"]


def test_the_delays_run_from_one_step_to_the_sequence_length():
    from grader.labs.memory import Settings

    assert Settings(length=48).delays() == [1, 2, 4, 8, 16, 32, 48]
    assert Settings(length=64).delays() == [1, 2, 4, 8, 16, 32, 48, 64]


def test_a_batch_marks_exactly_one_step_and_the_target_is_its_symbol():
    import torch

    from grader.labs.memory import Settings, make_batch

    s = Settings(length=10, symbols=5)
    x, y = make_batch(s, 64, torch.Generator().manual_seed(0), delay=3)
    assert x.shape == (10, 64, 6)
    assert torch.equal(x[..., 5].sum(0), torch.ones(64))
    assert torch.equal(x[10 - 3, :, 5], torch.ones(64))
    assert torch.equal(x[10 - 3, :, :5].argmax(-1), y)
