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
        kw["checks"] = [CheckResult(**c) for c in d.get("checks", [])]
        return cls(**kw)
