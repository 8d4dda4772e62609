"""`seqgrade grade` through the real command: a small a1_rnn class, reruns, and bad input.

One class is graded once per module (the reference, a mutant, a syntax error
and a folder without the file); later runs on the same folder check what is
kept and what is graded again. Due dates are far in the future, so scores are
raw scores.
"""

from __future__ import annotations

import time

import pytest

from grader.results_schema import validate

from tests.cli._support import (MUTANT, REFERENCE, SYNTAX_ERROR, integrity, load_json, rows, seqgrade,
                                write_class, write_course)

CLASS = {"alice": REFERENCE, "bob": MUTANT, "carol": SYNTAX_ERROR, "dave": None}

class Class:
    """A class folder, its course config and gradebook, and what each run left."""

    def __init__(self, root):
        self.root = root
        self.course = write_course(root / "course")
        self.gradebook = root / "course" / "gradebook.db"
        self.subs = write_class(root / "submissions", CLASS)
        self.runs: dict[str, tuple] = {}

    def grade(self, name: str, *extra: str):
        out = self.root / f"{name}.json"
        proc = seqgrade("grade", "a1_rnn", self.subs, "--course", self.course, "--json", out, "-j", "2", *extra)
        self.runs[name] = (proc, load_json(out) if out.exists() else None, rows(self.gradebook))
        return self.runs[name]


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    k = Class(tmp_path_factory.mktemp("class"))
    k.grade("first")
    return k


@pytest.fixture(scope="module")
def first(klass):
    return klass.runs["first"]


@pytest.fixture(scope="module")
def second(klass):
    """The same folder graded again, nothing changed."""
    time.sleep(1.1)  # graded_at has one-second resolution
    return klass.grade("second")


@pytest.fixture(scope="module")
def changed(klass, second):
    """bob fixes his file: only bob is graded again."""
    time.sleep(1.1)
    (klass.subs / "bob" / "rnn.py").write_text(REFERENCE, encoding="utf-8")
    return klass.grade("changed")


@pytest.fixture(scope="module")
def regraded(klass, changed):
    time.sleep(1.1)
    return klass.grade("regraded", "--regrade")


def by_student(data: dict) -> dict[str, dict]:
    return {s["student"]: s for s in data["results"]}


# -- the first run ---------------------------------------------------------------------

def test_grade_exits_zero_for_a_class_with_bad_submissions(first):
    proc, _, _ = first
    assert proc.returncode == 0, proc.stderr


def test_json_follows_the_results_schema(first):
    _, data, _ = first
    validate(data)  # the repository's versioned schema, grader/schemas/results.schema.json
    assert data["schema"] == "seqgrade-results/1" and data["kind"] == "run" and data["item"] == "a1_rnn"
    assert data["isolation"] == "bwrap"


def test_every_student_has_a_result(first):
    _, data, gb = first
    assert sorted(by_student(data)) == sorted(CLASS)
    assert sorted(gb) == sorted(CLASS)


def test_reference_gets_full_marks(first):
    _, data, _ = first
    alice = by_student(data)["alice"]
    assert alice["score"] == alice["max_score"] == data["max_score"] > 0
    assert all(c["status"] == "passed" and c["message"] == "" for c in alice["checks"])
    assert {c["visibility"] for c in alice["checks"]} == {"public", "hidden"}


def test_check_points_add_up_to_the_maximum(first):
    _, data, _ = first
    alice = by_student(data)["alice"]
    assert sum(c["max_score"] for c in alice["checks"]) == pytest.approx(data["max_score"])


def test_mutant_loses_points_with_messages(first):
    _, data, _ = first
    bob = by_student(data)["bob"]
    failed = [c for c in bob["checks"] if c["status"] == "failed"]
    assert 0 < bob["score"] < data["max_score"]
    assert failed and all(c["message"] and c["score"] == 0 for c in failed)


def test_failed_public_checks_show_their_sizes_and_hidden_ones_do_not(first):
    """The sizes a check used are part of a public check's message only: hidden checks' inputs stay hidden."""
    _, data, _ = first
    failed = [c for c in by_student(data)["bob"]["checks"] if c["status"] != "passed"]
    public = [c for c in failed if c["visibility"] == "public"]
    hidden = [c for c in failed if c["visibility"] == "hidden"]
    assert public and hidden
    assert all("(sizes used: " in c["message"] for c in public)
    assert not any("sizes used" in c["message"] for c in hidden)


def test_syntax_error_is_graded_zero_naming_file_and_line(first):
    _, data, _ = first
    carol = by_student(data)["carol"]
    assert carol["score"] == 0 and carol["max_score"] == data["max_score"]
    assert "SyntaxError" in carol["error"] and "rnn.py:4" in carol["error"]
    assert all(c["status"] == "error" for c in carol["checks"])


def test_missing_file_is_graded_zero_with_the_reason(first):
    _, data, _ = first
    dave = by_student(data)["dave"]
    assert dave["score"] == 0 and dave["max_score"] == data["max_score"]
    assert "no rnn.py or notebook in dave/" in dave["error"]


def test_no_late_penalty_before_the_due_date(first):
    _, data, _ = first
    assert all(s["late_penalty"] == 0 for s in data["results"])


def test_table_and_summary_on_stdout(first):
    proc, _, _ = first
    for name in CLASS:
        assert name in proc.stdout
    assert "4 graded, 0 unchanged" in proc.stdout


def test_gradebook_holds_the_same_scores_as_the_json(first):
    _, data, gb = first
    for s in data["results"]:
        assert gb[s["student"]][2] == pytest.approx(s["raw_score"])


