"""Reading submissions: the one place where the grader touches files a student controls.

Every path that grades (``seqgrade grade``, ``seqgrade check``, ``seqgrade
nbgrader autograde``, quiz answers files, the demo) reads student files
through this module, and its rules hold for all of them:

- a submission is read only as a regular file inside its own folder: no
  symbolic link at any level, no device or FIFO, at most `MAX_BYTES` (each
  component is opened with ``O_NOFOLLOW`` relative to its parent, so nothing
  can be swapped in between the check and the read). Anything else is that
  student's clear error (a `Refusal`, recorded as a ``refused`` flag the
  instructor sees), and the target is never read;
- a notebook is parsed defensively (size, nesting depth, the type of every
  field it uses): a malformed one is that student's error;
- a ``seqgrade submit`` archive (`read_archive`) is read whole into memory
  under the same rules, its members checked against an allow-list and size
  bounds before anything is decompressed past them, and its file against the
  manifest's hash; it is never extracted. Its manifest is the student's word:
  nothing in it grades (see `grader.archive`);
- one student's problem never raises out of `discover`: it becomes a `Job`
  with an error, graded as zero with that message, while the rest of the
  class is graded normally. Only a folder that cannot be graded at all
  (missing, empty) raises.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from . import escape
from .catalog import Assignment
from .errors import SubmissionsError
from .jobs import Job
from .results import Flag

MAX_BYTES = 4 * 1024 * 1024  # a module or notebook; larger is not a submission
MAX_NOTEBOOK_DEPTH = 64  # JSON nesting a notebook needs is < 10
MAX_ENTRIES = 1000  # files in one student folder


class Refusal(Exception):
    """The grader will not read this file (a link, not a regular file, too large); the message says why."""

    def __init__(self, message: str, where: str):
        super().__init__(message)
        self.where = where

    def flag(self) -> Flag:
        return Flag("refused", self.where, str(self))


# --------------------------------------------------------------------------- safe files
def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_regular_file(root: Path, parts: Iterable[str], *, max_bytes: int = MAX_BYTES,
                      what: str | None = None) -> bytes:
    """The bytes of ``root/parts...``, a regular file reached through real folders only.

    `root` is the instructor's folder (trusted); every component below it is
    the student's and is opened with O_NOFOLLOW relative to its parent. Raises
    `Refusal` naming `what` (default: the relative path) for a link at any
    level, a non-regular file, or a file over `max_bytes`.
    """
    parts = [str(p) for p in parts]
    shown = escape.name(what or "/".join(parts))
    flags_dir = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, part in enumerate(parts):
            if part in ("", ".", "..") or "/" in part or "\0" in part:
                raise Refusal(f"{shown}: the path is not a plain file name", shown)
            last = i == len(parts) - 1
            try:
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                raise
            if stat.S_ISLNK(st.st_mode):
                raise Refusal(f"{shown} is a symbolic link: submit the file itself, not a link to it", shown)
            if not last:
                if not stat.S_ISDIR(st.st_mode):
                    raise Refusal(f"{shown}: {escape.name(part)} is {_kind(st.st_mode)}, not a folder", shown)
                new = os.open(part, flags_dir, dir_fd=fd)
                os.close(fd)
                fd = new
                continue
            if not stat.S_ISREG(st.st_mode):
                raise Refusal(f"{shown} is {_kind(st.st_mode)}: submit a regular file", shown)
            if st.st_size > max_bytes:
                raise Refusal(f"{shown} is larger than the {max_bytes // 1024} KiB a submission may have "
                              f"({st.st_size // 1024} KiB)", shown)
            try:
                ffd = os.open(part, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise Refusal(f"{shown} is a symbolic link: submit the file itself", shown) from None
                raise
            try:
                fst = os.fstat(ffd)
                if not stat.S_ISREG(fst.st_mode) or (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
                    raise Refusal(f"{shown} changed while it was being read", shown)
                chunks, size = [], 0
                while True:
                    chunk = os.read(ffd, 1 << 20)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > max_bytes:
                        raise Refusal(f"{shown} is larger than the {max_bytes // 1024} KiB a submission may "
                                      "have", shown)
                    chunks.append(chunk)
                return b"".join(chunks)
            finally:
                os.close(ffd)
        raise Refusal(f"{shown}: no file name given", shown)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # file | dir | link | other


def list_folder(folder: Path) -> list[Entry]:
    """The entries of `folder`, without following any link (their kind as lstat sees it)."""
    out = []
    with os.scandir(folder) as it:
        for i, e in enumerate(it):
            if i >= MAX_ENTRIES:
                break
            if e.is_symlink():
                kind = "link"
            elif e.is_dir(follow_symlinks=False):
                kind = "dir"
            elif e.is_file(follow_symlinks=False):
                kind = "file"
            else:
                kind = "other"
            out.append(Entry(e.name, kind))
    return sorted(out, key=lambda e: e.name)


def refusals_in(folder: Path, where: str, depth: int = 0) -> list[Refusal]:
    """Every link, device, FIFO or socket anywhere in a submission folder (nbgrader copies the folder)."""
    found = []
    try:
        entries = list_folder(folder)
    except OSError as exc:
        return [Refusal(f"{where} cannot be listed ({exc.strerror})", where)]
    for e in entries:
        shown = f"{where}/{escape.name(e.name)}"
        if e.kind == "link":
            found.append(Refusal(f"{shown} is a symbolic link: submit files, not links", shown))
        elif e.kind == "other":
            found.append(Refusal(f"{shown} is not a regular file (a device, FIFO or socket)", shown))
        elif e.kind == "dir":
            if depth >= 8:
                found.append(Refusal(f"{shown}: folders nested too deeply", shown))
            else:
                found += refusals_in(folder / e.name, shown, depth + 1)
    return found


# --------------------------------------------------------------------------- notebooks
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def _depth_ok(text: str, limit: int) -> bool:
    """Whether the JSON text nests at most `limit` levels (strings skipped), checked before parsing it."""
    depth = 0
    for m in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if m.group(0) in "[{":
            depth += 1
            if depth > limit:
                return False
        else:
            depth -= 1
    return True


def parse_notebook(text: str, name: str) -> dict[str, Any]:
    """A notebook's JSON as a dict whose ``cells`` is a list, or ValueError saying what is wrong."""
    shown = escape.name(name)
    if not _depth_ok(text, MAX_NOTEBOOK_DEPTH):
        raise ValueError(f"{shown} is not a valid notebook (its JSON nests more than {MAX_NOTEBOOK_DEPTH} "
                         "levels deep)")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{shown} is not a valid notebook (JSON error at line {exc.lineno}: {exc.msg})") from None
    except (RecursionError, ValueError) as exc:
        raise ValueError(f"{shown} is not a valid notebook ({type(exc).__name__})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{shown} is not a valid notebook (no list of cells)")
    return nb


