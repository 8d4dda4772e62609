"""When a submission was made: from a source the grading side trusts, named in every result.

The late policy must not be decided by a time the student can set. The
sources (``submission_time:`` in course.yaml):

- ``first_seen`` (default): what the grader itself observed. Every run
  records when it looked at an item's submissions; content is provably
  submitted after the last run that did not see it. So a submission first
  seen after the due date is late only when an earlier run, itself after the
  due date, did not see it: its time is that run's (the earliest it can have
  been made). Content first seen by the first run after the due date cannot
  be shown late and gets no penalty. Grade at the due date (or
  continuously), or give the platform's times;
- ``times_file``: the times the submission platform recorded, exported by
  the instructor (CSV ``student,item,submitted_at`` or JSON
  ``{"student": {"item": "time"}}``; ``submission_times:`` names the file);
  a student missing from it falls back to ``first_seen``, and says so;
- ``exchange`` (nbgrader): the kernel's change time of the student's
  submission in nbgrader's exchange, which the student cannot set back;
- ``mtime`` and ``nbgrader_timestamp``: the file's modification time and the
  ``timestamp.txt`` beside it, both written by the student's own machine.
  Used only when asked for by name, and every result says so.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .config import UNTRUSTED_TIME_SOURCES, CourseConfig
from .errors import ConfigError
from .gradebook import Gradebook
from .jobs import Job

NBGRADER_TIMESTAMP = "timestamp.txt"


class UntrustedTimeWarning(UserWarning):
    """Late penalties are decided by times the students' machines wrote."""


@dataclass(frozen=True)
class Stamp:
    at: str | None  # ISO 8601, UTC
    source: str


def parse_time(raw: str) -> datetime | None:
    raw = raw.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S.%f %Z", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def read_times_file(path: Path) -> dict[tuple[str, str], str]:
    """(student, item) -> ISO time, from the platform's export; ConfigError naming the line when malformed."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read the submission times file {path}: {exc.strerror}") from exc
    out: dict[tuple[str, str], str] = {}
    if Path(path).suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise ConfigError(f'{path}: expected {{"student": {{"item": "2026-10-01T12:00:00+00:00"}}}}')
        rows = [(s, i, t) for s, items in data.items() if isinstance(items, dict) for i, t in items.items()]
        for s, i, t in rows:
            dt = parse_time(str(t))
            if dt is None:
                raise ConfigError(f"{path}: {s}/{i}: {t!r} is not a date and time (ISO 8601)")
            out[(str(s), str(i))] = _iso(dt)
        return out
    reader = csv.DictReader(io.StringIO(text))
    need = {"student", "item", "submitted_at"}
    if not reader.fieldnames or not need <= set(reader.fieldnames):
        raise ConfigError(f"{path}:1: expected the columns student,item,submitted_at (got {reader.fieldnames})")
    for row in reader:
        dt = parse_time(row["submitted_at"] or "")
        if dt is None:
            raise ConfigError(f"{path}:{reader.line_num}: {row['submitted_at']!r} is not a date and time "
                              "(ISO 8601, e.g. 2026-10-01T23:10:00+00:00)")
        out[(row["student"], row["item"])] = _iso(dt)
    return out


class SubmissionClock:
    """Stamps each job of an item with its submission time from the course's configured source."""

    def __init__(self, cfg: CourseConfig, gradebook: Gradebook, *, source: str | None = None,
                 times_file: Path | None = None):
        self.cfg = cfg
        self.gradebook = gradebook
        self.source = source or ("times_file" if times_file else cfg.submission_time)
        self.now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        path = times_file or cfg.submission_times
        self.times = read_times_file(path) if self.source == "times_file" and path else {}
        if self.source == "times_file" and not path:
            raise ConfigError("submission_time: times_file needs a times file (submission_times: in course.yaml, "
                              "or --times)")
        if self.source in UNTRUSTED_TIME_SOURCES:
            warnings.warn(f"submission times come from {self.source}, which the students' own machines write: "
                          "a student can backdate them. Use first_seen or a times file from your platform "
                          "(docs/security.md).", UntrustedTimeWarning, stacklevel=2)

    def stamp(self, job: Job, item: str, folder: Path | None = None) -> Stamp:
        """The time of `job` (and where it comes from); records first sightings in the gradebook.

        `folder` is the student's folder, for ``nbgrader_timestamp``.
        """
        if self.source == "times_file":
            at = self.times.get((job.student, item))
            if at is not None:
                return Stamp(at, "times_file")
            s = self.first_seen(job, item)
            return Stamp(s.at, s.source + " (not in the times file)")
        if self.source == "mtime" and job.mtime is not None:
            return Stamp(_iso(datetime.fromtimestamp(job.mtime, timezone.utc)), "mtime (student-controlled)")
        if self.source == "nbgrader_timestamp" and folder is not None:
            at = _timestamp_txt(folder)
            if at is not None:
                return Stamp(at, "nbgrader_timestamp (student-controlled)")
        return self.first_seen(job, item)

    def first_seen(self, job: Job, item: str) -> Stamp:
        """The earliest time the grader can prove `job`'s content was submitted (see the module doc)."""
        key = job.content_hash or ("error:" + job.error)
        seen = self.gradebook.first_seen(item, job.student, key, parse_time(self.now))
        due = self.cfg.due_date(item)
        if due is None or parse_time(seen) <= due:
            return Stamp(seen, "first_seen")
        before = self.gradebook.last_observation_before(item, seen)
        if before is not None and parse_time(before) >= due:
            return Stamp(before, f"first_seen (not there at the run of {before})")
        return Stamp(None, f"first_seen (first seen {seen}, after the due date, by the first run after it: "
                           "not provably late)")

    def observe(self, item: str) -> None:
        """Record that this run looked at every submission of `item` (call after stamping them)."""
        self.gradebook.observe(item, self.now)

    def apply(self, job: Job, item: str, folder: Path | None = None) -> Job:
        s = self.stamp(job, item, folder)
        job.submitted_at, job.time_source = s.at, s.source
        return job


