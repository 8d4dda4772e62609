"""Isolation fails closed: without bubblewrap, student code runs only when `--sandbox none` is asked for."""

from __future__ import annotations

import subprocess

import pytest

from tests.cli._support import ENV, REFERENCE, SEQGRADE, load_json, rows, write_class, write_course

NO_BWRAP = dict(ENV, SEQGRADE_BWRAP="/nonexistent/bwrap")


def run(*args, env=NO_BWRAP, timeout=600):
    return subprocess.run(SEQGRADE + [str(a) for a in args], env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("policy")
    return root, write_course(root / "course"), write_class(root / "subs", {"alice": REFERENCE})


def test_grade_refuses_to_run_student_code_without_bubblewrap(klass):
    root, course, subs = klass
    r = run("grade", "a1_rnn", subs, "--course", course, "--gradebook", root / "gb1.db", "--jobs", "1")
    assert r.returncode == 7, r.stdout + r.stderr
    assert "--sandbox none" in r.stderr and "bubblewrap" in r.stderr
    assert rows(root / "gb1.db") == {}  # no result recorded: nothing ran


@pytest.mark.parametrize("policy", ["auto", "bwrap"])
def test_auto_is_no_way_around_it(klass, policy):
    root, course, subs = klass
    r = run("grade", "a1_rnn", subs, "--course", course, "--gradebook", root / f"gb-{policy}.db", "--jobs", "1",
            "--sandbox", policy)
    assert r.returncode == 7, r.stdout + r.stderr


def test_none_asked_for_by_name_runs_and_says_so(klass):
    root, course, subs = klass
    out = root / "none.json"
    r = run("grade", "a1_rnn", subs, "--course", course, "--gradebook", root / "gb2.db", "--jobs", "1",
            "--sandbox", "none", "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Isolation: none" in r.stdout and "WITHOUT isolation" in r.stderr
    data = load_json(out)
    assert data["isolation"] == "none" and data["results"][0]["isolation"] == "none"


def test_doctor_says_which_isolation_grading_would_use(klass):
    root, course, _ = klass
    ok = run("doctor", "--course", course, env=ENV)
    assert "isolation: bwrap" in ok.stdout, ok.stdout
    missing = run("doctor", "--course", course)
    assert missing.returncode != 0 and "bubblewrap" in missing.stdout + missing.stderr


def test_a_student_without_bubblewrap_can_still_check_their_own_code(klass, tmp_path):
    f = tmp_path / "rnn.py"
    f.write_text(REFERENCE, encoding="utf-8")
    root, course, _ = klass
    r = run("check", "a1_rnn", f, "--course", course)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "isolation: none" in r.stdout and "WITHOUT" in r.stderr
