"""Grading free answers by hand: `seqgrade quiz review` in the terminal, driven through click's CliRunner.

One answer at a time, rubric items ticked, comments saved, resumable, hints that only suggest, scores in the
same gradebook (and its exports), student text escaped, and decisions imported from a file.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from grader.cli import cli
from grader.errors import QuizError
from grader.gradebook import Gradebook
from grader.quiz.loader import load_quiz
from grader.quiz.review import parse_ticks
from grader.quiz.reviewstore import ReviewStore

from .conftest import BANK_DIR, REPO

QUIZ = "q1_rnn_basics"
FREE = "seq2seq_vs_rnn"
EXAMPLES = REPO / "course" / "examples" / "quiz_answers" / QUIZ


@pytest.fixture()
def course(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("SEQGRADE_SECRET", raising=False)
    cfg = tmp_path / "course.yaml"
    cfg.write_text(f"name: test\nroot: {REPO}\nsecret: review-secret\ngradebook: gb.db\nlanguages: [en, zh]\n",
                   encoding="utf-8")
    return cfg


@pytest.fixture()
def answers(tmp_path) -> Path:
    """The example class's answers, in a folder the test may change."""
    d = tmp_path / "answers"
    shutil.copytree(EXAMPLES, d)
    return d


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=True)


def grade(course: Path, answers: Path):
    r = run("quiz", "grade", QUIZ, str(answers), "--course", str(course))
    assert r.exit_code == 0, r.output
    return r


def review(course: Path, *extra: str, input: str = ""):
    return run("quiz", "review", QUIZ, "--course", str(course), "--reviewer", "tester", *extra, input=input)


def free_check(course: Path, student: str):
    with Gradebook(course.parent / "gb.db") as gb:
        result = gb.result(QUIZ, student)
    return result, next(c for c in result.checks if c.name == FREE)


def test_one_answer_at_a_time_ticked_commented_and_resumable(course, answers):
    grade(course, answers)
    before, check = free_check(course, "alice")
    assert check.score == 0 and check.message.startswith("Awaiting review")

    # alice: all four items and a comment; bob: skipped; then the grader quits
    r = review(course, input="1 2 3 4\nExcellent: every point.\ns\nq\n")
    assert r.exit_code == 0, r.output
    assert "[1/3] alice · seq2seq_vs_rnn · 4 points" in r.output and "[2/3] bob" in r.output
    assert "Model answer:" in r.output and "Rubric:" in r.output
    assert "saved: alice · seq2seq_vs_rnn: 4 of 4 points" in r.output
    assert "skipped" in r.output and "[3/3] carol" in r.output
    assert "reviewed 1, skipped 1; 2 answer(s) of q1_rnn_basics await review (run the same command to resume)" \
        in r.output
    result, check = free_check(course, "alice")
    assert check.score == 4 and check.status == "passed" and result.score == before.score + 4
    assert "Excellent: every point." in check.message and check.message.count("[x]") == 4

    # resumed: alice is not shown again; bob gets two items, then the input ends (Ctrl-D) before carol
    r = review(course, input="1 2\nSay why gates are used, and where Seq2Seq began.\n")
    assert r.exit_code == 0, r.output
    assert "alice · seq2seq_vs_rnn" not in r.output and "[1/2] bob" in r.output
    assert "saved: bob · seq2seq_vs_rnn: 2 of 4 points" in r.output and "reviewed 1, skipped 0; 1 answer(s)" in r.output
    _, check = free_check(course, "bob")
    assert check.score == 2 and check.status == "failed" and "[ ]" in check.message

    r = review(course, input="4\n\n")
    assert "saved: carol · seq2seq_vs_rnn: 1 of 4 points" in r.output and "0 answer(s) of q1_rnn_basics" in r.output
    assert "nothing to review in q1_rnn_basics" in review(course).output

    # grading again keeps every review of an unchanged answer
    grade(course, answers)
    assert free_check(course, "alice")[1].score == 4 and free_check(course, "bob")[1].score == 2


def test_keyword_hints_suggest_but_never_grade(course, answers):
    grade(course, answers)
    _, check = free_check(course, "bob")
    assert check.score == 0  # bob's answer names the encoder and the context vector: no points without a person
    r = review(course, "--student", "bob", input="\n\n")
    assert "<- hint: 编码器" in r.output and "<- hint: 上下文向量" in r.output
    assert "Enter keeps [1 2]" in r.output
    _, check = free_check(course, "bob")
    assert check.score == 2  # the grader accepted the suggested items by pressing Enter


