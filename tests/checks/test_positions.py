"""Failure messages say where values first differ and what that position means (grader.checks.positions)."""

from __future__ import annotations

import pytest
import torch

from grader.checks import CheckFailed, assert_close
from grader.checks.positions import confined, first_index, position

DIMS = ("time step", "batch item", "feature")


def _message(actual, expected, **kw) -> str:
    with pytest.raises(CheckFailed) as exc:
        assert_close(actual, expected, "output", **kw)
    return str(exc.value)


def test_first_difference_is_the_earliest_time_step_not_the_largest_error():
    expected = torch.zeros(6, 2, 3, dtype=torch.float64)
    actual = expected.clone()
    actual[2, 1, 0] = 0.1
    actual[5, 0, 2] = 9.0
    msg = _message(actual, expected, dims=DIMS)
    assert "first at time step 2, batch item 1, feature 0 (got 0.1, expected 0" in msg
    assert "max abs error 9 at time step 5, batch item 0, feature 2" in msg
    assert "2 of 36 values" in msg


def test_time_is_scanned_first_when_it_is_not_the_first_dimension():
    bad = torch.zeros(3, 5, dtype=torch.bool)  # [batch item, time step]
    bad[0, 4] = True
    bad[2, 1] = True
    assert first_index(bad, ("batch item", "time step")) == (2, 1)
    assert first_index(bad, None) == (0, 4)


def test_differences_confined_to_later_steps_and_one_head_are_said_so():
    bad = torch.zeros(2, 3, 8, dtype=torch.bool)  # [batch item, head, query]
    bad[:, 1, 3:] = True
    assert confined(bad, ("batch item", "head", "query")) == \
        "; the differences are only at head 1, queries >= 3"


def test_what_a_position_means_is_in_the_message():
    expected = torch.zeros(2, 4, dtype=torch.float64)
    actual = expected.clone()
    actual[1, 3] = 1.0
    pad = torch.tensor([[False] * 4, [False, False, True, True]])
    msg = _message(actual, expected, dims=("batch item", "target position"),
                   where=lambda idx: "a pad position of tgt_in (tgt_in == 0)" if pad[idx] else "")
    assert "first at batch item 1, target position 3" in msg
    assert "a pad position of tgt_in (tgt_in == 0)" in msg
    assert "only at batch item 1, target position 3" in msg


def test_nan_is_located_with_its_meaning():
    expected = torch.zeros(3, 2, dtype=torch.float64)
    actual = expected.clone()
    actual[1] = float("nan")
    msg = _message(actual, expected, dims=("query", "key"), where=lambda idx: "a fully masked row")
    assert "NaN or inf (first at query 1, key 0: a fully masked row)" in msg


def test_integer_results_report_the_first_differing_step():
    expected = torch.tensor([[4, 7, 2, 0], [5, 5, 5, 2]])
    actual = torch.tensor([[4, 7, 2, 0], [5, 5, 2, 0]])
    msg = _message(actual, expected, dims=("batch item", "step"))
    assert "first at batch item 1, step 2 (got 2, expected 5)" in msg


def test_without_names_the_index_is_given():
    assert position((1, 2), None) == "index (1, 2)"
