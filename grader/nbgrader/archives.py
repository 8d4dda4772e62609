"""``seqgrade nbgrader collect-archives``: `seqgrade submit` archives into nbgrader's ``submitted/`` folder.

A student who works outside JupyterHub hands in the archive ``seqgrade submit``
writes (the notebook, the student id, the notebook's sha256). This puts each
accepted archive's notebook where ``nbgrader collect`` would have put it,
``submitted/<student>/<assignment>/<notebook>.ipynb``, beside a
``timestamp.txt`` holding the time of collection (an archive carries no time),
so ``seqgrade nbgrader autograde`` grades it like every other submission.

The archives are read by `grader.submissions.discover`, under its rules: a
folder of archives (the student is the one the manifest names) or one folder
per student holding its archive (the manifest must name that student); the
hash is verified, nothing but the manifest and one file is accepted, no link is
followed, nothing is extracted. A refused archive, an archive of a ``.py``
module (nbgrader grades notebooks), two archives for one student or an id that
cannot be an nbgrader student is that student's problem, reported with its
reason, and the others are collected all the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import escape
from ..config import load_config
from ..errors import ConfigError, SubmissionsError
from . import config as nbconfig


@dataclass
class Collection:
    """What one run did, by student id (ids and reasons already printable)."""

    collected: list[str] = field(default_factory=list)  # written (new or changed)
    unchanged: list[str] = field(default_factory=list)  # the same notebook was already there
    problems: list[tuple[str, str]] = field(default_factory=list)  # (student, why it was not collected)


def collect_archives(course_dir: Path, item_id: str, folder: Path) -> Collection:
    """Each accepted archive of `folder` into `course_dir`'s submitted/ folder for nbgrader assignment `item_id`."""
    from nbgrader.coursedir import CourseDirectory

    from ..archive import STUDENT_ID
    from ..submissions import Archive, discover

    course_dir = Path(course_dir).resolve()
    manifest = nbconfig.read_manifest(course_dir)
    item = manifest.item(item_id)
    if item.kind != "assignment":
        raise ConfigError(f"{item_id!r} is a quiz: `seqgrade submit` archives hold assignments only")
    assignment = load_config(manifest.course_config).assignment(item_id)
    nb_cfg = nbconfig.load_nbgrader_config(course_dir)
    coursedir = CourseDirectory(config=nb_cfg)
    if "root" not in nb_cfg.get("CourseDirectory", {}):
        coursedir.root = str(course_dir)

    kept: dict[str, Archive] = {}
    jobs = discover(Path(folder), assignment, kept)
    out = Collection()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")  # nbgrader's timestamp.txt format
    for job in jobs:
        arc = kept.get(job.student)
        if job.source is None:
            out.problems.append((job.student, job.error))
        elif arc is None:
            out.problems.append((job.student, f"{job.filename} is not in a `seqgrade submit` archive: "
                                              "`nbgrader collect` copies plain notebooks"))
        elif not arc.filename.endswith(".ipynb"):
            out.problems.append((job.student, f"{job.filename}: nbgrader grades notebooks; submit the notebook "
                                              f"(`seqgrade submit {assignment.id} {assignment.module}.ipynb "
                                              "--student ID`) or grade this file with `seqgrade grade`"))
        elif not STUDENT_ID.match(job.student):
            out.problems.append((job.student, f"{escape.name(job.student)!r} cannot be an nbgrader student id: "
                                              "use letters, digits and _ . @ -"))
        else:
            dest = Path(coursedir.format_path(coursedir.submitted_directory, job.student, item_id))
            try:
                changed = _write(dest, f"{item.notebook}.ipynb", arc.raw, stamp)
            except (OSError, SubmissionsError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                out.problems.append((job.student, f"cannot write {dest}: {escape.one_line(why, 200)}"))
                continue
            (out.collected if changed else out.unchanged).append(job.student)
    return out


def _write(dest: Path, name: str, raw: bytes, stamp: str) -> bool:
    """The notebook into `dest` (replaced atomically, timestamp beside it); False when it was already there."""
    for p in (dest.parent, dest, dest / name):
        if p.is_symlink():
            raise SubmissionsError(f"{p} is a symbolic link: remove it, nothing is written through a link")
    target = dest / name
    if target.is_file() and target.read_bytes() == raw:
        return False
    dest.mkdir(parents=True, exist_ok=True)
    for file, data in ((target, raw), (dest / "timestamp.txt", stamp.encode("utf-8"))):
        tmp = file.with_name(f".{file.name}.seqgrade-tmp")
        tmp.write_bytes(data)
        os.replace(tmp, file)
    return True
