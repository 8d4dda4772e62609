"""A quiz's question file (what a student bundle carries): questions only, and each student's own numbers.

The file shows everything a student needs to answer and nothing that grades;
`quiz take --student ID` and `quiz render --student ID` draw from it exactly the
numbers the instructor's key grades, with no secret; the instructor's commands
refuse it, so it can never grade.
"""

from __future__ import annotations

import pytest
import yaml

from grader.errors import QuizError
from grader.quiz.answers import Answers
from grader.quiz.grading import answer_key, grade_quiz
from grader.quiz.loader import load_quiz
from grader.quiz.model import FreeAnswer, Numeric, Ordering
from grader.quiz.public import is_question_file, load_question_file, question_file_text
from grader.quiz.render import render_markdown
from grader.quiz.take import take_quiz
from grader.quiz.variants import numbers_key, student_version

from .conftest import SECRET
from .test_render import secrets_of

QUIZZES = ["q1_rnn_basics", "q2_gated", "q3_attention", "q4_seq2seq_vs_transformer"]
STUDENTS = ["alice", "bob", "s042", "li.wei@example.edu"]
ANSWER_KEYS = {"answer", "correct", "accept", "patterns", "explanation", "examples", "rubric", "model_answer",
               "formula", "tolerance", "key_phrases", "hints"}


def _keys(node):
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


@pytest.fixture(scope="module")
def question_files(bank, tmp_path_factory):
    d = tmp_path_factory.mktemp("questions")
    for qid in QUIZZES:
        (d / f"{qid}.yaml").write_text(question_file_text(bank[qid], SECRET), encoding="utf-8")
    return d


@pytest.mark.parametrize("quiz_id", QUIZZES)
def test_question_file_holds_no_key_text_or_secret(bank, question_files, quiz_id):
    text = (question_files / f"{quiz_id}.yaml").read_text(encoding="utf-8")
    assert not _keys(yaml.safe_load(text)) & ANSWER_KEYS
    for secret in secrets_of(bank[quiz_id]):
        assert secret not in text, secret
    assert SECRET not in text


@pytest.mark.parametrize("quiz_id", QUIZZES)
def test_ordering_items_are_never_listed_in_the_right_order(bank, question_files, quiz_id):
    data = yaml.safe_load((question_files / f"{quiz_id}.yaml").read_text(encoding="utf-8"))
    for q in bank[quiz_id].questions:
        if isinstance(q, Ordering):
            shipped = next(e for e in data["questions"] if e["id"] == q.id)
            assert [i["id"] for i in shipped["items"]] != [i.id for i in q.items]
            assert sorted(i["id"] for i in shipped["items"]) == sorted(i.id for i in q.items)


@pytest.mark.parametrize("quiz_id", QUIZZES)
def test_each_students_numbers_are_the_ones_the_key_grades(bank, question_files, quiz_id):
    public = load_question_file(question_files / f"{quiz_id}.yaml")
    quiz = bank[quiz_id]
    assert [q.id for q in public.quiz.questions] == [q.id for q in quiz.questions]
    assert any(isinstance(q, Numeric) and q.params for q in quiz.questions)
    for student in STUDENTS:
        theirs = [v.values for _, v in public.version(student)]
        assert theirs == [v.values for _, v in student_version(quiz, student, SECRET)]
    assert public.version("alice") != public.version("bob")


def test_numbers_key_depends_on_the_secret_and_the_quiz():
    assert numbers_key("s1", "q2_gated") != numbers_key("s2", "q2_gated")
    assert numbers_key("s1", "q2_gated") != numbers_key("s1", "q3_attention")
    assert "s1" not in numbers_key("s1", "q2_gated")


def test_rendered_from_the_question_file_shows_the_students_own_numbers(bank, question_files):
    public = load_question_file(question_files / "q2_gated.yaml")
    md = render_markdown(public.quiz, "alice", "", "en", public.version("alice"))
    values = next(v.values for q, v in student_version(bank["q2_gated"], "alice", SECRET) if q.id == "lstm_params")
    assert f"input_size={values['I']}, hidden_size={values['H']}" in md
    for secret in secrets_of(bank["q2_gated"]):
        assert secret not in md


def test_answers_taken_from_the_question_file_earn_full_marks_from_the_key(bank, question_files):
    """A student takes q3 from the bundle's file with the right answers typed in; the instructor's key
    gives every automatically graded question full marks (the free one waits for a person)."""
    quiz = bank["q3_attention"]
    public = load_question_file(question_files / "q3_attention.yaml")
    key = answer_key(quiz, "bob", SECRET)
    typed = []
    for q, _ in public.version("bob"):
        value = key[q.id]
        typed.append(", ".join(value) if isinstance(value, list) else
                     " ".join(str(value).split()) if isinstance(q, FreeAnswer) else str(value).lower())
    lines = iter(typed)
    answers = take_quiz(public.quiz, "bob", "", "en", ask=lambda _: next(lines), say=lambda _: None,
                        version=public.version("bob"))
    result = grade_quiz(quiz, Answers("bob", "bob.yaml", answers), SECRET)
    auto = [c for c in result.checks if not isinstance(quiz.question(c.name), FreeAnswer)]
    assert auto and all(c.status == "passed" and c.score == c.max_score for c in auto), \
        [(c.name, c.message) for c in auto if c.status != "passed"]


def test_the_instructors_commands_refuse_a_question_file(question_files):
    assert is_question_file(question_files / "q1_rnn_basics.yaml")
    with pytest.raises(QuizError):
        load_quiz(question_files / "q1_rnn_basics.yaml")


@pytest.mark.parametrize("damage", ["format: other/1\n", "format: seqgrade-questions/1\nid: q\n",
                                    "format: seqgrade-questions/1\nid: q\ntitle: t\nquestions:\n- id: x\n"
                                    "  type: numeric\n  points: 1\n  prompt: p\n  params: {I: {min: 1, max: 3}}\n"],
                         ids=["format", "no-questions", "no-numbers-key"])
def test_a_damaged_question_file_is_a_clear_error(tmp_path, damage):
    p = tmp_path / "q.yaml"
    p.write_text(damage, encoding="utf-8")
    with pytest.raises(QuizError, match="q.yaml"):
        load_question_file(p)
