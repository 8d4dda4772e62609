"""Find the submissions of a class: one folder per student holding `<module>.py` or a notebook.

Reading never raises for one student's problem: an unreadable notebook, a
wrongly named file or a duplicate id becomes a `Job` with an error, graded as
zero with that message, while the rest of the class is graded normally.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

from ..catalog import Assignment
from ..checks.plugin import Job
from ..errors import SubmissionsError

NBGRADER_TIMESTAMP = "timestamp.txt"


def notebook_to_module(text: str, name: str) -> str:
    """The code cells of a notebook as one module; IPython magics and shell lines commented out.

    nbgrader's autograder test cells are left out: they hold the course's checks, not student code.
    """
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} is not a valid notebook (JSON error at line {exc.lineno}: {exc.msg})") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"{name} is not a valid notebook (no list of cells)")
    parts = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        nbg = (cell.get("metadata") or {}).get("nbgrader") or {}
        if isinstance(nbg, dict) and nbg.get("grade") and not nbg.get("solution"):
            continue  # an nbgrader test cell: the checks are the grader's, not part of the module
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        lines = []
        for line in src.splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")):
                line = line[: len(line) - len(stripped)] + "# (notebook magic) " + stripped
            lines.append(line)
        parts.append(f"# --- cell {i + 1}\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _submitted_at(folder: Path, file: Path, mode: str) -> str:
    if mode == "nbgrader":
        ts = folder / NBGRADER_TIMESTAMP
        if ts.is_file():
            raw = ts.read_text(encoding="utf-8", errors="replace").strip()
            for fmt in ("%Y-%m-%d %H:%M:%S.%f %Z", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S %Z",
                        "%Y-%m-%d %H:%M:%S"):
                try:
                    dt = datetime.strptime(raw, fmt)
                    return dt.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")
                except ValueError:
                    pass
            try:
                dt = datetime.fromisoformat(raw)
                dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
                return dt.astimezone(timezone.utc).isoformat(timespec="seconds")
            except ValueError:
                pass
    return datetime.fromtimestamp(file.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")


def _student_id(raw: str) -> str | None:
    """The folder name as a student id; None when it is not valid UTF-8."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes: not UTF-8
        return None
    return unicodedata.normalize("NFC", raw)


def discover(folder: Path, assignment: Assignment, submission_time: str = "mtime") -> list[Job]:
    """One Job per student folder, sorted by student id."""
    folder = Path(folder)
    if not folder.exists():
        raise SubmissionsError(f"the submissions folder {folder} does not exist")
    if not folder.is_dir():
        raise SubmissionsError(f"{folder} is not a folder: give the folder that holds one folder per student")
    entries = sorted(os.listdir(folder))
    students = [e for e in entries if (folder / e).is_dir() and not e.startswith(".")]
    stray = [e for e in entries if (folder / e).is_file() and e.endswith((".py", ".ipynb"))]
    if not students:
        hint = (f" (it holds {', '.join(stray[:3])}: put each student's file in a folder named after the "
                f"student, e.g. {folder}/alice/{assignment.filename})") if stray else ""
        raise SubmissionsError(f"the submissions folder {folder} has no student folders{hint}")
    jobs: list[Job] = []
    seen: dict[str, str] = {}
    for raw in students:
        sid = _student_id(raw)
        path = folder / raw
        if sid is None:
            safe = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            jobs.append(Job(safe, assignment.module, None, filename=str(path),
                            error=f"the folder name {safe!r} is not valid UTF-8: rename it to the student's id"))
            continue
        key = sid.casefold()
        if key in seen:
            msg = (f"duplicate student id: the folders {seen[key]!r} and {raw!r} name the same student; "
                   "merge or rename one and grade again")
            jobs.append(Job(sid, assignment.module, None, filename=str(path), error=msg))
            for j in jobs:
                if j.student.casefold() == key and j.source is not None:
                    j.source, j.error = None, msg
            continue
        seen[key] = raw
        jobs.append(_job(sid, path, assignment, submission_time))
    return jobs


def _job(student: str, path: Path, assignment: Assignment, submission_time: str) -> Job:
    module_file = path / assignment.filename
    notebooks = sorted(path.glob("*.ipynb"))
    if module_file.is_file():
        file = module_file
    elif len(notebooks) == 1:
        file = notebooks[0]
    elif len(notebooks) > 1:
        names = ", ".join(n.name for n in notebooks)
        return Job(student, assignment.module, None, filename=str(path),
                   error=f"{path.name}/ holds several notebooks ({names}); keep only the one to grade")
    else:
        others = sorted(p.name for p in path.iterdir() if p.is_file() and p.suffix == ".py")
        near = [o for o in others if o.lower() == assignment.filename.lower() or assignment.module in o.lower()]
        hint = (f"; rename {near[0]} to {assignment.filename}" if near else
                f" (found: {', '.join(others[:5])})" if others else " (the folder has no Python file)")
        return Job(student, assignment.module, None, filename=str(path),
                   error=f"no {assignment.filename} or notebook in {path.name}/{hint}")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        return Job(student, assignment.module, None, filename=str(file), error=f"cannot read {file}: {exc.strerror}")
    content_hash = hashlib.sha256(raw).hexdigest()
    submitted = _submitted_at(path, file, submission_time)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Job(student, assignment.module, None, filename=str(file), content_hash=content_hash,
                   submitted_at=submitted,
                   error=f"{path.name}/{file.name} is not UTF-8 text (byte {exc.start}): save it as UTF-8")
    if file.suffix == ".ipynb":
        try:
            text = notebook_to_module(text, f"{path.name}/{file.name}")
        except ValueError as exc:
            return Job(student, assignment.module, None, filename=str(file), content_hash=content_hash,
                       submitted_at=submitted, error=str(exc))
    return Job(student, assignment.module, text, filename=f"{path.name}/{file.name}",
               content_hash=content_hash, submitted_at=submitted)
