"""What is handed to grading: one `Job` per submission, and the one way to build an error result.

A `Job` crosses process boundaries as JSON (to a grading worker, to a Dask
worker), so it holds plain data only. `error_result` is the only builder of a
result for a submission whose checks could not run (unreadable, refused, a
grading process that died): every path records such a submission the same way.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

from .results import CheckResult, Flag, SubmissionResult


@dataclass
class Job:
    """One submission to grade."""

    student: str
    module: str  # the module name the contract fixes, e.g. "attention"
    source: str | None  # the module's code; None when it could not be read
    filename: str = ""  # where it came from, for messages (already made printable)
    error: str = ""  # why it could not be read, when source is None
    content_hash: str = ""  # sha256 of the submitted bytes
    submitted_at: str | None = None  # ISO 8601, from a source the grading side trusts (see time_source)
    time_source: str = ""  # where submitted_at comes from
    flags: list[Flag] = field(default_factory=list)  # refusals found while reading it
    origin: str = ""  # the student's folder as named on disk (for the time sources that read it)
    mtime: float | None = None  # the file's modification time (student-controlled; see grader.times)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Job":
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["flags"] = [f if isinstance(f, Flag) else Flag(**f) for f in d.get("flags", [])]
        return cls(**kw)


def grading_key(job: Job) -> str:
    """What identifies a submission's content; for one that could not be read, its error."""
    if job.content_hash:
        return job.content_hash
    return "error:" + hashlib.sha256(job.error.encode("utf-8")).hexdigest()[:32]


def error_result(job: Job, item: str, reason: str, *, max_score: float = 0.0, checks_version: str = "",
                 retry: bool = False) -> SubmissionResult:
    """A zero result for a submission whose checks could not run, with `reason` as its error.

    `retry=True` (the grading machinery failed, not the submission) stores no
    content hash, so the next run grades the submission again; otherwise the
    result stands until the submission changes.
    """
    check = "grading" if retry else "submission"
    return SubmissionResult(
        student=job.student, item=item, error=reason, max_score=max_score,
        content_hash="" if retry else grading_key(job), checks_version=checks_version,
        submitted_at=job.submitted_at, time_source=job.time_source, flags=list(job.flags),
        checks=[CheckResult(check, 0.0, 0.0, "error", "public", reason)])
