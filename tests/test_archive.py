"""Submission archives: `seqgrade submit` writes them, `grader.submissions.read_archive` reads them.

The grader accepts an archive only when it holds exactly the manifest and one
file for the assignment, within bounds, whose sha256 is the manifest's; all else
(links, extra files, path tricks, zip bombs, damaged or edited content, another
assignment) is refused with a message naming the archive, and recorded as that
student's error with a `refused` flag while the class is graded.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import zipfile
from dataclasses import asdict
from pathlib import Path

import pytest

from grader.archive import MANIFEST, Manifest, PublicResult, archive_name, write_archive
from grader.submissions import MAX_BYTES, Refusal, discover, read_archive

from tests.course import ASSIGNMENTS

A = ASSIGNMENTS["a1_rnn"]
SOURCE = b"import torch\n\n\nclass RNNCell(torch.nn.Module):\n    pass\n"


def manifest(student="alice", raw=SOURCE, file="rnn.py", **changes) -> dict:
    m = asdict(Manifest(student=student, assignment=A.id, file=file, sha256=hashlib.sha256(raw).hexdigest(),
                        seqgrade="0.1.0", checks_version="abc", public_checks=PublicResult(6, 6, 6.0, 6.0, 1)))
    m.update(changes)
    return m


def raw_zip(path: Path, members: list[tuple[str, bytes]], *, mode: int = 0o100644, comment: bytes = b"",
            prefix: bytes = b"") -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            zi.external_attr = mode << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
        z.comment = comment
    path.write_bytes(prefix + buf.getvalue())
    return path


def good(path: Path, student="alice", raw=SOURCE) -> Path:
    return write_archive(path, Manifest(**{**manifest(student, raw), "public_checks": None}), raw)


def read(path: Path):
    return read_archive(path.parent, [path.name], A, path.name)


# -- what submit writes is what grade reads ---------------------------------------------------

def test_written_archive_reads_back(tmp_path):
    arc = read(good(tmp_path / archive_name(A.id, "alice")))
    assert (arc.student, arc.filename, arc.raw) == ("alice", "rnn.py", SOURCE)
    assert arc.manifest["assignment"] == A.id and arc.manifest["seqgrade"] == "0.1.0"


def test_archive_has_no_time_in_it(tmp_path):
    with zipfile.ZipFile(good(tmp_path / "a.zip")) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert not any(k in json.loads(z.read(MANIFEST)) for k in ("time", "submitted_at", "created_at"))


def test_notebook_archive_reads_back(tmp_path):
    nb = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    p = raw_zip(tmp_path / "a.zip", [("rnn.ipynb", nb), (MANIFEST, json.dumps(manifest(raw=nb, file="rnn.ipynb"))
                                                          .encode())])
    assert read(p).filename == "rnn.ipynb"


# -- refused, with a message naming the archive --------------------------------------------------

def _refused(path: Path, why: str) -> None:
    with pytest.raises(Refusal) as e:
        read(path)
    assert why in str(e.value), str(e.value)
    assert str(e.value).startswith(path.name) or path.name in str(e.value)
    assert any(hint in str(e.value) for hint in ("seqgrade submit a1_rnn", "symbolic link", "larger than"))


def _members(extra=(), raw=SOURCE, m=None, name="rnn.py"):
    return [(name, raw), (MANIFEST, json.dumps(m or manifest(raw=raw)).encode())] + list(extra)


def test_an_edited_file_is_refused_by_its_hash(tmp_path):
    p = raw_zip(tmp_path / "a.zip", _members(raw=SOURCE + b"# edited\n", m=manifest()))
    _refused(p, "does not match the sha256")


@pytest.mark.parametrize("extra,why", [
    ([("notes.txt", b"hi")], "notes.txt, which is not part of a submission"),
    ([("../../etc/evil.py", b"x")], "not part of a submission"),
    ([("/abs/rnn.py", b"x")], "not part of a submission"),
    ([("sub/rnn.py", b"x")], "not part of a submission"),
    ([("rnn.py", b"second copy")], "holds exactly"),
    ([("rnn.ipynb", b"{}")], "holds exactly"),
], ids=["extra-file", "dotdot", "absolute", "subfolder", "duplicate-name", "module-and-notebook"])
def test_anything_besides_the_manifest_and_one_file_is_refused(tmp_path, extra, why):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it is asked to write
        p = raw_zip(tmp_path / "a.zip", _members(extra))
    _refused(p, why)


def test_a_member_that_is_a_link_is_refused(tmp_path):
    p = raw_zip(tmp_path / "a.zip", _members(), mode=stat.S_IFLNK | 0o777)
    _refused(p, "is not a regular file")


def test_a_symbolic_link_to_an_archive_is_refused(tmp_path):
    target = good(tmp_path / "real.zip")
    (tmp_path / "a.zip").symlink_to(target)
    with pytest.raises(Refusal, match="symbolic link"):
        read(tmp_path / "a.zip")


def test_a_zip_bomb_is_refused_before_it_inflates(tmp_path):
    bomb = b"0" * (MAX_BYTES + 1)  # 4 MiB of zeros deflate to a few KiB
    p = raw_zip(tmp_path / "a.zip", _members(raw=bomb, m=manifest(raw=bomb)))
    assert p.stat().st_size < 64 * 1024
    _refused(p, "larger than")


def test_a_member_lying_about_its_size_is_refused(tmp_path):
    """A bomb whose header declares a small size: reading stops at the declared size and the lie is caught."""
    p = raw_zip(tmp_path / "a.zip", _members())
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("rnn.py")
    cd = data.find(b"PK\x01\x02")  # the first central directory entry is rnn.py's
    data[cd + 24:cd + 28] = (10).to_bytes(4, "little")  # uncompressed size: 10 bytes
    data[info.header_offset + 22:info.header_offset + 26] = (10).to_bytes(4, "little")
    p.write_bytes(bytes(data))
    with pytest.raises(Refusal, match=r"rnn\.py (cannot be read|is not the size the archive declares)"):
        read(p)


def test_a_huge_archive_is_refused_without_reading_it(tmp_path):
    p = tmp_path / "a.zip"
    with open(p, "wb") as f:
        f.truncate(8 * 1024 * 1024)
    _refused(p, "larger than")


@pytest.mark.parametrize("how,why", [
    ("not-zip", "not a readable zip"),
    ("comment", "data besides its members"),
    ("prefix", "data besides its members"),
    ("encrypted", "encrypted"),
], ids=["not-zip", "comment", "prefixed", "encrypted"])
def test_damaged_or_disguised_archives_are_refused(tmp_path, how, why):
    p = tmp_path / "a.zip"
    if how == "not-zip":
        p.write_bytes(b"#!/bin/sh\nrm -rf ~\n")
    elif how == "comment":
        raw_zip(p, _members(), comment=b"hello")
    elif how == "prefix":
        raw_zip(p, _members(), prefix=b"MZ" + b"\0" * 100)
    else:
        raw_zip(p, _members())
        data = bytearray(p.read_bytes())
        for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            i = data.find(sig)
            data[i + off] |= 1  # general purpose flag bit 0: encrypted
        p.write_bytes(bytes(data))
    _refused(p, why)


@pytest.mark.parametrize("changes,why", [
    ({"assignment": "a2_gated"}, "for a2_gated, not a1_rnn"),
    ({"format": "something/9"}, "not a seqgrade submission manifest"),
    ({"student": "../bob"}, "is not a student id"),
    ({"student": "a\x1b[2Jb"}, "is not a student id"),
    ({"file": "gated.py"}, "names gated.py but the archive holds rnn.py"),
    ({"sha256": None}, "has no sha256"),
], ids=["other-assignment", "format", "path-id", "escape-id", "file-name", "no-hash"])
def test_a_manifest_that_does_not_fit_is_refused(tmp_path, changes, why):
    p = raw_zip(tmp_path / "a.zip", _members(m=manifest(**changes)))
    _refused(p, why)


def test_a_manifest_that_is_not_json_is_refused(tmp_path):
    p = raw_zip(tmp_path / "a.zip", [("rnn.py", SOURCE), (MANIFEST, b"{not json")])
    _refused(p, "not valid JSON")


def test_refusal_messages_show_control_characters_escaped(tmp_path):
    p = raw_zip(tmp_path / "a.zip", _members(m=manifest(assignment="a\x1b[31mx")))
    with pytest.raises(Refusal) as e:
        read(p)
    assert "\x1b" not in str(e.value) and "\\x1b" in str(e.value)


# -- a class of archives -------------------------------------------------------------------------

def test_folder_of_archives_gives_one_job_per_student_from_the_manifest(tmp_path):
    good(tmp_path / archive_name(A.id, "alice"), "alice")
    good(tmp_path / "whatever-the-platform-called-it.zip", "bob", SOURCE + b"# bob\n")
    jobs = discover(tmp_path, A)
    assert [j.student for j in jobs] == ["alice", "bob"]
    assert jobs[0].source == SOURCE.decode() and jobs[0].content_hash == hashlib.sha256(SOURCE).hexdigest()
    assert jobs[1].filename == "whatever-the-platform-called-it.zip/rnn.py"
    assert not jobs[0].error and not jobs[0].flags


def test_a_refused_archive_is_that_students_error_and_flag_only(tmp_path):
    good(tmp_path / archive_name(A.id, "alice"), "alice")
    raw_zip(tmp_path / archive_name(A.id, "bob"), _members([("evil.sh", b"x")], m=manifest("bob")))
    alice, bob = discover(tmp_path, A)
    assert alice.source is not None
    assert bob.student == "bob" and bob.source is None and "evil.sh" in bob.error
    assert [f.kind for f in bob.flags] == ["refused"]


def test_two_archives_for_one_student_are_both_errors(tmp_path):
    good(tmp_path / "one.zip", "alice")
    good(tmp_path / "two.zip", "Alice", SOURCE + b"#\n")
    jobs = discover(tmp_path, A)
    assert all(j.source is None and "duplicate student id" in j.error for j in jobs)


def test_an_archive_in_a_student_folder_is_graded_as_that_student(tmp_path):
    (tmp_path / "alice").mkdir()
    good(tmp_path / "alice" / archive_name(A.id, "alice"), "alice")
    (job,) = discover(tmp_path, A)
    assert job.student == "alice" and job.source == SOURCE.decode()


def test_an_archive_naming_another_student_in_a_folder_is_refused(tmp_path):
    (tmp_path / "bob").mkdir()
    good(tmp_path / "bob" / archive_name(A.id, "alice"), "alice")
    (job,) = discover(tmp_path, A)
    assert job.student == "bob" and job.source is None
    assert "alice's submission" in job.error and job.flags[0].kind == "refused"


def test_nothing_is_extracted_next_to_the_archive(tmp_path):
    good(tmp_path / "a.zip", "alice")
    before = sorted(os.listdir(tmp_path))
    discover(tmp_path, A)
    assert sorted(os.listdir(tmp_path)) == before


def test_discover_hands_over_the_accepted_archives_only(tmp_path):
    """What `seqgrade nbgrader collect-archives` writes: each accepted archive, by student; none refused."""
    good(tmp_path / archive_name(A.id, "alice"), "alice")
    raw_zip(tmp_path / archive_name(A.id, "bob"), _members([("evil.sh", b"x")], m=manifest("bob")))
    (tmp_path / "carol").mkdir()
    good(tmp_path / "carol" / "mine.zip", "carol", SOURCE + b"# carol\n")
    kept = {}
    jobs = discover(tmp_path, A, kept)
    assert [j.student for j in jobs] == ["alice", "bob", "carol"]
    assert set(kept) == {"alice", "carol"} and kept["carol"].raw == SOURCE + b"# carol\n"


def test_an_archive_named_for_one_student_holding_anothers_manifest_is_refused(tmp_path):
    good(tmp_path / archive_name(A.id, "alice"), "alice")
    good(tmp_path / archive_name(A.id, "mallory"), "alice", SOURCE + b"# mallory's\n")
    alice, mallory = sorted(discover(tmp_path, A), key=lambda j: j.student)
    assert alice.student == "alice" and alice.source == SOURCE.decode() and not alice.error
    assert mallory.student == "mallory" and mallory.source is None and "named for mallory" in mallory.error
    assert [f.kind for f in mallory.flags] == ["refused"]


@pytest.mark.parametrize("impostor_first", [True, False], ids=["impostor-read-first", "impostor-read-last"])
def test_an_archive_naming_a_classmate_cannot_displace_the_one_named_for_them(tmp_path, impostor_first):
    """mallory hands in, under a name of her own, an archive whose manifest says alice: alice's archive (named
    for her, as `seqgrade submit` names it) is graded; mallory's is refused on a row of its own."""
    impostor = "0-first.zip" if impostor_first else "zz-last.zip"
    good(tmp_path / impostor, "alice", SOURCE + b"# not alice's\n")
    good(tmp_path / archive_name(A.id, "alice"), "alice")
    kept: dict = {}
    jobs = discover(tmp_path, A, kept=kept)
    (alice,) = [j for j in jobs if j.student == "alice"]
    assert alice.source == SOURCE.decode() and not alice.error and not alice.flags
    (refused,) = [j for j in jobs if j is not alice]
    assert refused.source is None and refused.student == f"{impostor} (refused)"
    assert "named for alice" in refused.error and [f.kind for f in refused.flags] == ["refused"]
    assert set(kept) == {"alice"} and kept["alice"].raw == SOURCE
