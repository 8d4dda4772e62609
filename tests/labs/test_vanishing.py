"""Lab `vanishing`: gradient norms against distance, on small settings."""

from __future__ import annotations

import pytest

from .conftest import is_png, read_csv


@pytest.fixture(scope="module")
def result(quick_lab):
    return quick_lab("vanishing")


def test_writes_a_png_and_a_csv_row_per_model_and_distance(result):
    from grader.labs.vanishing import Settings

    assert is_png(result.png)
    rows = read_csv(result.csv)
    assert list(rows[0]) == ["model", "distance", "grad_norm"]
    models = {r["model"] for r in rows}
    assert models == {"RNN", "LSTM", "GRU", "LSTM (forget bias 1)"}
    assert len(rows) == len(models) * Settings.quick().steps


def test_rnn_gradient_50_steps_back_is_orders_of_magnitude_below_the_lstms(result):
    f = result.findings
    assert f["RNN@50"] < 1e-3 * f["LSTM@50"]
    assert f["RNN@50"] < 1e-3 * f["GRU@50"]


def test_opening_the_forget_gate_carries_the_gradient_further(result):
    f = result.findings
    assert f["LSTM_forget_bias@50"] > 1e3 * f["LSTM@50"]
    assert f["RNN_per_step"] < f["LSTM_per_step"] < f["LSTM_forget_bias_per_step"] < 1


def test_gradient_norms_shrink_with_distance(result):
    rows = read_csv(result.csv)
    for model in ("RNN", "LSTM", "GRU"):
        norms = [float(r["grad_norm"]) for r in rows if r["model"] == model]
        assert norms[40] < 1e-3 * norms[1]
