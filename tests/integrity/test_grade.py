"""`seqgrade grade` on a class of hostile submissions, each followed by an honest one, on ONE worker.

One run of the real command (`--jobs 1`: one grading process, one zygote, every child in
turn) grades the whole class. Each hostile student breaks one rule of docs/security.md;
the honest student graded right after it must get full marks, untouched.
"""

from __future__ import annotations

import os
import re
import secrets

import pytest

from tests.cli._support import REFERENCE, load_json, seqgrade, write_course
from tests.integrity.attacks import (ESCAPES, FILLS_TMP, HONEST_MARKER, MEMORY_SCAN,
                                     UNDECODABLE_REPLY_AND_LEFTOVER, WRONG)

REPO_REFERENCE = "solutions/rnn.py"


def _nb(cells) -> str:
    import json

    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})


def build_class(root, repo):
    """{student: what it is}; the class folder holds every student, sorted so each hostile precedes an honest."""
    subs = root / "submissions"
    subs.mkdir(parents=True)
    kinds = {}
    marker = HONEST_MARKER.format(secrets.randbits(64))

    def folder(name, kind):
        d = subs / name
        d.mkdir()
        kinds[name] = kind
        return d

    def honest(name, extra=""):
        (folder(name, "honest") / "rnn.py").write_text(REFERENCE + extra, encoding="utf-8")

    honest("a00_honest", marker)  # carries the marker the memory scan looks for
    (folder("a01_link_to_reference", "refused") / "rnn.py").symlink_to(repo / REPO_REFERENCE)
    honest("a02_honest")
    (folder("a03_link_via_proc", "refused") / "rnn.py").symlink_to("/proc/self/cwd/" + REPO_REFERENCE)
    honest("a04_honest")
    (folder("a05_link_to_classmate", "refused") / "rnn.py").symlink_to("../a04_honest/rnn.py")
    (subs / "a06_folder_link").symlink_to(subs / "a04_honest")
    kinds["a06_folder_link"] = "refused"
    honest("a07_honest")
    nb_dir = folder("a08_notebook_link", "refused")
    (nb_dir / "rnn.ipynb").symlink_to(subs / "a07_honest" / "rnn.py")
    os.mkfifo(folder("a09_fifo", "refused") / "rnn.py")
    (folder("a10_huge", "refused") / "rnn.py").write_text("# pad\n" * 900_000, encoding="utf-8")
    honest("a11_honest")
    (folder("a12_nb_string_metadata", "malformed") / "rnn.ipynb").write_text(
        _nb([{"cell_type": "code", "metadata": "nbgrader", "outputs": [], "source": REFERENCE}]), encoding="utf-8")
    (folder("a13_nb_deep", "malformed") / "rnn.ipynb").write_text(
        '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    (folder("a14_nb_source_dict", "malformed") / "rnn.ipynb").write_text(
        _nb([{"cell_type": "code", "metadata": {}, "source": {"x": 1}}]), encoding="utf-8")
    (folder("a15_nb_cells_not_list", "malformed") / "rnn.ipynb").write_text('{"cells": 7}', encoding="utf-8")
    honest("a16_honest")
    (folder("a17_undecodable_reply", "hostile") / "rnn.py").write_text(UNDECODABLE_REPLY_AND_LEFTOVER,
                                                                       encoding="utf-8")
    honest("a18_honest")
    (folder("a19_memory_scan", "hostile") / "rnn.py").write_text(MEMORY_SCAN, encoding="utf-8")
    # the same scan finds a marker of its own: it can see what is in its memory
    (folder("a19b_memory_scan_control", "hostile") / "rnn.py").write_text(MEMORY_SCAN + HONEST_MARKER.format(7),
                                                                          encoding="utf-8")
    honest("a20_honest")
    (folder("a21_fills_tmp", "hostile") / "rnn.py").write_text(FILLS_TMP, encoding="utf-8")
    honest("a22_honest")
    (folder("a23_escapes\x1b[2K\r", "hostile") / "rnn.py").write_text(ESCAPES, encoding="utf-8")
    honest("a24_honest")
    (folder("a25_wrong", "wrong") / "rnn.py").write_text(WRONG, encoding="utf-8")
    return subs, kinds


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from tests.cli._support import REPO

    root = tmp_path_factory.mktemp("integrity")
    course = write_course(root / "course")
    subs, kinds = build_class(root, REPO)
    out = root / "results.json"
    run = seqgrade("grade", "a1_rnn", subs, "--course", course, "--gradebook", root / "gb.db", "--jobs", "1",
                   "--json", out, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    data = load_json(out)
    return {r["student"]: r for r in data["results"]}, kinds, run, data, root


def test_every_student_is_graded_and_recorded(graded):
    results, kinds, run, data, _ = graded
    assert len(results) == len(kinds), sorted(set(kinds) ^ set(results))
    assert data["isolation"] == "bwrap"


def test_every_honest_student_right_after_a_hostile_one_gets_full_marks(graded):
    results, kinds, *_ = graded
    for student, kind in kinds.items():
        if kind == "honest":
            r = results[student]
            bad = [(c["name"], c["status"], c["message"][:200]) for c in r["checks"] if c["status"] != "passed"]
            assert r["score"] == r["max_score"] > 0 and not r["error"], (student, bad)


def test_no_hostile_student_earns_a_point(graded):
    results, kinds, *_ = graded
    for student, kind in kinds.items():
        if kind in ("refused", "malformed", "hostile", "wrong"):
            assert results[student]["score"] == 0, student


@pytest.mark.parametrize("student,words", [
    ("a01_link_to_reference", "symbolic link"), ("a03_link_via_proc", "symbolic link"),
    ("a05_link_to_classmate", "symbolic link"), ("a06_folder_link", "symbolic link"),
    ("a08_notebook_link", "symbolic link"), ("a09_fifo", "FIFO"), ("a10_huge", "larger than"),
])
def test_refusals_name_the_file_and_are_flagged_for_the_instructor(graded, student, words):
    results, *_ = graded
    r = results[student]
    assert words in r["error"] and student in r["error"], r["error"]
    assert [f["kind"] for f in r["flags"]] == ["refused"]
    assert all(c["status"] == "error" for c in r["checks"])


@pytest.mark.parametrize("student", ["a12_nb_string_metadata", "a13_nb_deep", "a14_nb_source_dict",
                                     "a15_nb_cells_not_list"])
def test_a_malformed_notebook_is_its_students_error(graded, student):
    results, *_ = graded
    r = results[student]
    assert "notebook" in r["error"] and student in r["error"], r["error"]


def test_an_undecodable_reply_stops_only_that_child(graded):
    results, *_ = graded
    r = results["a17_undecodable_reply"]
    assert any("invalid reply" in c["message"] for c in r["checks"]), [c["message"] for c in r["checks"]]


def test_no_child_finds_an_earlier_students_code_in_its_memory(graded):
    results, *_ = graded
    messages = [c["message"] for c in results["a19_memory_scan"]["checks"] if "memory scan found" in c["message"]]
    assert messages, "the scan did not run"
    assert all("found 0 copies" in m for m in messages), messages
    control = [c["message"] for c in results["a19b_memory_scan_control"]["checks"] if "memory scan" in c["message"]]
    assert control and not any("found 0 copies" in m for m in control), control


def test_filling_the_working_folder_is_a_resource_limit(graded):
    results, *_ = graded
    r = results["a21_fills_tmp"]
    assert any(f["kind"] == "limit" for f in r["flags"]), r["flags"]
    assert any("working folder" in c["message"] for c in r["checks"])


def test_the_terminal_table_shows_control_characters_instead_of_obeying_them(graded):
    _, _, run, _, _ = graded
    assert "\x1b" not in run.stdout and "\r" not in run.stdout and "\u202e" not in run.stdout
    assert "a23_escapes\\x1b[2K\\r" in run.stdout


def test_refusals_are_listed_under_the_table(graded):
    _, _, run, _, _ = graded
    assert re.search(r"refused: a01_link_to_reference: .*symbolic link", run.stdout), run.stdout[-3000:]
    assert "Isolation: bwrap" in run.stdout


def test_check_refuses_a_link_naming_it(tmp_path):
    from tests.cli._support import REPO

    link = tmp_path / "rnn.py"
    link.symlink_to(REPO / "solutions" / "rnn.py")
    r = seqgrade("check", "a1_rnn", link)
    assert r.returncode == 2 and "rnn.py is a symbolic link" in r.stderr, r.stdout + r.stderr


def test_quiz_answers_files_that_are_links_are_refused_and_flagged(tmp_path):
    from tests.cli._support import REPO

    answers = tmp_path / "answers"
    answers.mkdir()
    (answers / "mallory.yaml").symlink_to(REPO / "course" / "examples" / "quiz_answers" / "q1_rnn_basics" / "alice.yaml")
    (answers / "zoe.yaml").write_text("{}\n", encoding="utf-8")
    out = tmp_path / "q.json"
    r = seqgrade("quiz", "grade", "q1_rnn_basics", answers, "--gradebook", tmp_path / "gb.db", "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    by = {x["student"]: x for x in load_json(out)["results"]}
    assert by["mallory"]["score"] == 0 and [f["kind"] for f in by["mallory"]["flags"]] == ["refused"]
    assert "symbolic link" in by["mallory"]["error"]
