"""Lab `parallel`: time and sequential steps of an RNN layer and self-attention."""

from __future__ import annotations

import pytest

from .conftest import is_png, read_csv


@pytest.fixture(scope="module")
def result(quick_lab):
    return quick_lab("parallel")


def test_writes_a_png_and_a_csv_row_per_layer_and_length(result):
    from grader.labs.parallel import Settings

    assert is_png(result.png)
    rows = read_csv(result.csv)
    assert len(rows) == 2 * len(Settings.quick().lengths)
    assert list(rows[0]) == ["model", "length", "ms_fwd_bwd", "sequential_steps"]
    assert all(float(r["ms_fwd_bwd"]) > 0 for r in rows)


def test_attentions_sequential_steps_do_not_grow_with_length(result):
    steps = [int(r["sequential_steps"]) for r in read_csv(result.csv) if r["model"] == "self-attention"]
    assert len(set(steps)) == 1


def test_the_rnns_sequential_steps_grow_linearly_with_length(result):
    from grader.labs.parallel import Settings

    lengths = Settings.quick().lengths
    steps = [int(r["sequential_steps"]) for r in read_csv(result.csv) if r["model"] == "RNN"]
    assert steps == sorted(steps) and steps[-1] > steps[0]
    per_step = (steps[-1] - steps[0]) / (lengths[-1] - lengths[0])
    assert per_step >= 1
    assert steps[-1] > result.findings["attention_steps_last"]


def test_graph_depth_counts_the_longest_chain_not_all_operations():
    import torch

    from grader.labs.parallel import graph_depth

    x = torch.randn(3, requires_grad=True)
    wide = sum(x * i for i in range(10))  # 10 products, then 10 additions in a chain
    assert graph_depth(wide) == 11
    chain = x
    for _ in range(5000):  # deeper than Python's recursion limit
        chain = chain * 1.0
    assert graph_depth(chain) == 5000


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [([1.0, 2.0, 8.0], [2.0, 2.0, 4.0], [2.0]), ([1.0, 4.0], [2.0, 2.0], [2.0 ** 0.5 * 1.0]), ([1.0, 1.0], [2.0, 3.0], [])],
    ids=["touching", "crossing-between-points", "never"],
)
def test_find_crossings(a, b, expected):
    from grader.labs.parallel import find_crossings

    got = find_crossings([1, 2, 4][: len(a)], a, b)
    assert got == pytest.approx(expected)
