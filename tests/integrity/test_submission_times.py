"""No time a student can set decides a late penalty: backdated files and timestamp.txt change nothing."""

from __future__ import annotations

import os

import pytest

from tests.cli._support import REFERENCE, load_json, seqgrade, write_course

PAST_DUE = "2020-01-01T00:00:00+00:00"
BACKDATED = 1_500_000_000  # 2017: long before the due date


def backdate(folder):
    (folder / "timestamp.txt").write_text("2017-07-14 02:40:00.000000 UTC\n", encoding="utf-8")
    for f in folder.iterdir():
        os.utime(f, (BACKDATED, BACKDATED))


def grade(root, course, subs, name, *extra):
    out = root / f"{name}.json"
    r = seqgrade("grade", "a1_rnn", subs, "--course", course, "--gradebook", root / "gb.db", "--jobs", "1",
                 "--json", out, *extra)
    assert r.returncode == 0, r.stdout + r.stderr
    return {s["student"]: s for s in load_json(out)["results"]}, r


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("times")
    course = write_course(root / "course", due=PAST_DUE)
    subs = root / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "rnn.py").write_text(REFERENCE, encoding="utf-8")
    backdate(subs / "alice")
    first, _ = grade(root, course, subs, "first")
    # after that run (itself after the due date): bob hands in, alice changes her file; both backdate them
    (subs / "bob").mkdir()
    (subs / "bob" / "rnn.py").write_text(REFERENCE, encoding="utf-8")
    (subs / "alice" / "rnn.py").write_text(REFERENCE + "\n# improved\n", encoding="utf-8")
    backdate(subs / "bob")
    backdate(subs / "alice")
    second, run = grade(root, course, subs, "second")
    return first, second, run


def test_what_the_first_run_after_the_due_date_sees_is_not_provably_late(two_runs):
    first, _, _ = two_runs
    alice = first["alice"]
    assert alice["late_penalty"] == 0 and alice["submitted_at"] is None
    assert alice["time_source"].startswith("first_seen")


@pytest.mark.parametrize("student", ["alice", "bob"])
def test_backdated_files_handed_in_after_a_run_past_the_due_date_are_late(two_runs, student):
    _, second, _ = two_runs
    r = second[student]
    assert r["late_penalty"] == pytest.approx(0.5), r  # per_day 10% capped at 50%: years late
    assert r["raw_score"] == r["max_score"] and r["score"] == pytest.approx(r["max_score"] / 2)
    assert r["time_source"].startswith("first_seen (not there at the run of")
    assert r["submitted_at"] > "2026"  # never the backdated 2017


def test_the_platforms_times_file_decides_when_given(tmp_path):
    course = write_course(tmp_path / "course", due=PAST_DUE)
    subs = tmp_path / "subs"
    for name in ("alice", "bob"):
        (subs / name).mkdir(parents=True)
        (subs / name / "rnn.py").write_text(REFERENCE, encoding="utf-8")
        backdate(subs / name)
    times = tmp_path / "times.csv"
    times.write_text("student,item,submitted_at\nalice,a1_rnn,2019-12-31T23:00:00+00:00\n"
                     "bob,a1_rnn,2020-01-02T00:00:00+00:00\n", encoding="utf-8")
    results, _ = grade(tmp_path, course, subs, "times", "--times", times)
    assert results["alice"]["late_penalty"] == 0 and results["alice"]["time_source"] == "times_file"
    assert results["bob"]["late_penalty"] == pytest.approx(0.1) and results["bob"]["time_source"] == "times_file"


def test_mtime_is_only_an_opt_in_with_a_warning(tmp_path):
    course = write_course(tmp_path / "course", due=PAST_DUE, extra="submission_time: mtime\n")
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "rnn.py").write_text(REFERENCE, encoding="utf-8")
    backdate(subs / "alice")
    results, run = grade(tmp_path, course, subs, "mtime")
    assert "backdate" in run.stderr
    assert results["alice"]["time_source"] == "mtime (student-controlled)"
    assert results["alice"]["late_penalty"] == 0  # the backdated time escapes: exactly why it is opt-in
