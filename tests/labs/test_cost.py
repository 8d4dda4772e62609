"""Lab `cost`: parameters and time per step of RNN, GRU and LSTM."""

from __future__ import annotations

import pytest

from .conftest import is_png, read_csv


@pytest.fixture(scope="module")
def result(quick_lab):
    return quick_lab("cost")


def test_writes_a_png_and_a_csv_row_per_model_and_size(result):
    from grader.labs.cost import Settings

    assert is_png(result.png)
    rows = read_csv(result.csv)
    assert len(rows) == 3 * len(Settings.quick().hidden_sizes)
    assert all(float(r["ms_per_step"]) > 0 for r in rows)


def test_gru_has_three_quarters_of_the_lstms_parameters(result):
    assert result.findings["gru_lstm_param_ratio"] == pytest.approx(0.75, abs=1e-12)
    assert result.findings["rnn_lstm_param_ratio"] == pytest.approx(0.25, abs=1e-12)


def test_counted_parameters_match_torchs_layout_at_every_size(result):
    for row in read_csv(result.csv):
        assert row["params"] == row["expected_params"]


def test_a_layout_that_differs_from_torch_is_pointed_out(tmp_path, repo_root):
    from grader.labs import run_lab

    student = tmp_path / "gated.py"
    student.write_text(
        "import torch\n"
        "class GRU(torch.nn.GRU):\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        super().__init__(*args, **kwargs)\n"
        "        self.extra = torch.nn.Parameter(torch.zeros(3))\n"
        "LSTM = torch.nn.LSTM\n",
        encoding="utf-8",
    )
    result = run_lab("cost", solutions_dir=repo_root / "solutions", out=tmp_path, impls=[student], quick=True)
    assert any("torch's layout has" in line for line in result.summary)
    assert result.findings["gru_lstm_param_ratio"] > 0.75
