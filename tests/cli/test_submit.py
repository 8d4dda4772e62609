"""`seqgrade submit` writes the archive to hand in; `seqgrade grade` grades archives and refuses bad ones.

The archives are written by the real command; one class mixes every way an
archive arrives (a folder of archives, an archive in a student's folder) with
archives that must be refused (edited after submit, another student's archive
in a folder, an extra file). A refusal is that student's error and flag; the
others are graded as usual, the reference with full marks.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import pytest

from grader.archive import MANIFEST

from tests.cli._support import REFERENCE, SYNTAX_ERROR, load_json, seqgrade, write_course


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return write_course(tmp_path_factory.mktemp("submit") / "course")


def submit(course, folder, source: str, student: str, *extra: str, name: str = "rnn.py"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(source, encoding="utf-8")
    return seqgrade("submit", "a1_rnn", name, "--student", student, "--no-check", "--course", course, *extra,
                    cwd=folder)


def test_submit_writes_the_file_and_a_manifest(course, tmp_path):
    r = submit(course, tmp_path, REFERENCE, "alice")
    assert r.returncode == 0, r.stderr
    assert "wrote a1_rnn-alice.zip" in r.stdout and "Hand in this file" in r.stdout
    with zipfile.ZipFile(tmp_path / "a1_rnn-alice.zip") as z:
        assert sorted(z.namelist()) == sorted(["rnn.py", MANIFEST])
        assert z.read("rnn.py").decode() == REFERENCE
        m = json.loads(z.read(MANIFEST))
    assert (m["student"], m["assignment"], m["file"]) == ("alice", "a1_rnn", "rnn.py")
    assert m["checks_version"] and m["seqgrade"] and m["public_checks"] is None  # --no-check: none recorded


@pytest.mark.parametrize("student,why", [("../bob", "not a usable student id"),
                                         ("a\x1b[2Jb", "not a usable student id")], ids=["path", "escape"])
def test_submit_refuses_an_id_that_is_not_one(course, tmp_path, student, why):
    r = submit(course, tmp_path, REFERENCE, student)
    assert r.returncode != 0 and why in r.stderr and "\x1b" not in r.stderr
    assert not list(tmp_path.glob("*.zip"))


def test_submit_refuses_a_link(course, tmp_path):
    (tmp_path / "real.py").write_text(REFERENCE, encoding="utf-8")
    (tmp_path / "rnn.py").symlink_to(tmp_path / "real.py")
    r = seqgrade("submit", "a1_rnn", "rnn.py", "--student", "alice", "--no-check", "--course", course, cwd=tmp_path)
    assert r.returncode != 0 and "symbolic link" in r.stderr
    assert not list(tmp_path.glob("*.zip"))


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """One class: alice's archive at the top, carol's in her folder (a syntax error), and three refused."""
    top = tmp_path_factory.mktemp("handed-in")
    work = tmp_path_factory.mktemp("students")
    subs = top / "a1_rnn"
    subs.mkdir()
    for student, source in (("alice", REFERENCE), ("carol", SYNTAX_ERROR), ("mallory", REFERENCE),
                            ("trudy", REFERENCE), ("oscar", REFERENCE)):
        r = submit(course, work / student, source, student)
        assert r.returncode == 0, r.stderr
    shutil.copy(work / "alice" / "a1_rnn-alice.zip", subs)
    (subs / "carol").mkdir()
    shutil.copy(work / "carol" / "a1_rnn-carol.zip", subs / "carol")
    (subs / "dave").mkdir()  # trudy's archive in dave's folder
    shutil.copy(work / "trudy" / "a1_rnn-trudy.zip", subs / "dave")
    with zipfile.ZipFile(work / "mallory" / "a1_rnn-mallory.zip") as z:  # edited after submit: hash mismatch
        members = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(subs / "a1_rnn-mallory.zip", "w") as z:
        z.writestr("rnn.py", members["rnn.py"] + b"\n# changed after submit\n")
        z.writestr(MANIFEST, members[MANIFEST])
    shutil.copy(work / "oscar" / "a1_rnn-oscar.zip", subs)
    with zipfile.ZipFile(subs / "a1_rnn-oscar.zip", "a") as z:
        z.writestr("../../evil.py", "import os\n")
    out = top / "a1.json"
    proc = seqgrade("grade", "a1_rnn", subs, "--course", course, "--json", out, "-j", "1")
    before = sorted(os.listdir(subs))
    return proc, {r["student"]: r for r in load_json(out)["results"]}, before, subs


def test_grade_grades_archives_and_refuses_bad_ones_per_student(graded):
    proc, results, _, _ = graded
    assert proc.returncode == 0, proc.stderr
    assert set(results) == {"alice", "carol", "dave", "mallory", "oscar"}
    alice = results["alice"]
    assert alice["score"] == alice["max_score"] > 0 and not alice["flags"] and not alice["error"]
    assert any(c["visibility"] == "hidden" for c in alice["checks"])
    assert "SyntaxError at rnn.py:4" in results["carol"]["error"]  # read from the archive in her folder
    assert not results["carol"]["flags"]
    for student, why in (("dave", "trudy's submission by its manifest"), ("mallory", "does not match the sha256"),
                         ("oscar", "not part of a submission")):
        r = results[student]
        assert r["score"] == 0 and why in r["error"], (student, r["error"])
        assert [f["kind"] for f in r["flags"]] == ["refused"]


def test_nothing_is_extracted_from_the_archives(graded):
    _, _, before, subs = graded
    assert sorted(os.listdir(subs)) == before and not (subs.parent.parent / "evil.py").exists()
    assert sorted(os.listdir(subs / "carol")) == ["a1_rnn-carol.zip"]