def _text(value: Any, name: str, i: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    raise ValueError(f"{escape.name(name)} is not a valid notebook (cell {i + 1}: its source is not text)")


def is_test_cell(cell: dict) -> bool:
    """An nbgrader autograder test cell (the course's checks, not student code)."""
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return isinstance(nbg, dict) and bool(nbg.get("grade")) and not nbg.get("solution")


def notebook_module(nb: dict[str, Any], name: str) -> str:
    """The code cells of a parsed notebook as one module; magics and shell lines commented out.

    nbgrader's autograder test cells are left out: they hold the course's checks, not student code.
    """
    parts = []
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict):
            raise ValueError(f"{escape.name(name)} is not a valid notebook (cell {i + 1} is not a mapping)")
        if not isinstance(cell.get("metadata", {}), dict):
            raise ValueError(f"{escape.name(name)} is not a valid notebook (cell {i + 1}: its metadata is not a "
                             "mapping)")
        if cell.get("cell_type") != "code" or is_test_cell(cell):
            continue
        src = _text(cell.get("source", ""), name, i)
        lines = []
        for line in src.splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")):
                line = line[: len(line) - len(stripped)] + "# (notebook magic) " + stripped
            lines.append(line)
        parts.append(f"# --- cell {i + 1}\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


def notebook_to_module(text: str, name: str) -> str:
    """`notebook_module` of a notebook's text; ValueError naming `name` when it is not a valid notebook."""
    return notebook_module(parse_notebook(text, name), name)


# --------------------------------------------------------------------------- one student's file
@dataclass
class Read:
    """A student file read under the rules above: its module source, or why there is none."""

    source: str | None
    content_hash: str = ""
    error: str = ""
    flags: list[Flag] | None = None


def read_module(root: Path, parts: list[str], shown: str) -> Read:
    """A ``.py`` or ``.ipynb`` submission as module source; never raises for the file's content."""
    try:
        raw = read_regular_file(root, parts, what=shown)
    except Refusal as exc:
        return Read(None, error=str(exc), flags=[exc.flag()])
    except FileNotFoundError:
        return Read(None, error=f"{shown} does not exist")
    except OSError as exc:
        return Read(None, error=f"cannot read {shown}: {exc.strerror}")
    return module_from_bytes(raw, parts[-1], shown)


def module_from_bytes(raw: bytes, filename: str, shown: str) -> Read:
    """The module source of a submitted file's bytes (a notebook's code cells); never raises for its content."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Read(None, digest, f"{shown} is not UTF-8 text (byte {exc.start}): save it as UTF-8")
    if filename.endswith(".ipynb"):
        try:
            text = notebook_to_module(text, shown)
        except ValueError as exc:
            return Read(None, digest, str(exc))
        except Exception as exc:  # noqa: BLE001 - whatever else a hostile notebook triggers stays this student's
            return Read(None, digest, f"{shown} is not a valid notebook ({type(exc).__name__})")
    if "\0" in text:
        return Read(None, digest, f"{shown} contains a NUL character: it is not a Python source file")
    return Read(text, digest)


def read_student_file(path: Path) -> Read:
    """A student's own file given on the command line (``seqgrade check``), under the same rules."""
    path = Path(path)
    return read_module(path.parent if str(path.parent) else Path("."), [path.name], str(path))


# --------------------------------------------------------------------------- submission archives
MAX_ARCHIVE_BYTES = MAX_BYTES + 512 * 1024  # the zip itself: one file of at most MAX_BYTES, compressed, and a manifest


@dataclass(frozen=True)
class Archive:
    """A `seqgrade submit` archive whose file matches its manifest's hash. All of it is the student's."""

    student: str  # the id the manifest gives (checked as an id; who it really is the caller decides)
    filename: str  # the file inside: "<module>.py" or "<module>.ipynb"
    raw: bytes  # its bytes
    manifest: dict[str, Any]  # everything the manifest says: informative only, never graded


def read_archive(root: Path, parts: list[str], assignment: Assignment, shown: str) -> Archive:
    """The archive at ``root/parts...``, read in memory under this module's rules; `Refusal` for anything else.

    Refused: a link or non-regular file (as every submission), more than
    `MAX_ARCHIVE_BYTES`, not a zip, data before the first member, a comment,
    any member but the manifest and one ``<module>.py`` or ``<module>.ipynb``
    (folders, links, other names, paths, duplicates), encryption, a compression
    other than stored or deflate, a member over its bound (declared or actual:
    no zip bomb inflates past it), a manifest that is not the expected JSON, one
    for another assignment, a student id that is not an id, and a file whose
    sha256 is not the manifest's. Nothing is extracted to disk.
    """
    import io
    import zipfile

    from .archive import FORMAT, MANIFEST, MAX_MANIFEST_BYTES, STUDENT_ID

    raw = read_regular_file(root, parts, max_bytes=MAX_ARCHIVE_BYTES, what=shown)

    def refuse(why: str) -> Refusal:
        return Refusal(f"{shown}: {why}; submit again with `seqgrade submit {assignment.id} "
                       f"{assignment.filename} --student ID`", shown)

    try:
        z = zipfile.ZipFile(io.BytesIO(raw))
        infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise refuse("not a submission archive (not a readable zip file)") from None
    allowed = {MANIFEST: MAX_MANIFEST_BYTES, f"{assignment.module}.py": MAX_BYTES,
               f"{assignment.module}.ipynb": MAX_BYTES}
    names = [i.filename for i in infos]
    if z.comment or (infos and min(i.header_offset for i in infos) != 0):
        raise refuse("the zip holds data besides its members (a comment or bytes before them)")
    others = [n for n in names if n not in allowed]
    if others:
        raise refuse(f"it holds {escape.name(others[0])}, which is not part of a submission (only "
                     f"{MANIFEST} and {assignment.filename} or a notebook)")
    if len(names) != len(set(names)) or len(names) != 2 or MANIFEST not in names:
        raise refuse(f"a submission archive holds exactly {MANIFEST} and one file ({assignment.filename} or "
                     f"{assignment.module}.ipynb); this one holds {len(names)} member(s)")
    contents: dict[str, bytes] = {}
    for info in infos:
        limit = allowed[info.filename]
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0: no Unix mode recorded (Windows tools)
        if info.is_dir() or kind not in (0, stat.S_IFREG):
            raise refuse(f"{escape.name(info.filename)} is not a regular file")
        if info.flag_bits & 0x1:
            raise refuse(f"{escape.name(info.filename)} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refuse(f"{escape.name(info.filename)} uses a compression other than deflate")
        if info.file_size > limit:
            raise refuse(f"{escape.name(info.filename)} is larger than {limit // 1024} KiB")
        try:
            with z.open(info) as f:
                data = f.read(limit + 1)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError):
            raise refuse(f"{escape.name(info.filename)} cannot be read (a damaged archive)") from None
        if len(data) > limit or len(data) != info.file_size:
            raise refuse(f"{escape.name(info.filename)} is not the size the archive declares")
        contents[info.filename] = data
    try:
        manifest = json.loads(contents[MANIFEST].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise refuse(f"{MANIFEST} is not valid JSON") from None
    filename = next(n for n in names if n != MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise refuse(f"{MANIFEST} is not a seqgrade submission manifest ({FORMAT})")
    for key in ("student", "assignment", "file", "sha256"):
        if not isinstance(manifest.get(key), str):
            raise refuse(f"{MANIFEST} has no {key}")
    if manifest["assignment"] != assignment.id:
        raise refuse(f"it is a submission for {escape.name(manifest['assignment'])}, not {assignment.id}")
    if manifest["file"] != filename:
        raise refuse(f"{MANIFEST} names {escape.name(manifest['file'])} but the archive holds "
                     f"{escape.name(filename)}")
    if not STUDENT_ID.match(manifest["student"]):
        raise refuse(f"{escape.name(manifest['student'])!r} is not a student id")
    if hashlib.sha256(contents[filename]).hexdigest() != manifest["sha256"].lower():
        raise refuse(f"{escape.name(filename)} does not match the sha256 its manifest gives (it was changed after "
                     "`seqgrade submit` wrote the archive, or the archive is damaged)")
    return Archive(manifest["student"], filename, contents[filename], manifest)


# --------------------------------------------------------------------------- a class
def _student_id(raw: str) -> str | None:
    """The folder name as a student id; None when it is not valid UTF-8."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes: not UTF-8
        return None
    return unicodedata.normalize("NFC", raw)


def discover(folder: Path, assignment: Assignment, kept: dict[str, Archive] | None = None) -> list[Job]:
    """One Job per student folder or archive (submission times are set by the caller).

    `kept`, when given, receives each accepted archive by its job's student
    id (`seqgrade nbgrader collect-archives` writes their files where nbgrader
    looks); a job whose source is None was not accepted, whatever it holds.
    """
    folder = Path(folder)
    if not folder.exists():
        raise SubmissionsError(f"the submissions folder {folder} does not exist")
    if not folder.is_dir():
        raise SubmissionsError(f"{folder} is not a folder: give the folder that holds one folder per student")
    entries = list_folder(folder)
    archives = [e for e in entries if e.kind in ("file", "link") and e.name.endswith(_ARCHIVE)
                and not e.name.startswith(".")]
    students = [e for e in entries if e.kind in ("dir", "link") and not e.name.startswith(".") and e not in archives]
    stray = [e.name for e in entries if e.kind == "file" and e.name.endswith((".py", ".ipynb"))]
    if not students and not archives:
        hint = (f" (it holds {', '.join(escape.name(s) for s in stray[:3])}: put each student's file in a folder "
                f"named after the student, e.g. {folder}/alice/{assignment.filename})") if stray else ""
        raise SubmissionsError(f"the submissions folder {folder} has no student folders or submission "
                               f"archives{hint}")
    jobs: list[Job] = []
    seen: dict[str, str] = {}
    for entry in students:
        try:
            jobs.append(_student_job(folder, entry, assignment, seen, jobs, kept))
        except Exception as exc:  # noqa: BLE001 - one folder never stops the class
            sid = escape.name(entry.name)
            jobs.append(Job(sid, assignment.module, None, filename=sid,
                            error=f"{sid}/ could not be read ({type(exc).__name__}: {escape.one_line(exc, 200)})"))
    for entry in archives:
        try:
            jobs.append(_archive_job(folder, entry, assignment, seen, jobs, kept))
        except Exception as exc:  # noqa: BLE001 - one archive never stops the class
            shown = escape.name(entry.name)
            jobs.append(Job(_archive_owner(entry.name, assignment), assignment.module, None, filename=shown,
                            error=f"{shown} could not be read ({type(exc).__name__}: {escape.one_line(exc, 200)})"))
    return sorted(jobs, key=lambda j: j.student) if archives else jobs


_ARCHIVE = ".zip"  # grader.archive.SUFFIX


def _archive_owner(name: str, assignment: Assignment) -> str:
    """Whose archive a refused one is, for its error row: the name `seqgrade submit` gave, less the assignment."""
    stem = name[: -len(_ARCHIVE)] if name.endswith(_ARCHIVE) else name
    prefix = f"{assignment.id}-"
    return escape.name(stem[len(prefix):] if stem.startswith(prefix) and len(stem) > len(prefix) else stem)


def _archive_job(folder: Path, entry: Entry, assignment: Assignment, seen: dict[str, str], jobs: list[Job],
                 kept: dict[str, Archive] | None) -> Job:
    """One archive in a folder of archives: its student is the one its manifest names (see docs/security.md)."""
    shown = escape.name(entry.name)
    owner = _archive_owner(entry.name, assignment)
    try:
        arc = read_archive(folder, [entry.name], assignment, shown)
    except Refusal as exc:
        return Job(owner, assignment.module, None, filename=shown, error=str(exc), flags=[exc.flag()],
                   origin=entry.name)
    except OSError as exc:
        return Job(owner, assignment.module, None, filename=shown, error=f"cannot read {shown}: {exc.strerror}")
    sid = unicodedata.normalize("NFC", arc.student)
    key = sid.casefold()
    named = _named_for(entry.name, assignment)
    if named is not None and named.casefold() != key:  # a file named for one student holding another's work
        refusal = Refusal(f"{shown} is named for {escape.name(named)} but its manifest names {escape.name(sid)}: "
                          "an archive is graded only as the student its name and its manifest both give", shown)
        return Job(owner, assignment.module, None, filename=shown, error=str(refusal), flags=[refusal.flag()],
                   origin=entry.name)
    if key in seen:
        # the archive named for this student (as `seqgrade submit` names it) wins over one the student's id
        # appears in only: another student cannot displace a classmate's submission with an archive of theirs
        earlier_named = _named_for(seen[key], assignment) is not None
        if named is not None and not earlier_named:
            for j in jobs:
                if j.student.casefold() == key:
                    _refuse_impostor(j, seen[key], shown, sid, assignment, kept)
            seen[key] = entry.name
            return _archive_contents(sid, arc, folder, [entry.name], shown, assignment, entry.name, kept)
        if earlier_named and named is None:
            job = Job(sid, assignment.module, None)
            _refuse_impostor(job, entry.name, escape.name(seen[key]), sid, assignment, kept)
            return job
        msg = (f"duplicate student id: {escape.name(seen[key])!r} and {shown!r} both hold {escape.name(sid)}'s "
               "submission; keep one and grade again")
        for j in jobs:
            if j.student.casefold() == key and j.source is not None:
                j.source, j.error = None, msg
        return Job(sid, assignment.module, None, filename=shown, error=msg)
    seen[key] = entry.name
    return _archive_contents(sid, arc, folder, [entry.name], shown, assignment, entry.name, kept)


def _named_for(name: str, assignment: Assignment) -> str | None:
    """The student an archive's file name gives when it is named as `seqgrade submit` names it
    (``<assignment>-<student>.zip``); None for any other name (a platform's own)."""
    prefix = f"{assignment.id}-"
    if not (name.startswith(prefix) and name.endswith(_ARCHIVE)) or len(name) <= len(prefix) + len(_ARCHIVE):
        return None
    return unicodedata.normalize("NFC", name[len(prefix): -len(_ARCHIVE)])


def _refuse_impostor(job: Job, name: str, winner: str, sid: str, assignment: Assignment,
                     kept: dict[str, Archive] | None) -> None:
    """Turn `job` (from archive `name`, which names `sid` but is not named for them) into a refusal: the
    archive named for `sid` (`winner`) is theirs."""
    refusal = Refusal(f"{escape.name(name)} names {escape.name(sid)} in its manifest, but {winner} is the archive "
                      f"named for {escape.name(sid)}; this one is not graded", escape.name(name))
    if kept is not None and job.source is not None:
        kept.pop(job.student, None)
    # its row is named by the file (with a space, which no student id has), so it can never be a classmate's row
    job.student = f"{escape.name(name)} (refused)"
    job.source, job.error, job.flags, job.filename = None, str(refusal), [refusal.flag()], escape.name(name)
    job.origin = name


def _archive_contents(student: str, arc: Archive, folder: Path, parts: list[str], shown: str,
                      assignment: Assignment, origin: str, kept: dict[str, Archive] | None) -> Job:
    where = f"{shown}/{escape.name(arc.filename)}"
    r = module_from_bytes(arc.raw, arc.filename, where)
    if kept is not None and r.source is not None:
        kept[student] = arc
    try:
        mtime = os.lstat(folder.joinpath(*parts)).st_mtime
    except OSError:
        mtime = None
    return Job(student, assignment.module, r.source, filename=where, error=r.error, content_hash=r.content_hash,
               flags=r.flags or [], origin=origin, mtime=mtime)


def _student_job(folder: Path, entry: Entry, assignment: Assignment, seen: dict[str, str], jobs: list[Job],
                 kept: dict[str, Archive] | None = None) -> Job:
    raw = entry.name
    sid = _student_id(raw)
    if sid is None:
        safe = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return Job(escape.name(safe), assignment.module, None, filename=escape.name(safe),
                   error=f"the folder name {escape.name(safe)!r} is not valid UTF-8: rename it to the student's id")
    shown = escape.name(sid)
    if entry.kind == "link":
        r = Refusal(f"{shown}/ is a symbolic link: each student's folder must be a real folder", shown)
        return Job(sid, assignment.module, None, filename=shown, error=str(r), flags=[r.flag()])
    key = sid.casefold()
    if key in seen:
        msg = (f"duplicate student id: the folders {escape.name(seen[key])!r} and {shown!r} name the same student; "
               "merge or rename one and grade again")
        for j in jobs:
            if j.student.casefold() == key and j.source is not None:
                j.source, j.error = None, msg
        return Job(sid, assignment.module, None, filename=shown, error=msg)
    seen[key] = raw
    return _job(sid, folder, raw, assignment, kept)


def _job(student: str, folder: Path, raw: str, assignment: Assignment, kept: dict[str, Archive] | None = None) -> Job:
    shown = escape.name(student)
    try:
        entries = list_folder(folder / raw)
    except OSError as exc:
        return Job(student, assignment.module, None, filename=shown, error=f"cannot list {shown}/: {exc.strerror}")
    by_name = {e.name: e for e in entries}
    notebooks = [e for e in entries if e.name.endswith(".ipynb") and e.kind != "dir"]
    module = by_name.get(assignment.filename)
    if module is not None and module.kind != "dir":
        chosen = module
    elif len(notebooks) == 1:
        chosen = notebooks[0]
    elif len(notebooks) > 1:
        names = ", ".join(escape.name(n.name) for n in notebooks[:5])
        return Job(student, assignment.module, None, filename=shown,
                   error=f"{shown}/ holds several notebooks ({names}); keep only the one to grade")
    elif [e for e in entries if e.name.endswith(_ARCHIVE) and e.kind != "dir"]:
        return _folder_archive(student, folder, raw, [e for e in entries if e.name.endswith(_ARCHIVE)
                                                      and e.kind != "dir"], assignment, kept)
    else:
        others = [e.name for e in entries if e.kind == "file" and e.name.endswith(".py")]
        near = [o for o in others if o.lower() == assignment.filename.lower() or assignment.module in o.lower()]
        hint = (f"; rename {escape.name(near[0])} to {assignment.filename}" if near else
                f" (found: {', '.join(escape.name(o) for o in others[:5])})" if others else
                " (the folder has no Python file)")
        return Job(student, assignment.module, None, filename=shown,
                   error=f"no {assignment.filename} or notebook in {shown}/{hint}")
    where = f"{shown}/{escape.name(chosen.name)}"
    r = read_module(folder, [raw, chosen.name], where)
    try:
        mtime = os.lstat(folder / raw / chosen.name).st_mtime
    except OSError:
        mtime = None
    return Job(student, assignment.module, r.source, filename=where, error=r.error, content_hash=r.content_hash,
               flags=r.flags or [], origin=raw, mtime=mtime)


def _folder_archive(student: str, folder: Path, raw: str, zips: list[Entry], assignment: Assignment,
                    kept: dict[str, Archive] | None) -> Job:
    """A student folder holding a `seqgrade submit` archive instead of the file: it must be this student's."""
    shown = escape.name(student)
    if len(zips) > 1:
        names = ", ".join(escape.name(z.name) for z in zips[:5])
        return Job(student, assignment.module, None, filename=shown,
                   error=f"{shown}/ holds several archives ({names}); keep only the one to grade")
    where = f"{shown}/{escape.name(zips[0].name)}"
    try:
        arc = read_archive(folder, [raw, zips[0].name], assignment, where)
    except Refusal as exc:
        return Job(student, assignment.module, None, filename=where, error=str(exc), flags=[exc.flag()], origin=raw)
    except OSError as exc:
        return Job(student, assignment.module, None, filename=where, error=f"cannot read {where}: {exc.strerror}")
    if unicodedata.normalize("NFC", arc.student).casefold() != student.casefold():
        r = Refusal(f"{where} is {escape.name(arc.student)}'s submission by its manifest, in {shown}'s folder: each "
                    "student's folder holds their own archive", where)
        return Job(student, assignment.module, None, filename=where, error=str(r), flags=[r.flag()], origin=raw)
    return _archive_contents(student, arc, folder, [raw, zips[0].name], where, assignment, raw, kept)
