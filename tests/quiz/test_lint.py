"""The guessability lint: test-wise strategies against chance, balance, leakage, examples, free questions.

A fair quiz passes; each way of rigging one is caught, with its numbers.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.errors import QuizError
from grader.quiz.lint import LIMIT, format_report, lint_quiz, strategy_scores, tokens

from .conftest import BANK_DIR, REPO, quiz_from_text

HEAD = "id: lint\ntitle: {en: Lint, zh: 检查}\nquestions:\n"
FREE = """
  - id: open
    type: free
    points: 2
    tags: [t]
    prompt: {en: Explain the gates, zh: 解释各个门}
    explanation: {en: Because, zh: 因为}
    rubric:
      - {id: one, points: 1, text: {en: Names the gates, zh: 说出各个门}}
      - {id: two, points: 1, text: {en: Says what each does, zh: 说出各自的作用}}
    model_answer: {en: The answer, zh: 答案}
"""
SHORT = """
  - id: name_it
    type: short
    points: 1
    tags: [t]
    prompt: {en: Which gate keeps the cell, zh: 哪个门保留细胞状态}
    explanation: {en: Because, zh: 因为}
    accept: [forget gate, 遗忘门]
    examples:
      accept: [forget gate, the forget gate, Forget gate., FORGET GATE, forget   gate, ＦＯＲＧＥＴ ＧＡＴＥ,
               遗忘门, 遗忘 门, 遗忘门。, “遗忘门”, 「遗忘门」, 遗忘门！]
      reject: [input gate, output gate, forget, gate, not the forget gate, update gate,
               输入门, 输出门, 遗忘, 门, 更新门, 重置门]
"""


def single(qid: str, correct: int, texts=None, prompt="Pick one") -> str:
    texts = texts or tuple(f"{w} {qid}" for w in ("alpha", "bravo", "charl", "delta"))
    opts = "".join(f"      - {{id: {'abcd'[i]}, text: \"{t}\"{', correct: true' if i == correct else ''}}}\n"
                   for i, t in enumerate(texts))
    return (f"  - id: {qid}\n    type: single\n    points: 1\n    tags: [t]\n"
            f"    prompt: {{en: {prompt}, zh: 选一个}}\n    explanation: {{en: Because, zh: 因为}}\n    options:\n{opts}")


def true_false(qid: str, answer: bool) -> str:
    return (f"  - id: {qid}\n    type: true_false\n    points: 1\n    tags: [t]\n"
            f"    prompt: {{en: Is it so, zh: 是这样吗}}\n    explanation: {{en: Because, zh: 因为}}\n"
            f"    answer: {str(answer).lower()}\n")


FAIR = HEAD + "".join(single(f"s{i}", i) for i in range(4)) + true_false("t1", True) + true_false("t2", False) \
    + SHORT + FREE


def messages(text: str) -> list[str]:
    return [p.message for p in lint_quiz(quiz_from_text(text)).problems]


def test_a_fair_quiz_passes_at_chance():
    report = lint_quiz(quiz_from_text(FAIR))
    assert report.problems == []
    assert report.chance == pytest.approx((4 * 0.25 + 2 * 0.5) / 6)
    for s in report.strategies:
        assert s.ok and s.worst <= s.chance + 1e-9, s


def test_longest_option_always_right_is_caught_with_its_numbers():
    rigged = HEAD + "".join(single(f"s{i}", i, texts=tuple("the right answer, clearly longer" if j == i else
                                                           f"short {j}" for j in range(4)))
                            for i in range(4)) + true_false("t1", True) + true_false("t2", False) + SHORT + FREE
    report = lint_quiz(quiz_from_text(rigged))
    longest = next(s for s in report.strategies if s.name == "longest")
    assert longest.score == {"en": pytest.approx(5 / 6), "zh": pytest.approx(5 / 6)}
    assert not longest.ok and longest.margin > LIMIT
    text = "\n".join(p.message for p in report.problems)
    assert "'longest option' scores 83.3% in en against chance 33.3%" in text
    assert "option lengths are unbalanced" in text
    assert any("TOO HIGH" in line and "longest option" in line for line in format_report(report))


def test_a_fixed_position_is_caught():
    report = lint_quiz(quiz_from_text(HEAD + "".join(single(f"s{i}", 2) for i in range(4)) + SHORT + FREE))
    position = next(s for s in report.strategies if s.name == "position")
    assert position.worst == 1.0 and "#3" in position.label and not position.ok


def test_always_true_is_caught_and_the_share_of_true_reported():
    text = HEAD + "".join(single(f"s{i}", i) for i in range(4)) + "".join(true_false(f"t{i}", True) for i in range(4))
    msgs = messages(text + SHORT + FREE)
    assert any("'always true' scores 62.5% in en against chance 37.5%" in m for m in msgs)
    assert any("4 of 4 true/false answers are true (100%)" in m for m in msgs)


def test_choosing_every_option_is_caught_when_most_options_are_right():
    multiple = """
  - id: m
    type: multiple
    points: 4
    tags: [t]
    prompt: {en: Pick some, zh: 选几个}
    explanation: {en: Because, zh: 因为}
    options:
      - {id: a, text: one, correct: true}
      - {id: b, text: two, correct: true}
      - {id: c, text: six, correct: true}
      - {id: d, text: ten}
