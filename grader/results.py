"""Typed records for grading results: what a check, a submission and a run produce.

These records are plain data: they cross process boundaries as JSON (never
pickle) and are what the gradebook stores and every export reads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("passed", "failed", "error", "timeout")
VISIBILITIES = ("public", "hidden")
# What an instructor must see beside a score: the grader refused something the submission
# contained, detected tampering with the grading machinery, or stopped it at a resource limit.
FLAG_KINDS = ("refused", "tampering", "limit")


@dataclass
class Flag:
    """Something about a submission the instructor should know, beyond its points."""

    kind: str  # refused | tampering | limit
    where: str  # the file or check it concerns
    detail: str  # what happened, in words (student-controlled parts already made visible)

    def __post_init__(self) -> None:
        if self.kind not in FLAG_KINDS:
            raise ValueError(f"unknown flag kind {self.kind!r}")


@dataclass
class CheckResult:
    """The outcome of one check on one submission."""

    name: str  # the check's id, e.g. "test_mha_values"
    score: float  # points earned
    max_score: float  # points available
    status: str  # passed | failed | error | timeout
    visibility: str = "hidden"  # public | hidden
    message: str = ""  # what a student can fix; empty when passed
    description: str = ""  # one line saying what the check checks
    kind: str = ""  # what the check measures: values, gradients, shapes, masks, parallelism, long_sequence, ...
    bug: str = ""  # the id of the known bug the submission's output matches, when one does

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"unknown visibility {self.visibility!r}")

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class SubmissionResult:
    """Every check of one student's submission to one assignment or quiz."""

    student: str
    item: str  # assignment ("a3_attention") or quiz id ("q1_seq2seq")
    kind: str = "assignment"  # assignment | quiz
    checks: list[CheckResult] = field(default_factory=list)
    max_score: float = 0.0  # the item's maximum, also when checks could not run
    error: str = ""  # a submission-level problem (missing file, syntax error, ...)
    content_hash: str = ""  # sha256 of what was graded
    checks_version: str = ""  # hash of the checks (or quiz key) that graded it
    submitted_at: str | None = None  # ISO 8601, from the grader side
    late_penalty: float = 0.0  # fraction of the score taken off for lateness (0..1)
    graded_at: str | None = None  # ISO 8601, set by the gradebook
    output: str = ""  # what the submission printed (truncated)
    flags: list[Flag] = field(default_factory=list)  # refusals, detected tampering, resource limits
    isolation: str = ""  # how its code ran: bwrap | none ("" for quizzes: no code runs)
    time_source: str = ""  # where submitted_at comes from: first_seen | times_file | exchange | mtime | ...
    due_at: str | None = None  # the due date that applied (an extension's, when one was granted)
    extension: str = ""  # the reason of a per-student extension or exemption, when one applies

    @property
    def raw_score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def score(self) -> float:
        return round(self.raw_score * (1.0 - self.late_penalty), 6)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["score"] = self.score
        d["raw_score"] = self.raw_score
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SubmissionResult":
        fields = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in fields and k != "checks"}
        check_fields = {f.name for f in dataclasses.fields(CheckResult)}
        kw["checks"] = [CheckResult(**{k: v for k, v in c.items() if k in check_fields})
                        for c in d.get("checks", [])]
        kw["flags"] = [Flag(**f) for f in d.get("flags", [])]
        return cls(**kw)
