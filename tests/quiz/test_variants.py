"""Per-student variants: reproducible, keyed by the secret, independent of PYTHONHASHSEED."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.quiz.model import Numeric, SingleChoice
from grader.quiz.variants import KeyedStream, fill, format_number, make_variant, student_version

from .conftest import REPO, SECRET

STUDENTS = [f"s{i:03d}" for i in range(40)]


def _numeric(bank, quiz_id, qid):
    q = bank[quiz_id].question(qid)
    assert isinstance(q, Numeric)
    return q


def test_same_student_gets_the_same_version(bank):
    quiz = bank["q2_gated"]
    a = student_version(quiz, "alice", SECRET)
    b = student_version(quiz, "alice", SECRET)
    assert [v for _, v in a] == [v for _, v in b]


def test_neighbours_get_different_numbers(bank):
    q = _numeric(bank, "q2_gated", "lstm_params")
    values = {tuple(sorted(make_variant("q2_gated", q, s, SECRET).values.items())) for s in STUDENTS}
    assert len(values) >= 30  # 16 x 16 possible draws for 40 students


def test_another_secret_gives_other_numbers(bank):
    q = _numeric(bank, "q2_gated", "lstm_params")
    same = sum(make_variant("q2_gated", q, s, SECRET).values == make_variant("q2_gated", q, s, "other").values
               for s in STUDENTS)
    assert same <= 4


def test_options_are_shuffled_per_student_but_keep_their_ids(bank):
    q = bank["q1_rnn_basics"].question("encoder_role")
    assert isinstance(q, SingleChoice)
    orders = Counter(make_variant("q1_rnn_basics", q, s, SECRET).option_order for s in STUDENTS)
    assert len(orders) >= 8
    assert all(sorted(order) == sorted(o.id for o in q.options) for order in orders)


def test_ordering_items_are_never_shown_in_the_right_order(bank):
    q = bank["q3_attention"].question("sdpa_steps")
    right = tuple(i.id for i in q.items)
    for s in STUDENTS:
        order = make_variant("q3_attention", q, s, SECRET).item_order
        assert order != right and sorted(order) == sorted(right)


def test_draws_match_a_recorded_value():
    """The stream is part of the course's data: changing it would change every student's numbers."""
    stream = KeyedStream("k", "quiz", "alice", "q1", "param:H")
    assert [stream.below(1000) for _ in range(5)] == [955, 996, 85, 344, 328]


def _script() -> str:
    return (
        "import json\n"
        "from grader.quiz.loader import load_quiz\n"
        "from grader.quiz.variants import student_version\n"
        "q = load_quiz('course/quizzes/q3_attention.yaml')\n"
        "out = {s: [[sorted(v.values.items()), v.option_order, v.item_order, v.answer]\n"
        "       for _, v in student_version(q, s, 'k')] for s in ['alice', 'bob', 'carol']}\n"
        "print(json.dumps(out))\n"
    )


def test_variants_do_not_depend_on_pythonhashseed():
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", _script()], cwd=REPO, env=env, capture_output=True,
                              text=True, check=True)
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop())["alice"]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10_000), st.text(max_size=10))
def test_below_stays_in_range(n, label):
    stream = KeyedStream("secret", label)
    assert all(0 <= stream.below(n) < n for _ in range(5))


def test_below_is_roughly_uniform():
    stream = KeyedStream("secret", "uniform")
    counts = Counter(stream.below(6) for _ in range(6000))
    assert set(counts) == set(range(6))
    assert all(850 < c < 1150 for c in counts.values())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(), max_size=12, unique=True), st.text(max_size=8))
def test_shuffle_is_a_permutation(items, label):
    assert sorted(KeyedStream("s", label).shuffled(items)) == sorted(items)


@pytest.mark.parametrize(
    "x, text", [(64, "64"), (64.0, "64"), (0.125, "0.125"), (1 / 3, "0.3333333333"), (True, "true")],
)
def test_format_number(x, text):
    assert format_number(x) == text


def test_fill_replaces_known_placeholders_only():
    assert fill("LSTM({{I}}, {{ H }}) and {{X}} and $\\sqrt{d_k}$", {"I": 8, "H": 16.0}) == \
        "LSTM(8, 16) and {{X}} and $\\sqrt{d_k}$"