"""
    msgs = messages(HEAD + multiple + SHORT + FREE)
    assert any("'all options (multiple choice)'" in m for m in msgs)


def test_words_shared_with_the_prompt_are_caught():
    text = HEAD + "".join(single(f"s{i}", i, texts=tuple("gradient clipping norm" if j == i else f"option {j} here"
                                                          for j in range(4)),
                                 prompt="Which rescales the gradient norm by clipping") for i in range(4))
    report = lint_quiz(quiz_from_text(text + SHORT + FREE))
    overlap = next(s for s in report.strategies if s.name == "overlap")
    assert overlap.worst == 1.0 and not overlap.ok
    assert tokens("The gradient norm, 梯度裁剪") == {"gradient", "norm", "梯度", "度裁", "裁剪"}


def test_leaks_between_questions_are_caught():
    leaky = single("formula", 1, texts=("o * c", "o * tanh(c)", "tanh(o) * c", "o + tanh(c)")).replace(
        "points: 1", "points: 1\n    key_phrases: [three quarters]")
    order = """
  - id: order
    type: ordering
    points: 1
    tags: [t]
    prompt: {en: "Order them; about three quarters of them", zh: 排序}
    explanation: {en: "Then read out h = o * tanh(c)", zh: 因为}
    items:
      - {id: x, text: {en: "compute the forget gate value", zh: 一}}
      - {id: y, text: {en: "h = o * tanh(c)", zh: 二}}
"""
    msgs = messages(HEAD + leaky + order + SHORT + FREE)
    assert "the item 'y' of question 'order' contains 'o * tanh(c)', which answers question 'formula'; " \
           "reword one of them" in msgs
    assert any("the explanation of question 'order' contains 'o * tanh(c)'" in m for m in msgs)
    assert any("the prompt of question 'order' contains 'three quarters'" in m for m in msgs)
    assert any("the item 'x' of question 'order' contains 'forget gate', which answers question 'name_it'" in m
               for m in msgs)


def test_short_answers_need_six_examples_per_language_and_quizzes_a_free_question():
    bare = SHORT.split("    examples:")[0]
    msgs = messages(HEAD + "".join(single(f"s{i}", i) for i in range(4)) + bare)
    for kind in ("accept", "reject"):
        for lang in ("en", "zh"):
            assert f"question 'name_it' has 0 {kind} example(s) in {lang}; give at least 6" in " ".join(msgs)
    assert any("has no free question" in m for m in msgs)


def test_every_shipped_quiz_is_scored_against_chance():
    from grader.quiz.loader import load_quiz

    for path in sorted(BANK_DIR.glob("*.yaml")):
        strategies, chance = strategy_scores(load_quiz(path), ["en", "zh"])
        assert 0.2 < chance < 0.4 and all(s.worst <= chance + LIMIT for s in strategies), path.name


# -- the commands -------------------------------------------------------------------

@pytest.fixture()
def course(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQGRADE_SECRET", raising=False)
    cfg = tmp_path / "course.yaml"
    cfg.write_text(f"name: t\nroot: {REPO}\nsecret: s\nlanguages: [en, zh]\n", encoding="utf-8")
    return cfg


def test_lint_command_prints_every_strategy_against_chance_for_the_shipped_bank(course):
    r = CliRunner().invoke(cli, ["quiz", "lint", "--course", str(course)])
    assert r.exit_code == 0, r.output
    assert "4 quiz file(s) pass the lint" in r.output
    for quiz in ("q1_rnn_basics", "q2_gated", "q3_attention", "q4_seq2seq_vs_transformer"):
        assert f"{quiz}: " in r.output and "chance" in r.output
    for label in ("longest option", "shortest option", "most words shared with the prompt", "a fixed position",
                  "always true", "always false", "all options (multiple choice)"):
        assert r.output.count(label) == 4
    assert "TOO HIGH" not in r.output


def test_lint_fails_a_rigged_quiz_and_validate_only_warns(course, tmp_path):
    rigged = tmp_path / "rigged.yaml"
    rigged.write_text(HEAD + "".join(single(f"s{i}", 0) for i in range(4)) + SHORT + FREE, encoding="utf-8")
    r = CliRunner().invoke(cli, ["quiz", "lint", "--course", str(course), str(rigged)])
    assert isinstance(r.exception, QuizError) and r.exception.exit_code == 6
    assert "TOO HIGH" in r.output and f"{rigged}:1:1: test-wise strategy 'a fixed position" in r.output
    v = CliRunner().invoke(cli, ["quiz", "validate", "--course", str(course), str(rigged)])
    assert v.exit_code == 0 and f"{rigged}:1:1: warning: test-wise strategy" in v.output
