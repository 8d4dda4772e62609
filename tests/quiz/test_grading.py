"""Grading one answer: the edge cases of every question type."""

from __future__ import annotations

import math
from itertools import combinations, permutations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from grader.quiz.grading import (
    grade_answer, multiple_fraction, numeric_close, pairs_fraction, parse_answer, AnswerError,
)
from grader.quiz.variants import Variant, make_variant

from .conftest import SECRET, quiz_from_text

QUIZ = quiz_from_text("""
id: edge
title: {en: Edge cases, zh: 边界情况}
questions:
  - id: single
    type: single
    points: 2
    tags: [t]
    prompt: {en: Pick, zh: 选}
    explanation: {en: Because, zh: 因为}
    options:
      - {id: a, text: A}
      - {id: B2, text: B, correct: true}
      - {id: c, text: C}
  - id: multi
    type: multiple
    points: 3
    tags: [t]
    prompt: {en: Pick some, zh: 选几个}
    explanation: {en: Because, zh: 因为}
    options:
      - {id: a, text: A, correct: true}
      - {id: b, text: B, correct: true}
      - {id: c, text: C}
      - {id: d, text: D}
  - id: strict
    type: multiple
    scoring: all_or_nothing
    points: 1
    tags: [t]
    prompt: {en: Pick some, zh: 选几个}
    explanation: {en: Because, zh: 因为}
    options:
      - {id: a, text: A, correct: true}
      - {id: b, text: B, correct: true}
      - {id: c, text: C}
  - id: tf
    type: true_false
    points: 1
    tags: [t]
    prompt: {en: Sure, zh: 对吗}
    explanation: {en: Because, zh: 因为}
    answer: false
  - id: num
    type: numeric
    points: 1
    tags: [t]
    prompt: {en: How much, zh: 多少}
    explanation: {en: Because, zh: 因为}
    answer: 100
    tolerance: {abs: 0.5, rel: 0.01}
  - id: exact
    type: numeric
    points: 1
    tags: [t]
    prompt: {en: How much, zh: 多少}
    explanation: {en: Because, zh: 因为}
    answer: 1184
  - id: param
    type: numeric
    points: 2
    tags: [t]
    prompt: {en: 'LSTM({{I}}, {{H}})', zh: 'LSTM({{I}}, {{H}})'}
    explanation: {en: 'With H = {{H}}', zh: 'H = {{H}} 时'}
    params: {I: {min: 1, max: 50}, H: {choices: [8, 16, 32]}}
    formula: 4*(I*H + H*H + 2*H)
  - id: short
    type: short
    points: 1
    tags: [t]
    prompt: {en: Name it, zh: 写出名称}
    explanation: {en: Because, zh: 因为}
    accept: [forget gate, 遗忘门]
    patterns: ['(the )?forget(ting)? gate f_?t']
  - id: order
    type: ordering
    points: 2
    tags: [t]
    prompt: {en: Order, zh: 排序}
    explanation: {en: Because, zh: 因为}
    items:
      - {id: s1, text: one}
      - {id: s2, text: two}
      - {id: s3, text: three}
  - id: pairs
    type: ordering
    scoring: pairs
    points: 3
    tags: [t]
    prompt: {en: Order, zh: 排序}
    explanation: {en: Because, zh: 因为}
    items:
      - {id: s1, text: one}
      - {id: s2, text: two}
      - {id: s3, text: three}
      - {id: s4, text: four}
""")


def grade(qid: str, value, student: str = "alice"):
    q = QUIZ.question(qid)
    return grade_answer(q, make_variant(QUIZ.id, q, student, SECRET), value)


def outcome(qid: str, value):
    g = grade(qid, value)
    return g.score, g.status


# -- single choice -------------------------------------------------------------

@pytest.mark.parametrize(
    "value, want",
    [
        ("B2", (2.0, "passed")),
        ("b2", (2.0, "passed")),  # ids are matched case-insensitively when unambiguous
        (" B2 ", (2.0, "passed")),
        ("a", (0.0, "failed")),
        (None, (0.0, "failed")),
        ("", (0.0, "failed")),
        ("z", (0.0, "error")),
        (["B2"], (0.0, "error")),
        (True, (0.0, "error")),
        ({"answer": "B2", "points": 100}, (0.0, "error")),
    ],
    ids=["right", "case", "spaces", "wrong", "none", "empty", "no-such-option", "list", "bool", "mapping"],
)
def test_single_choice(value, want):
    assert outcome("single", value) == want


def test_unknown_option_message_lists_the_options():
    g = grade("single", "z")
    assert g.problem == "question 'single' has no option 'z' (options: a, B2, c)"


# -- multiple choice -----------------------------------------------------------