def _timestamp_txt(folder: Path) -> str | None:
    from .submissions import Refusal, read_regular_file

    try:
        raw = read_regular_file(folder, [NBGRADER_TIMESTAMP], max_bytes=200)
    except (Refusal, OSError):
        return None
    dt = parse_time(raw.decode("utf-8", "replace"))
    return _iso(dt) if dt else None


def exchange_time(exchange_root: Path, course_id: str, student: str, item: str,
                  collected_stamp: str | None) -> str | None:
    """When `student` submitted `item` to nbgrader's exchange: the kernel's change time of the inbound entry.

    nbgrader names inbound entries ``student+item+timestamp+random`` (the
    timestamp is the student's clock); the entry's change time (ctime) is the
    kernel's, which a student cannot set back. The entry matching the collected
    submission's timestamp is used (else the latest). None when the exchange
    cannot be read.
    """
    import os

    inbound = Path(exchange_root) / course_id / "inbound"
    prefix = f"{student}+{item}+"
    try:
        entries = [e for e in os.scandir(inbound) if e.name.startswith(prefix)]
    except OSError:
        return None
    if not entries:
        return None
    chosen = None
    if collected_stamp is not None:
        for e in entries:
            stamp = parse_time(e.name[len(prefix):].rsplit("+", 1)[0])
            if stamp is not None and _iso(stamp) == collected_stamp:
                chosen = e
    try:
        if chosen is None:
            chosen = max(entries, key=lambda e: e.stat(follow_symlinks=False).st_ctime)
        ctime = chosen.stat(follow_symlinks=False).st_ctime
    except OSError:
        return None
    return _iso(datetime.fromtimestamp(ctime, timezone.utc))
