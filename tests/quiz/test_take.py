"""Taking a quiz: typed answers become answers-file values; bad input is asked again."""

from __future__ import annotations

import pytest
import yaml

from grader.quiz.grading import AnswerError, answer_key, grade_quiz
from grader.quiz.answers import read_answers
from grader.quiz.take import parse_response, save_answers, take_quiz

from .conftest import SECRET


@pytest.mark.parametrize(
    "qid, line, value",
    [
        ("forget_gate", " C ", "c"),
        ("cell_state", "c, a", ["a", "c"]),
        ("cell_state", "[a c]", ["a", "c"]),
        ("cell_state", "a，c", ["a", "c"]),
        ("forget_bias", "对", True),
        ("forget_bias", "False", False),
        ("lstm_params", "1184", 1184),
        ("lstm_params", "1.5e3", 1500.0),
        ("gate_activation", "  Sigmoid  ", "Sigmoid"),
        ("lstm_step_order", "gates cell hidden", ["gates", "cell", "hidden"]),
    ],
)
def test_typed_lines_become_answer_values(bank, qid, line, value):
    assert parse_response(bank["q2_gated"].question(qid), line) == value


@pytest.mark.parametrize(
    "qid, line",
    [("forget_gate", "e"), ("cell_state", "a z"), ("forget_bias", "perhaps"), ("lstm_params", "many"),
     ("lstm_step_order", "gates cell")],
)
def test_bad_lines_raise(bank, qid, line):
    with pytest.raises(AnswerError):
        parse_response(bank["q2_gated"].question(qid), line)


def test_take_quiz_asks_again_skips_and_saves_after_each_answer(bank, tmp_path):
    quiz = bank["q1_rnn_basics"]
    key = answer_key(quiz, "alice", SECRET)
    lines = []
    for q in quiz.questions:
        if q.id == "teacher_forcing":
            lines.append("")  # skipped
            continue
        if q.id == "encoder_role":
            lines.append("zz")  # not an option: asked again
        k = key[q.id]
        lines.append(" ".join(k) if isinstance(k, list) else str(k).lower())
    said, saves = [], []
    answers = take_quiz(quiz, "alice", SECRET, "en", ask=lambda prompt: lines.pop(0), say=said.append,
                        save=lambda a: saves.append(dict(a)))
    assert not lines
    assert "teacher_forcing" not in answers
    assert any("Not understood: encoder_role has no option 'zz'" in s for s in said)
    assert len(saves) == len(quiz.questions) - 1
    out = tmp_path / "alice.yaml"
    save_answers(out, answers)
    r = grade_quiz(quiz, read_answers(out), SECRET)
    free = quiz.question("seq2seq_vs_rnn")  # typed in, filed for a grader: 0 until reviewed
    assert answers[free.id] == str(key[free.id]).lower()
    assert r.error == "" and r.score == quiz.max_score - quiz.question("teacher_forcing").points - free.points


def test_take_quiz_shows_the_students_numbers(bank):
    quiz = bank["q2_gated"]
    said = []
    take_quiz(quiz, "alice", SECRET, "zh", ask=lambda prompt: "", say=said.append)
    text = "\n".join(said)
    assert "第 1 题，共 20 题" in text and "{{" not in text


def test_take_quiz_gives_up_on_a_question_after_repeated_nonsense(bank):
    quiz = bank["q2_gated"]
    answers = take_quiz(quiz, "bob", SECRET, "en", ask=lambda prompt: "???", say=lambda s: None)
    assert set(answers) == {"gate_activation", "lstm_vs_gru"}  # only the text questions accept "???"


def test_save_answers_writes_yaml_that_reads_back(tmp_path):
    out = tmp_path / "sub" / "alice.yaml"
    save_answers(out, {"q1": "b", "q2": ["a", "c"], "q3": 1.5e-05, "q4": "遗忘门", "q5": True})
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == {"q1": "b", "q2": ["a", "c"], "q3": 1.5e-05,
                                                              "q4": "遗忘门", "q5": True}
    assert not list(out.parent.glob("*.tmp"))