# -- running again -------------------------------------------------------------------------

def test_second_run_grades_no_readable_submission_again(first, second):
    proc, _, gb = second
    assert proc.returncode == 0, proc.stderr
    for student in ("alice", "bob", "carol"):
        assert gb[student] == first[2][student], f"{student} was graded again"


def test_second_run_grades_nothing(first, second):
    """Also a folder without the file is unchanged: it stays graded as it was."""
    proc, _, gb = second
    assert "0 graded, 4 unchanged" in proc.stdout
    assert gb == first[2], "a result was recorded again"


def test_second_run_reports_the_same_results(first, second):
    assert second[1]["results"] == first[1]["results"]


def test_changed_file_is_graded_again_and_only_it(second, changed):
    proc, data, gb = changed
    assert proc.returncode == 0, proc.stderr
    before = second[2]
    # graded_at, not the row id: SQLite reuses the highest rowid after a delete
    assert gb["bob"][1] > before["bob"][1], "bob's changed file was not graded again"
    for student in ("alice", "carol"):
        assert gb[student] == before[student], f"{student} was graded again"
    bob = by_student(data)["bob"]
    assert bob["score"] == bob["max_score"]


def test_regrade_grades_everything_again(changed, regraded):
    proc, data, gb = regraded
    assert proc.returncode == 0, proc.stderr
    assert "4 graded, 0 unchanged" in proc.stdout
    for student, row in gb.items():
        assert row[1] > changed[2][student][1], student
    assert [s["score"] for s in data["results"]] == [s["score"] for s in changed[1]["results"]]


def test_gradebook_is_sound_after_the_runs(klass, regraded):
    assert integrity(klass.gradebook) == "ok"


# -- bad input: exit codes and messages ------------------------------------------------------

def assert_clean_error(proc, code: int, *fragments: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("Error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for f in fragments:
        assert f in proc.stderr, proc.stderr


@pytest.fixture
def course(tmp_path):
    return write_course(tmp_path / "course")


@pytest.fixture
def one_student(tmp_path):
    return write_class(tmp_path / "subs", {"alice": REFERENCE})


def test_unknown_assignment_exits_2(tmp_path, course, one_student):
    proc = seqgrade("grade", "a9_nope", one_student, "--course", course)
    assert_clean_error(proc, 2, "unknown assignment 'a9_nope'", "a1_rnn")


def test_missing_submissions_folder_exits_4(tmp_path, course):
    proc = seqgrade("grade", "a1_rnn", tmp_path / "nowhere", "--course", course)
    assert_clean_error(proc, 4, "nowhere", "does not exist")


def test_empty_submissions_folder_exits_4(tmp_path, course):
    (tmp_path / "empty").mkdir()
    proc = seqgrade("grade", "a1_rnn", tmp_path / "empty", "--course", course)
    assert_clean_error(proc, 4, "no student folders")


def test_stray_files_exit_4_suggesting_student_folders(tmp_path, course):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "rnn.py").write_text(REFERENCE, encoding="utf-8")
    proc = seqgrade("grade", "a1_rnn", tmp_path / "flat", "--course", course)
    assert_clean_error(proc, 4, "folder named after the student")


def test_corrupted_gradebook_exits_5_saying_move_it_aside(tmp_path, course, one_student):
    bad = tmp_path / "broken.db"
    bad.write_bytes(b"definitely not SQLite " * 200)
    proc = seqgrade("grade", "a1_rnn", one_student, "--course", course, "--gradebook", bad)
    assert_clean_error(proc, 5, str(bad), "move it aside")
    assert bad.read_bytes() == b"definitely not SQLite " * 200


def test_unwritable_gradebook_location_exits_5(tmp_path, course, one_student):
    (tmp_path / "a-file").write_text("x")
    proc = seqgrade("grade", "a1_rnn", one_student, "--course", course, "--gradebook",
                    tmp_path / "a-file" / "gradebook.db")
    assert_clean_error(proc, 5, "--gradebook")


def test_malformed_course_yaml_exits_3_with_file_and_line(tmp_path, one_student):
    cfg = tmp_path / "course.yaml"
    cfg.write_text("name: x\ndue:\n  a1_rnn: [2030-01-01\n", encoding="utf-8")
    proc = seqgrade("grade", "a1_rnn", one_student, "--course", cfg)
    assert_clean_error(proc, 3, f"{cfg}:4:", "not valid YAML")


def test_missing_course_config_exits_3(tmp_path, one_student):
    proc = seqgrade("grade", "a1_rnn", one_student, "--course", tmp_path / "nope.yaml")
    assert_clean_error(proc, 3, "nope.yaml", "does not exist")


def test_exit_codes_are_distinct():
    from grader.errors import ConfigError, GradebookError, SubmissionsError, UsageError

    codes = [UsageError.exit_code, ConfigError.exit_code, SubmissionsError.exit_code, GradebookError.exit_code]
    assert codes == [2, 3, 4, 5]


def test_unwritable_json_path_is_a_clear_error_and_keeps_the_results(tmp_path, course):
    subs = write_class(tmp_path / "subs", {"dave": None})  # nothing to run: no worker is started
    (tmp_path / "a-file").write_text("x")
    target = tmp_path / "a-file" / "results.json"
    proc = seqgrade("grade", "a1_rnn", subs, "--course", course, "--json", target)
    assert proc.returncode != 0
    assert proc.stderr.startswith("Error: ") and "Traceback" not in proc.stderr, proc.stderr
    assert "results.json" in proc.stderr
    assert "dave" in rows(course.parent / "gradebook.db")
