"""Grading whole answers files: per-student errors never stop the class, and the key decides everything."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from grader.gradebook import Gradebook
from grader.quiz.answers import collect_answers, read_answers
from grader.quiz.grading import answer_key, grade_class, grade_quiz
from grader.quiz.model import FreeAnswer
from grader.quiz.render import render_notebook
from grader.quiz.rubric import Review, answer_digest

from .conftest import SECRET


@pytest.fixture()
def quiz(bank):
    return bank["q2_gated"]


def free_points(quiz) -> float:
    """What a person grades: until then, a perfect answers file earns the rest."""
    return sum(q.points for q in quiz.questions if isinstance(q, FreeAnswer))


def write(tmp_path, name: str, text: str):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_a_perfect_answers_file_scores_full_marks(tmp_path, quiz):
    import yaml

    p = write(tmp_path, "alice.yaml", yaml.safe_dump(answer_key(quiz, "alice", SECRET), allow_unicode=True))
    r = grade_quiz(quiz, read_answers(p), SECRET)
    assert (r.student, r.item, r.kind) == ("alice", "q2_gated", "quiz")
    assert r.max_score == quiz.max_score and r.score == quiz.max_score - free_points(quiz) and r.error == ""
    assert [c.name for c in r.checks] == [q.id for q in quiz.questions]
    free = {q.id for q in quiz.questions if isinstance(q, FreeAnswer)}
    assert all(c.status == "passed" and c.visibility == "public" for c in r.checks if c.name not in free)
    assert all(c.status == "failed" and c.message.startswith("Awaiting review") for c in r.checks if c.name in free)
    # once a grader's review of this very answer exists, it earns what the grader ticked
    key = answer_key(quiz, "alice", SECRET)
    reviews = {q.id: Review(quiz.id, "alice", q.id, key[q.id], answer_digest(key[q.id]), met=(q.rubric[0].id,),
                            comment="Good start.", reviewed_at="2026-01-01T00:00:00+00:00")
               for q in quiz.questions if q.id in free}
    r = grade_quiz(quiz, read_answers(p), SECRET, reviews=reviews)
    reviewed = [c for c in r.checks if c.name in free]
    assert [c.score for c in reviewed] == [quiz.question(c.name).rubric[0].points for c in reviewed]
    assert all("Good start." in c.message and "[x]" in c.message and "[ ]" in c.message for c in reviewed)
    # a review of another answer does not count
    stale = {qid: Review(rv.quiz, rv.student, qid, "old text", answer_digest("old text"), met=rv.met,
                         reviewed_at=rv.reviewed_at) for qid, rv in reviews.items()}
    assert grade_quiz(quiz, read_answers(p), SECRET, reviews=stale).score == quiz.max_score - free_points(quiz)
    assert r.content_hash == hashlib.sha256(p.read_bytes()).hexdigest()
    assert r.checks_version == hashlib.sha256(Path(quiz.file).read_bytes()).hexdigest()


def test_another_students_key_is_not_full_marks(tmp_path, quiz):
    import yaml

    p = write(tmp_path, "bob.yaml", yaml.safe_dump(answer_key(quiz, "alice", SECRET)))
    r = grade_quiz(quiz, read_answers(p), SECRET)
    assert r.score < r.max_score  # the parameterized answers differ


def test_unknown_ids_and_wrong_types_are_reported_with_lines_and_the_rest_is_graded(tmp_path, quiz):
    p = write(tmp_path, "carol.yaml", "forget_gate: c\n"
                                      "q9: b\n"
                                      "lstm_params: lots\n"
                                      "cell_state: {a: true}\n"
                                      "input_gate: d\n")
    r = grade_quiz(quiz, read_answers(p), SECRET)
    assert r.error.splitlines() == [
        "carol.yaml:2: unknown question id 'q9' (this quiz has " + ", ".join(q.id for q in quiz.questions) + ")",
        "carol.yaml:3: question 'lstm_params' expects a number, got the string 'lots'",
        "carol.yaml:4: question 'cell_state' expects a list of option ids (a, b, c, d), got a mapping",
    ]
    by = {c.name: c for c in r.checks}
    assert by["forget_gate"].status == "passed" and by["input_gate"].status == "passed"
    assert by["lstm_params"].status == "error" and by["lstm_params"].score == 0
    assert "expects a number" in by["lstm_params"].message
    assert by["output_gate"].status == "failed" and by["output_gate"].message.startswith("Not answered.")
    assert r.score == 2.0


def test_answers_file_cannot_change_points_or_options(tmp_path, quiz):
    p = write(tmp_path, "mallory.yaml", "forget_gate: {answer: c, points: 1000}\n"
                                        "points: 1000\n"
                                        "input_gate: [a, b, c, d]\n")
    r = grade_quiz(quiz, read_answers(p), SECRET)
    assert r.max_score == quiz.max_score
    assert [c.max_score for c in r.checks] == [q.points for q in quiz.questions]
    assert r.score == 0.0
    assert "unknown question id 'points'" in r.error


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("forget_gate: [c\ninput_gate: a\n", "dave.yaml:2:11: not valid YAML"),
        ("- c\n- a\n", "dave.yaml:1: expected a mapping of question id -> answer"),
        ("just words\n", "expected a mapping"),
        ("", "the file is empty"),
        ("a: 1\na: 2\n", "dave.yaml:2:1: duplicate key 'a'"),
    ],
    ids=["unclosed-bracket", "a-list", "a-string", "empty", "duplicate-key"],
)
def test_unparsable_file_is_a_per_student_error(tmp_path, quiz, text, fragment):
    p = write(tmp_path, "dave.yaml", text)
    r = grade_quiz(quiz, read_answers(p), SECRET)
    assert fragment in r.error
    assert r.checks == [] and r.score == 0 and r.max_score == quiz.max_score


def test_non_utf8_and_huge_files_are_per_student_errors(tmp_path, quiz):
    (tmp_path / "erin.yaml").write_bytes(b"forget_gate: \xff\xfe\n")
    (tmp_path / "frank.yaml").write_text("x: " + "a" * 1_100_000, encoding="utf-8")
    errors = {a.student: a.problems for a in collect_answers(tmp_path)}
    assert "not UTF-8" in errors["erin"][0] and "larger than" in errors["frank"][0]


def test_a_class_is_graded_even_when_some_files_are_broken(tmp_path, quiz):
    write(tmp_path, "alice.yaml", "forget_gate: c\n")
    write(tmp_path, "dave.yaml", "forget_gate: [c\n")
    write(tmp_path, "notes.txt", "not an answers file")
    write(tmp_path, ".hidden.yaml", "x: 1")
    results = grade_class(quiz, collect_answers(tmp_path), SECRET)
    assert [(r.student, r.score, bool(r.error)) for r in results] == [("alice", 1.0, False), ("dave", 0.0, True)]


def test_two_files_for_one_student_is_an_error_for_that_student(tmp_path, quiz):
    write(tmp_path, "alice.yaml", "forget_gate: c\n")
    write(tmp_path, "alice.yml", "forget_gate: a\n")
    (a,) = collect_answers(tmp_path)
    r = grade_quiz(quiz, a, SECRET)
    assert "more than one answers file" in r.error and r.checks == []


def test_empty_or_missing_folder_is_a_quiz_error(tmp_path):
    from grader.errors import QuizError

    with pytest.raises(QuizError, match="no answers files"):
        collect_answers(tmp_path)
    with pytest.raises(QuizError, match="not a folder"):
        collect_answers(tmp_path / "missing")


def test_results_go_into_the_gradebook(tmp_path, quiz):
    write(tmp_path, "alice.yaml", "forget_gate: c\ninput_gate: d\n")
    (r,) = grade_class(quiz, collect_answers(tmp_path), SECRET)
    with Gradebook(tmp_path / "gb.db") as gb:
        gb.record(r)
        stored = gb.result("q2_gated", "alice")
    assert stored.kind == "quiz" and stored.score == 2.0
    assert [c.name for c in stored.checks] == [c.name for c in r.checks]
    assert stored.checks[0].message == r.checks[0].message


def test_feedback_has_the_explanation_in_the_chosen_language(tmp_path, quiz):
    write(tmp_path, "alice.yaml", "forget_gate: a\n")
    (a,) = collect_answers(tmp_path)
    en = grade_quiz(quiz, a, SECRET, "en").checks[0]
    zh = grade_quiz(quiz, a, SECRET, "zh").checks[0]
    assert en.message.startswith("Not correct. Your answer: a. Correct answer: c (")
    assert quiz.questions[0].explanation.get("en") in en.message
    assert zh.message.startswith("不正确。") and quiz.questions[0].explanation.get("zh") in zh.message
    assert en.description == "The forget gate" and zh.description == "遗忘门"


def fill_notebook(nb: dict, answers: dict) -> dict:
    """What a student does: edit each answer cell."""
    for cell in nb["cells"]:
        qid = cell["metadata"].get("seqgrade", {}).get("question")
        if qid in answers:
            cell["source"] = f'ANSWERS["{qid}"] = {answers[qid]!r}  # my answer\n'
    return nb


def test_a_filled_in_notebook_is_graded_like_a_yaml_file(tmp_path, quiz):
    key = answer_key(quiz, "alice", SECRET)
    nb = fill_notebook(render_notebook(quiz, "alice", SECRET), key)
    (tmp_path / "alice.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (r,) = grade_class(quiz, collect_answers(tmp_path), SECRET)
    assert r.score == quiz.max_score - free_points(quiz) and r.error == ""
    assert all(c.message.startswith("Awaiting review") for c in r.checks if c.name == "lstm_vs_gru")


def test_notebook_answer_cells_are_parsed_not_run(tmp_path, quiz):
    nb = render_notebook(quiz, "alice", SECRET)
    nb = fill_notebook(nb, {"forget_gate": "c"})
    for cell in nb["cells"]:
        if cell["metadata"].get("seqgrade", {}).get("question") == "input_gate":
            cell["source"] = 'ANSWERS["input_gate"] = __import__("os").getcwd()'
        if cell["metadata"].get("seqgrade", {}).get("question") == "output_gate":
            cell["source"] = 'ANSWERS["output_gate"] = ("b"'
    (tmp_path / "alice.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (r,) = grade_class(quiz, collect_answers(tmp_path), SECRET)
    lines = r.error.splitlines()
    assert any("cell" in x and "plain value" in x for x in lines)
    assert any("cell" in x and "not valid Python" in x for x in lines)
    assert {c.name: c.status for c in r.checks}["forget_gate"] == "passed"


def test_the_notebooks_save_cell_writes_an_answers_file_that_grades(tmp_path, quiz):
    key = answer_key(quiz, "alice", SECRET)
    nb = fill_notebook(render_notebook(quiz, "alice", SECRET), key)
    code = "\n".join(c["source"] for c in nb["cells"] if c["cell_type"] == "code")
    import os
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": ""})
    (r,) = grade_class(quiz, collect_answers(tmp_path), SECRET)
    assert r.student == "alice" and r.score == quiz.max_score - free_points(quiz), r.error


def test_alias_bombs_and_deep_nesting_are_per_student_errors(tmp_path, quiz):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    write(tmp_path, "deep.yaml", "q: " + "[" * 2000 + "]" * 2000 + "\n")
    results = {r.student: r for r in grade_class(quiz, collect_answers(tmp_path), SECRET)}
    assert "too many aliases" in results["bomb"].error
    assert "nested too deeply" in results["deep"].error


def test_free_answers_of_the_wrong_kind_are_named_by_line(tmp_path, quiz):
    p = write(tmp_path, "carol.yaml", "forget_gate: c\nlstm_vs_gru: [a, b]\n")
    r = grade_quiz(quiz, read_answers(p), SECRET)
    assert "carol.yaml:2: question 'lstm_vs_gru' expects a text (your answer in a few sentences), got a list" in r.error
    assert {c.name: c.status for c in r.checks}["lstm_vs_gru"] == "error"


def test_a_free_answer_written_in_a_markdown_cell_is_read_as_text(tmp_path, quiz):
    """The free-answer cell of an nbgrader quiz notebook is Markdown: its text is the answer, never run."""
    from grader.quiz.answers import FREE_PLACEHOLDER

    nb = render_notebook(quiz, "alice", SECRET)
    for cell in nb["cells"]:
        if cell["metadata"].get("seqgrade", {}).get("question") == "lstm_vs_gru":
            cell["cell_type"], cell["source"] = "markdown", FREE_PLACEHOLDER + "\n\nThe GRU *interpolates*; `x = 1`"
            del cell["outputs"], cell["execution_count"]
    (tmp_path / "alice.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (a,) = collect_answers(tmp_path)
    assert a.values["lstm_vs_gru"] == "The GRU *interpolates*; `x = 1`" and not a.problems
