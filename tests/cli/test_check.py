"""`seqgrade check`: a student runs the public checks on their own file.

Exit 0 only when every public check passes; a table on stdout says what to
fix; a path that cannot be checked is a clear error (exit 2), never a traceback.
"""

from __future__ import annotations

import pytest

from tests.cli._support import MUTANT, REFERENCE, notebook_of, seqgrade, write_course


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return write_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    (d / "rnn.py").write_text(REFERENCE, encoding="utf-8")
    (d / "mutant.py").write_text(MUTANT, encoding="utf-8")
    (d / "rnn.ipynb").write_text(notebook_of(REFERENCE), encoding="utf-8")
    (d / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    (d / "latin1.py").write_bytes(b"# caf\xe9\n")
    return d


@pytest.fixture(scope="module")
def reference_run(course, files):
    return seqgrade("check", "a1_rnn", files / "rnn.py", "--course", course)


@pytest.fixture(scope="module")
def starter_run(course):
    return seqgrade("check", "a1_rnn", "--course", course)


def summary(stdout: str) -> tuple[int, int]:
    line = [ln for ln in stdout.splitlines() if "public checks pass" in ln][0]
    passed, total = line.split(" public checks pass")[0].split("/")
    return int(passed), int(total)


def test_reference_passes_every_public_check(reference_run):
    assert reference_run.returncode == 0, reference_run.stdout + reference_run.stderr
    passed, total = summary(reference_run.stdout)
    assert passed == total > 0


def test_output_is_a_table_of_checks(reference_run):
    lines = reference_run.stdout.splitlines()
    assert lines[0].split() == ["check", "result", "points", "what", "to", "fix"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    _, total = summary(reference_run.stdout)
    rows = [ln for ln in lines[2:] if ln.startswith("test_")]
    assert len(rows) == total and all("PASS" in r for r in rows)


def test_only_public_checks_are_run(reference_run):
    assert "test_rnn_values" not in reference_run.stdout  # a hidden check
    assert all(ln.startswith("test_public") for ln in reference_run.stdout.splitlines() if ln.startswith("test_"))


def test_mutant_fails_with_what_to_fix(course, files):
    r = seqgrade("check", "a1_rnn", files / "mutant.py", "--course", course)
    assert r.returncode == 1
    passed, total = summary(r.stdout)
    assert 0 < passed < total
    failed = [ln for ln in r.stdout.splitlines() if ln.startswith("test_") and "FAILED" in ln]
    assert failed and all(len(ln.split("FAILED", 1)[1].strip()) > 10 for ln in failed)  # a message to act on


@pytest.fixture(scope="module")
def mutant_runs(course, files):
    """The mutant checked twice with its own draw, and once with another seed."""
    return [seqgrade("check", "a1_rnn", files / "mutant.py", "--course", course, *extra)
            for extra in ((), (), ("--seed", "7"))]


def _sizes(stdout: str) -> list[str]:
    return [ln.strip() for ln in stdout.splitlines() if ln.strip().startswith("(sizes used: ")]


def test_each_failure_shows_the_sizes_it_used(mutant_runs):
    out = mutant_runs[0].stdout
    lines = out.splitlines()
    failed = [i for i, ln in enumerate(lines) if ln.startswith("test_") and "FAILED" in ln]
    assert failed
    for i in failed:
        below = [ln for ln in lines[i + 1:] if not ln.startswith("test_")][:3]
        assert any("(sizes used: " in ln for ln in below), lines[i]
    assert any("RNN(input_size=" in s for s in _sizes(out))
    passed = [ln for ln in lines if ln.startswith("test_") and "PASS" in ln]
    assert len(_sizes(out)) == len(failed) < len(failed) + len(passed)  # passing checks show none


def test_the_same_file_draws_the_same_sizes_and_a_seed_draws_others(mutant_runs):
    first, again, seeded = (_sizes(r.stdout) for r in mutant_runs)
    assert first == again
    assert seeded != first and "Seed 7 " in mutant_runs[2].stdout


def test_starter_file_is_checked_by_default_and_fails(starter_run):
    assert starter_run.returncode == 1
    passed, total = summary(starter_run.stdout)
    assert passed == 0 and total > 0


def test_starter_failures_point_at_the_todo(starter_run):
    """Each unwritten function is named once, with the line of its TODO; the checks that need it say so."""
    rows = [ln for ln in starter_run.stdout.splitlines() if ln.startswith("test_")]
    first = [ln for ln in rows if "is not written yet: it raises NotImplementedError (the starter's TODO) at " in ln]
    later = [ln for ln in rows if "which is not written yet (reported in test_public_" in ln]
    assert first and rows == [ln for ln in rows if ln in first or ln in later]
    # each missing function is reported once, by name; the other checks that need it point back to that one
    names = [ln.split("ERROR")[1].split()[1] for ln in first]
    assert len(names) == len(set(names)) and all(ln.split("needs ")[1].split(",")[0] in names for ln in later)


def test_notebook_is_checked_like_the_module(course, files):
    r = seqgrade("check", "a1_rnn", files / "rnn.ipynb", "--course", course)
    assert r.returncode == 0, r.stdout + r.stderr
    passed, total = summary(r.stdout)
    assert passed == total > 0


@pytest.mark.parametrize("name,fragments", [
    ("missing.py", ["missing.py does not exist", "give the path of your rnn.py"]),
    ("broken.ipynb", ["broken.ipynb is not a valid notebook"]),
    ("latin1.py", ["latin1.py is not UTF-8 text"]),
], ids=["missing-file", "invalid-notebook", "not-utf8"])
def test_unusable_path_is_a_clear_error(course, files, name, fragments):
    r = seqgrade("check", "a1_rnn", files / name, "--course", course)
    assert r.returncode == 2
    assert r.stderr.startswith("Error: ") and "Traceback" not in r.stderr
    for f in fragments:
        assert f in r.stderr


def test_unknown_assignment_is_a_clear_error(course, files):
    r = seqgrade("check", "a7_nope", files / "rnn.py", "--course", course)
    assert r.returncode == 2 and "unknown assignment 'a7_nope'" in r.stderr and "Traceback" not in r.stderr