def test_a_changed_answer_waits_for_review_again_with_the_old_ticks_shown(course, answers):
    grade(course, answers)
    review(course, "--student", "alice", input="1 2 3 4\nGood.\n")
    data = yaml.safe_load((answers / "alice.yaml").read_text(encoding="utf-8"))
    data[FREE] = "Seq2Seq is an RNN."
    (answers / "alice.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    grade(course, answers)
    _, check = free_check(course, "alice")
    assert check.score == 0 and check.message.startswith("Awaiting review")
    r = review(course, "--student", "alice", input="0\n-\n")
    assert "The answer changed after the review of" in r.output and "[x] 1." in r.output
    assert "saved: alice · seq2seq_vs_rnn: 0 of 4 points" in r.output
    _, check = free_check(course, "alice")
    assert check.score == 0 and "Good." not in check.message  # "-" cleared the old comment


def test_again_revisits_a_decision(course, answers):
    grade(course, answers)
    review(course, "--student", "carol", input="1 2 3 4\n\n")
    assert "nothing to review" in review(course, "--student", "carol").output
    r = review(course, "--student", "carol", "--again", input="1 3\nOn second reading: no history.\n")
    assert "(Reviewed " in r.output and "by tester; its ticks are shown.)" in r.output
    _, check = free_check(course, "carol")
    assert check.score == 2 and "On second reading" in check.message


def test_student_text_is_escaped_in_the_terminal(course, answers):
    data = yaml.safe_load((answers / "alice.yaml").read_text(encoding="utf-8"))
    data[FREE] = "evil \x1b[2J\x1b[31mRED\u202e txt.exe\r overwritten"
    (answers / "alice.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    grade(course, answers)
    r = review(course, "--student", "alice", input="s\n")
    assert "\x1b" not in r.output and "\u202e" not in r.output and "\r" not in r.output
    assert "\\x1b[2J" in r.output and "<U+202E>" in r.output and "\\r overwritten" in r.output


def test_bad_input_is_asked_again(course, answers):
    grade(course, answers)
    r = review(course, "--student", "alice", input="7\nforty\n2 architecture\n\n")
    assert r.output.count("not understood") == 2 and "give item numbers from 1 to 4" in r.output
    assert free_check(course, "alice")[1].score == 2  # items 2 (context) and 1 (by its id)


def test_reviewed_scores_are_exported_like_every_other_score(course, answers, tmp_path):
    grade(course, answers)
    review(course, "--student", "bob", input="1 2 4\n\n")
    r = run("export", "--course", str(course), "--format", "csv", "--out", str(tmp_path / "exports"))
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((tmp_path / "exports" / "grades.csv").open(encoding="utf-8")))
    bob = next(row for row in rows if row["student"] == "bob" and row["item"] == QUIZ)
    with Gradebook(course.parent / "gb.db") as gb:
        assert float(bob["score"]) == pytest.approx(gb.result(QUIZ, "bob").score, abs=1e-3)
        assert gb.result(QUIZ, "bob").checks[-1].score == 3


def test_nothing_to_review_before_grading(course, tmp_path):
    r = review(course)
    assert isinstance(r.exception, QuizError) and "grade the quiz first" in str(r.exception)
    with Gradebook(course.parent / "gb.db"):
        pass
    assert "grade the answers first" in review(course).output


def test_decisions_from_a_file_with_problems_named_by_line(course, answers, tmp_path):
    grade(course, answers)
    f = tmp_path / "reviews.yaml"
    f.write_text("reviewer: TA Wang\n"
                 "reviews:\n"
                 "  alice:\n"
                 "    seq2seq_vs_rnn: {met: [architecture, context], comment: ok}\n"
                 "  nobody:\n"
                 "    seq2seq_vs_rnn: {met: [context]}\n"
                 "  bob:\n"
                 "    exploding_fix: {met: []}\n"
                 "  carol:\n"
                 "    seq2seq_vs_rnn: {met: [elegance]}\n", encoding="utf-8")
    r = review(course, "--from", str(f))
    assert isinstance(r.exception, QuizError) and "3 decision(s)" in str(r.exception)
    assert "recorded 1 review(s)" in r.output
    assert f"{f}:6: no answer of nobody to seq2seq_vs_rnn is filed" in r.output
    assert f"{f}:8: q1_rnn_basics has no free question exploding_fix" in r.output
    assert f"{f}:10: seq2seq_vs_rnn has no rubric item elegance" in r.output
    _, check = free_check(course, "alice")
    assert check.score == 2
    with ReviewStore(course.parent / "gb.db") as store:
        assert store.get(QUIZ, "alice", FREE).reviewer == "TA Wang"
    f.write_text("reviews: [alice\n", encoding="utf-8")
    r = review(course, "--from", str(f))
    assert isinstance(r.exception, QuizError) and f"{f}:2:" in str(r.exception)


def test_parse_ticks():
    q = load_quiz(BANK_DIR / f"{QUIZ}.yaml").question(FREE)
    assert parse_ticks(q, "3 1", []) == ["architecture", "gating"]
    assert parse_ticks(q, "", ["context"]) == ["context"]
    assert parse_ticks(q, "0", ["context"]) == [] and parse_ticks(q, "-", ["context"]) == []
    assert parse_ticks(q, "[1, 4]", []) == ["architecture", "history"]
    assert parse_ticks(q, "history，2", []) == ["context", "history"]
    assert parse_ticks(q, "5", []) is None and parse_ticks(q, "1 x", []) is None


def test_a_late_penalty_is_kept_when_a_review_adds_points(tmp_path, answers, monkeypatch):
    import os

    monkeypatch.delenv("SEQGRADE_SECRET", raising=False)
    cfg = tmp_path / "late.yaml"
    cfg.write_text(f"root: {REPO}\nsecret: s\ngradebook: late.db\nsubmission_time: mtime\n"
                   f"due:\n  {QUIZ}: 2020-01-01T00:00:00+00:00\n"
                   "late_policy: {kind: per_day, penalty: 0.1, cap: 0.5}\n", encoding="utf-8")
    os.utime(answers / "alice.yaml", (1577923200, 1577923200))  # one day late
    assert run("quiz", "grade", QUIZ, str(answers), "--course", str(cfg)).exit_code == 0
    with Gradebook(tmp_path / "late.db") as gb:
        before = gb.result(QUIZ, "alice")
    run("quiz", "review", QUIZ, "--course", str(cfg), "--student", "alice", input="1 2 3 4\n\n")
    with Gradebook(tmp_path / "late.db") as gb:
        after = gb.result(QUIZ, "alice")
    assert before.late_penalty == after.late_penalty == pytest.approx(0.1)
    assert after.raw_score == before.raw_score + 4 and after.score == pytest.approx(after.raw_score * 0.9)
    assert after.submitted_at == before.submitted_at