@pytest.mark.parametrize(
    "value, score",
    [
        (["a", "b"], 3.0),
        (["b", "a"], 3.0),
        (["a"], 1.5),
        ("a", 1.5),  # a single id counts as a list of one
        (["a", "c"], 0.0),  # +1/2 - 1/2
        (["a", "b", "c"], 1.5),
        (["a", "b", "c", "d"], 0.0),
        (["c", "d"], 0.0),  # floored at 0, never negative
        (["a", "a", "b"], 3.0),  # duplicates count once
        ([], 0.0),
    ],
)
def test_multiple_choice_partial_credit(value, score):
    assert grade("multi", value).score == score


def test_multiple_choice_all_or_nothing():
    assert outcome("strict", ["a", "b"]) == (1.0, "passed")
    assert outcome("strict", ["a"]) == (0.0, "failed")
    assert outcome("strict", ["a", "b", "c"]) == (0.0, "failed")


def test_partial_credit_is_failed_status_but_keeps_points():
    assert outcome("multi", ["a"]) == (1.5, "failed")


@pytest.mark.parametrize("value", [["a", "zz"], [["a"]], {"a": True}, 3.5])
def test_multiple_choice_wrong_shapes_are_errors(value):
    assert grade("multi", value).status == "error"


_ids = st.sampled_from("abcdefgh")


@settings(max_examples=300, deadline=None)
@given(st.sets(_ids, min_size=1), st.sets(_ids))
def test_multiple_fraction_properties(correct, chosen):
    correct, chosen = frozenset(correct), frozenset(chosen)
    f = multiple_fraction(correct, chosen)
    assert 0.0 <= f <= 1.0
    assert (f == 1.0) == (correct <= chosen and not (chosen - correct))
    assert f == max(0.0, (len(chosen & correct) - len(chosen - correct)) / len(correct))
    assert multiple_fraction(correct, chosen, "all_or_nothing") == float(chosen == correct)


@settings(max_examples=200, deadline=None)
@given(st.sets(_ids, min_size=1), st.sets(_ids), _ids)
def test_adding_a_correct_option_never_lowers_and_a_wrong_one_never_raises(correct, chosen, extra):
    correct, chosen = frozenset(correct), frozenset(chosen)
    assume(extra not in chosen)
    before = multiple_fraction(correct, chosen)
    after = multiple_fraction(correct, chosen | {extra})
    assert (after >= before) if extra in correct else (after <= before)


# -- true/false ----------------------------------------------------------------

@pytest.mark.parametrize(
    "value, want",
    [
        (False, (1.0, "passed")),
        (True, (0.0, "failed")),
        ("false", (1.0, "passed")),
        ("FALSE", (1.0, "passed")),
        ("错", (1.0, "passed")),
        ("错误。", (1.0, "passed")),
        ("no", (1.0, "passed")),
        ("对", (0.0, "failed")),
        ("maybe", (0.0, "error")),
        (0, (0.0, "error")),
        ([False], (0.0, "error")),
    ],
)
def test_true_false(value, want):
    assert outcome("tf", value) == want


# -- numeric -------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, status",
    [
        (100, "passed"),
        (100.9, "passed"),  # rel 1% of 100 = 1 > abs 0.5
        (101.0, "passed"),
        (101.01, "failed"),
        (98.99, "failed"),
        ("100", "passed"),
        ("1e2", "passed"),  # YAML 1.1 reads 1e2 as a string
        ("１００", "passed"),  # full-width digits
        ("1_00", "passed"),
        (float("nan"), "failed"),
        (float("inf"), "failed"),
        ("hundred", "error"),
        (True, "error"),
        ([100], "error"),
    ],
)
def test_numeric_tolerance(value, status):
    assert grade("num", value).status == status


def test_numeric_default_tolerance_is_tight():
    assert outcome("exact", 1184) == (1.0, "passed")
    assert outcome("exact", 1184.0000000001) == (1.0, "passed")
    assert outcome("exact", 1185) == (0.0, "failed")


def test_parameterized_answer_is_the_students_own():
    q = QUIZ.question("param")
    alice = make_variant(QUIZ.id, q, "alice", SECRET)
    others = [make_variant(QUIZ.id, q, f"s{i}", SECRET) for i in range(30)]
    other = next(v for v in others if v.answer != alice.answer)
    assert grade("param", alice.answer).status == "passed"
    assert grade("param", other.answer).status == "failed"
    I, H = alice.values["I"], alice.values["H"]
    assert alice.answer == 4 * (I * H + H * H + 2 * H)


