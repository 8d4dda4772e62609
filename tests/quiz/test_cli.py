"""`seqgrade quiz ...`: every command end to end on the shipped bank and the example answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.errors import QuizError, UsageError
from grader.gradebook import Gradebook
from grader.results_schema import validate

from .conftest import BANK_DIR, MALFORMED_DIR, REPO

EXAMPLES = REPO / "course" / "examples" / "quiz_answers"
REVIEWS = REPO / "course" / "examples" / "quiz_reviews"


@pytest.fixture()
def course(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("SEQGRADE_SECRET", raising=False)
    cfg = tmp_path / "course.yaml"
    cfg.write_text(f"name: test\nroot: {REPO}\nsecret: cli-secret\ngradebook: gb.db\nlanguages: [en, zh]\n",
                   encoding="utf-8")
    return cfg


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=True)


def test_quiz_help_lists_every_command():
    r = run("quiz", "--help")
    assert r.exit_code == 0
    for name in ("validate", "lint", "take", "render", "grade", "review", "key", "report", "schema"):
        assert name in r.output
    for name in ("validate", "lint", "take", "render", "grade", "review", "key", "report", "schema"):
        sub = run("quiz", name, "--help")
        assert sub.exit_code == 0 and "Example" in sub.output


def test_validate_the_shipped_bank(course):
    r = run("quiz", "validate", "--course", str(course), *map(str, sorted(BANK_DIR.glob("*.yaml"))))
    assert r.exit_code == 0, r.output
    assert "4 quiz file(s) valid" in r.output


def test_validate_without_files_checks_the_course_folder(course):
    r = run("quiz", "validate", "--course", str(course))
    assert r.exit_code == 0 and "q3_attention.yaml: ok" in r.output


def test_validate_reports_file_line_column_and_fails(course):
    bad = MALFORMED_DIR / "two_correct_single.yaml"
    good = BANK_DIR / "q1_rnn_basics.yaml"
    r = run("quiz", "validate", "--course", str(course), str(good), str(bad))
    assert isinstance(r.exception, QuizError) and r.exception.exit_code == 6
    assert f"{bad}:14:32: two correct options in a single-choice question" in r.output
    assert "1 problem(s) in 1 of 2 quiz file(s)" in str(r.exception)


def test_validate_rejects_two_files_with_one_quiz_id(course, tmp_path):
    copy = tmp_path / "copy.yaml"
    copy.write_text((BANK_DIR / "q2_gated.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    r = run("quiz", "validate", "--course", str(course), str(BANK_DIR / "q2_gated.yaml"), str(copy))
    assert isinstance(r.exception, QuizError)
    assert "quiz id 'q2_gated' is already used" in r.output


def test_console_script_exit_codes(course):
    exe = Path(sys.executable).with_name("seqgrade")
    env = {k: v for k, v in os.environ.items() if k != "SEQGRADE_SECRET"}
    ok = subprocess.run([str(exe), "quiz", "validate", "--course", str(course)], capture_output=True, text=True,
                        env=env)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([str(exe), "quiz", "validate", str(MALFORMED_DIR / "unknown_type.yaml")],
                         capture_output=True, text=True, env=env, cwd=REPO)
    assert bad.returncode == 6
    assert "unknown_type.yaml:6:11: unknown question type 'essay'" in bad.stdout
    assert "Error: 1 problem(s)" in bad.stderr


def test_grade_records_the_example_class_into_the_gradebook(course, tmp_path):
    gb_path = tmp_path / "grades.db"
    out_json = tmp_path / "results.json"
    r = run("quiz", "grade", "q2_gated", str(EXAMPLES / "q2_gated"), "--course", str(course), "--gradebook",
            str(gb_path), "--json", str(out_json))
    assert r.exit_code == 0, r.output
    assert "carol.yaml:34: unknown question id 'q9'" in r.output
    assert "dave.yaml:3:" in r.output and "graded 4 student(s)" in r.output
    with Gradebook(gb_path) as gb:
        results = {x.student: x for x in gb.results(item="q2_gated", kind="quiz")}
    assert sorted(results) == ["alice", "bob", "carol", "dave"]
    assert results["dave"].error and results["dave"].checks == []
    assert results["carol"].error and len(results["carol"].checks) == 20
    assert "3 free answer(s) await review by a grader: seqgrade quiz review q2_gated" in r.output
    doc = json.loads(out_json.read_text(encoding="utf-8"))
    validate(doc)  # the one results schema
    assert doc["item_kind"] == "quiz" and doc["results"][0]["student"] == "alice"


def test_grade_uses_the_course_gradebook_by_default(course, tmp_path):
    r = run("quiz", "grade", str(BANK_DIR / "q1_rnn_basics.yaml"), str(EXAMPLES / "q1_rnn_basics"),
            "--course", str(course), "--lang", "zh")
    assert r.exit_code == 0, r.output
    with Gradebook(tmp_path / "gb.db") as gb:
        alice = gb.result("q1_rnn_basics", "alice")
    assert alice.checks[0].message.startswith(("正确。", "不正确。"))


def test_grade_examples_with_the_course_secret(monkeypatch, tmp_path):
    """The demo's example answers: alice perfect, bob partial, carol and dave with problems, once a grader's
    reviews of the free answers (course/examples/quiz_reviews/) are recorded."""
    monkeypatch.delenv("SEQGRADE_SECRET", raising=False)
    monkeypatch.chdir(REPO)
    for quiz in sorted(p.name for p in EXAMPLES.iterdir()):
        gb_path = tmp_path / f"{quiz}.db"
        r = run("quiz", "grade", quiz, str(EXAMPLES / quiz), "--gradebook", str(gb_path))
        assert r.exit_code == 0, r.output
        with Gradebook(gb_path) as gb:
            before = gb.result(quiz, "alice").score
        r = run("quiz", "review", quiz, "--from", str(REVIEWS / f"{quiz}.yaml"), "--gradebook", str(gb_path))
        assert r.exit_code == 0 and "recorded 3 review(s)" in r.output, r.output
        with Gradebook(gb_path) as gb:
            res = {x.student: x for x in gb.results(item=quiz)}
        assert before < res["alice"].score
        assert res["alice"].score == res["alice"].max_score and not res["alice"].error
        assert 0 < res["bob"].score < res["bob"].max_score and not res["bob"].error
        assert "unknown question id 'q9'" in res["carol"].error and res["carol"].score > 0
        assert "not valid YAML" in res["dave"].error and res["dave"].score == 0


def test_render_writes_markdown_and_notebook_for_several_students(course, tmp_path):
    out = tmp_path / "handouts"
    r = run("quiz", "render", "q3_attention", "--student", "alice", "--student", "bob", "--out", str(out),
            "--course", str(course), "--lang", "zh")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "q3_attention-alice.ipynb", "q3_attention-alice.md", "q3_attention-bob.ipynb", "q3_attention-bob.md"]


def test_render_refuses_a_student_id_that_is_a_path(course, tmp_path):
    r = run("quiz", "render", "q3_attention", "--student", "../evil", "--out", str(tmp_path), "--course",
            str(course))
    assert isinstance(r.exception, UsageError)


def test_unknown_quiz_is_a_quiz_error(course):
    r = run("quiz", "render", "q9_nothing", "--student", "alice", "--course", str(course))
    assert isinstance(r.exception, QuizError) and "no quiz 'q9_nothing'" in str(r.exception)


def test_invalid_quiz_cannot_be_graded(course, tmp_path):
    r = run("quiz", "grade", str(MALFORMED_DIR / "bad_regex.yaml"), str(EXAMPLES / "q2_gated"), "--course",
            str(course))
    assert isinstance(r.exception, QuizError) and "bad_regex.yaml:12:24" in str(r.exception)


def test_take_writes_the_answers_file(course, tmp_path):
    out = tmp_path / "answers" / "alice.yaml"
    key = run("quiz", "key", "q1_rnn_basics", "--student", "alice", "--course", str(course))
    assert key.exit_code == 0
    import yaml

    answers = yaml.safe_load(key.stdout)
    lines = [" ".join(v) if isinstance(v, list) else str(v) for v in answers.values()]
    r = run("quiz", "take", "q1_rnn_basics", "--student", "alice", "--output", str(out), "--course", str(course),
            input="\n".join(lines) + "\n")
    assert r.exit_code == 0, r.output
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == answers
    g = run("quiz", "grade", "q1_rnn_basics", str(out.parent), "--course", str(course), "--gradebook",
            str(tmp_path / "g.db"))
    assert "alice  21/25" in g.output  # the free answer (4 points) awaits a grader
    assert "1 free answer(s) await review" in g.output


def test_report_shows_concepts_weakest_first(course, tmp_path):
    gb_path = tmp_path / "r.db"
    run("quiz", "grade", "q3_attention", str(EXAMPLES / "q3_attention"), "--course", str(course), "--gradebook",
        str(gb_path))
    r = run("quiz", "report", "q3_attention", "--course", str(course), "--gradebook", str(gb_path))
    assert r.exit_code == 0, r.output
    assert "q3_attention: 4 student(s)" in r.output and "multi-head" in r.output and "sdpa_scale" in r.output


def test_report_without_gradebook_is_a_quiz_error(course, tmp_path):
    r = run("quiz", "report", "q3_attention", "--course", str(course), "--gradebook", str(tmp_path / "none.db"))
    assert isinstance(r.exception, QuizError)


def test_schema_command_prints_the_json_schema():
    r = run("quiz", "schema")
    assert json.loads(r.stdout)["title"] == "seqgrade quiz"


def test_default_secret_warns(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQGRADE_SECRET", raising=False)
    cfg = tmp_path / "course.yaml"
    cfg.write_text(f"root: {REPO}\n", encoding="utf-8")
    r = run("quiz", "key", "q2_gated", "--student", "alice", "--course", str(cfg))
    assert r.exit_code == 0 and "no course secret is set" in r.stderr


def _late_quiz(tmp_path, extra: str = ""):
    cfg = tmp_path / "course.yaml"
    cfg.write_text(f"root: {REPO}\nsecret: s\ndue:\n  q2_gated: 2020-01-01T00:00:00+00:00\n"
                   "late_policy: {kind: per_day, penalty: 0.1, cap: 0.5}\n" + extra, encoding="utf-8")
    answers = tmp_path / "answers"
    answers.mkdir()
    (answers / "alice.yaml").write_text("forget_gate: c\ninput_gate: d\n", encoding="utf-8")
    os.utime(answers / "alice.yaml", (1577923200, 1577923200))  # mtime 2020-01-02T00:00:00Z: one day late
    return cfg, answers


def test_a_backdated_or_late_mtime_decides_nothing_by_default(tmp_path, monkeypatch):
    """The file's mtime is the student's to set: by default the late policy never reads it."""
    monkeypatch.delenv("SEQGRADE_SECRET", raising=False)
    cfg, answers = _late_quiz(tmp_path)
    r = run("quiz", "grade", "q2_gated", str(answers), "--course", str(cfg), "--gradebook", str(tmp_path / "g.db"))
    assert r.exit_code == 0, r.output
    with Gradebook(tmp_path / "g.db") as gb:
        res = gb.result("q2_gated", "alice")
    assert res.submitted_at is None and res.late_penalty == 0  # first seen long after the due date: not provable
    assert res.time_source.startswith("first_seen")


def test_late_answers_from_the_platforms_times_get_the_late_policy(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQGRADE_SECRET", raising=False)
    cfg, answers = _late_quiz(tmp_path)
    times = tmp_path / "times.csv"
    times.write_text("student,item,submitted_at\nalice,q2_gated,2020-01-02T00:00:00+00:00\n", encoding="utf-8")
    r = run("quiz", "grade", "q2_gated", str(answers), "--course", str(cfg), "--gradebook", str(tmp_path / "g.db"),
            "--times", str(times))
    assert r.exit_code == 0, r.output
    with Gradebook(tmp_path / "g.db") as gb:
        res = gb.result("q2_gated", "alice")
    assert res.submitted_at == "2020-01-02T00:00:00+00:00" and res.time_source == "times_file"
    assert res.late_penalty == pytest.approx(0.1) and res.score == pytest.approx(1.8)


def test_mtime_only_when_asked_for_and_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQGRADE_SECRET", raising=False)
    cfg, answers = _late_quiz(tmp_path, "submission_time: mtime\n")
    r = run("quiz", "grade", "q2_gated", str(answers), "--course", str(cfg), "--gradebook", str(tmp_path / "g.db"))
    assert r.exit_code == 0, r.output
    assert "backdate" in r.output  # the warning says why this is unsafe
    with Gradebook(tmp_path / "g.db") as gb:
        res = gb.result("q2_gated", "alice")
    assert res.time_source == "mtime (student-controlled)" and res.late_penalty == pytest.approx(0.1)


def test_validate_accepts_a_folder(course):
    r = run("quiz", "validate", "--course", str(course), str(BANK_DIR))
    assert r.exit_code == 0 and "4 quiz file(s) valid" in r.output


def test_the_quiz_package_never_imports_torch():
    code = (
        "import sys, importlib, pkgutil, grader.quiz\n"
        "for m in pkgutil.iter_modules(grader.quiz.__path__):\n"
        "    importlib.import_module('grader.quiz.' + m.name)\n"
        "from grader.quiz.loader import load_quiz\n"
        "load_quiz('course/quizzes/q2_gated.yaml')\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert sys.modules.get('rfc3987_syntax', 0) is not None  # the import block is lifted\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
