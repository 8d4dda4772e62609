"""Submission archives: what ``seqgrade submit`` writes and ``seqgrade grade`` accepts.

An archive is a zip of exactly two members: the student's file (``<module>.py``
or ``<module>.ipynb``) and ``seqgrade-submission.json``, the manifest: the
student id, assignment, file name, the file's sha256, seqgrade's and the
public checks' versions, and the public-check result on the student's machine.

Everything in an archive is the student's: the grader reads it only through
`grader.submissions.read_archive` (bounded, in memory, never extracted), checks
the hash, and grades the file itself. The manifest's public-check result is
shown to nobody as a grade and no time is taken from it (there is none in it):
late penalties use the times the grader trusts (`grader.times`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT = "seqgrade-submission/1"
MANIFEST = "seqgrade-submission.json"
SUFFIX = ".zip"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
MAX_MANIFEST_BYTES = 64 * 1024
EPOCH = (1980, 1, 1, 0, 0, 0)  # no time in an archive: nothing there could be mistaken for a submission time


@dataclass(frozen=True)
class PublicResult:
    """The public checks' result on the student's machine (informative only: never graded)."""

    passed: int
    total: int
    score: float
    max_score: float
    seed: int


@dataclass(frozen=True)
class Manifest:
    student: str
    assignment: str
    file: str  # "gated.py" or "gated.ipynb"
    sha256: str  # of the file's bytes
    seqgrade: str  # the version that wrote the archive
    checks_version: str  # of the public checks it ran
    public_checks: PublicResult | None = None
    format: str = FORMAT
    note: str = field(default="written by `seqgrade submit`; the grader grades the file itself and trusts "
                              "nothing else in this archive")


def archive_name(assignment: str, student: str) -> str:
    return f"{assignment}-{student}{SUFFIX}"


def write_archive(path: Path, manifest: Manifest, raw: bytes) -> Path:
    """Write the archive atomically (a crash never leaves half a file); its path."""
    if hashlib.sha256(raw).hexdigest() != manifest.sha256:
        raise ValueError("the manifest's sha256 is not the file's")
    data = asdict(manifest)
    members = [(manifest.file, raw),
               (MANIFEST, (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members:
            zi = zipfile.ZipInfo(name, EPOCH)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, content)
    os.replace(tmp, path)
    return path