@settings(max_examples=300, deadline=None)
@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.floats(0, 10), st.floats(0, 1))
def test_numeric_close_matches_its_definition(x, a, abs_tol, rel_tol):
    assert numeric_close(x, a, abs_tol, rel_tol) == (abs(x - a) <= max(abs_tol, rel_tol * abs(a)))


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e9, 1e9), st.floats(0, 1e-3))
def test_numeric_close_is_symmetric_around_the_answer(a, rel_tol):
    d = rel_tol * abs(a) * 0.5
    assert numeric_close(a + d, a, 0.0, rel_tol) and numeric_close(a - d, a, 0.0, rel_tol)


# -- short answer --------------------------------------------------------------

@pytest.mark.parametrize(
    "value, status",
    [
        ("forget gate", "passed"),
        ("Forget Gate.", "passed"),
        ("The forget gate", "passed"),  # a leading article is dropped by the normalization
        ("not the forget gate", "failed"),  # any other word counts
        ("the forget gate, not the input gate", "failed"),
        ("ＦＯＲＧＥＴ　ＧＡＴＥ", "passed"),
        ("遗忘门。", "passed"),
        ("“遗忘 门”", "passed"),
        ("the forgetting gate f_t", "passed"),  # by the pattern
        ("forget gate ft", "passed"),
        ("input gate", "failed"),
        ("forget gate and input gate", "failed"),  # patterns must match the whole answer
        ("", "failed"),
        ("   ", "failed"),
        (42, "failed"),  # a number is read as text
        (["forget gate"], "error"),
        (None, "failed"),
    ],
)
def test_short_answer(value, status):
    assert grade("short", value).status == status


# -- ordering ------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, want",
    [
        (["s1", "s2", "s3"], (2.0, "passed")),
        (["S1", "S2", "S3"], (2.0, "passed")),
        (["s2", "s1", "s3"], (0.0, "failed")),
        (["s1", "s2"], (0.0, "error")),
        (["s1", "s2", "s2"], (0.0, "error")),
        (["s1", "s2", "s3", "s4"], (0.0, "error")),
        ("s1 s2 s3", (0.0, "error")),
        ([], (0.0, "failed")),
    ],
)
def test_ordering_exact(value, want):
    assert outcome("order", value) == want


def test_ordering_pairs_scoring():
    assert outcome("pairs", ["s1", "s2", "s3", "s4"]) == (3.0, "passed")
    assert outcome("pairs", ["s4", "s3", "s2", "s1"]) == (0.0, "failed")
    assert outcome("pairs", ["s2", "s1", "s3", "s4"]) == (2.5, "failed")  # 5 of 6 pairs


@settings(max_examples=200, deadline=None)
@given(st.permutations(list("abcdef")))
def test_pairs_fraction_properties(given_order):
    expected = list("abcdef")
    f = pairs_fraction(expected, given_order)
    assert 0.0 <= f <= 1.0
    assert (f == 1.0) == (given_order == expected)
    assert (f == 0.0) == (given_order == expected[::-1])
    assert pairs_fraction(expected, given_order[::-1]) == pytest.approx(1.0 - f)


def test_pairs_fraction_counts_inversions():
    for order in permutations("abcd"):
        inversions = sum(order.index(x) > order.index(y) for x, y in combinations("abcd", 2))
        assert pairs_fraction(list("abcd"), list(order)) == (6 - inversions) / 6


# -- whatever the answer, grading never raises and stays within the points --------

_answers = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([q.id for q in QUIZ.questions]), _answers)
def test_any_answer_grades_within_bounds(qid, value):
    g = grade(qid, value)
    q = QUIZ.question(qid)
    assert 0.0 <= g.score <= q.points
    assert g.status in ("passed", "failed", "error")
    assert (g.status == "passed") == (g.score == q.points)
    assert (g.status == "error") == bool(g.problem)


def test_parse_answer_raises_answer_error_for_wrong_kinds():
    with pytest.raises(AnswerError):
        parse_answer(QUIZ.question("num"), {"value": 3})
    assert parse_answer(QUIZ.question("num"), "2.5") == 2.5
    assert math.isnan(parse_answer(QUIZ.question("num"), float("nan")))


def test_feedback_variant_text_uses_the_students_numbers():
    from grader.quiz.grading import feedback

    q = QUIZ.question("param")
    v = make_variant(QUIZ.id, q, "alice", SECRET)
    g = grade_answer(q, v, 1)
    text = feedback(q, v, g, "en")
    assert text.startswith("Not correct. Your answer: 1. Correct answer: ")
    assert f"With H = {v.values['H']}" in text
    zh = feedback(q, v, g, "zh")
    assert zh.startswith("不正确。") and f"H = {v.values['H']} 时" in zh


def test_variant_without_answer_is_not_used_for_other_types():
    assert Variant().answer is None
