"""The one late policy: what lateness takes off an assignment's or a quiz's score, extensions included.

Every path that records a result (``grade``, ``quiz grade``, ``nbgrader
autograde``'s seqgrade results, the demo) calls `apply_late_policy`. The
submission time it judges must come from a source the grading side trusts
(`SubmissionResult.time_source`; see docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .config import CourseConfig
from .results import SubmissionResult


@dataclass(frozen=True)
class LateDecision:
    penalty: float  # fraction of the score taken off (0..1)
    due_at: datetime | None  # the due date that applied
    extension: str = ""  # the reason of the student's extension or exemption, when one applies
    exempt: bool = False


def late_decision(cfg: CourseConfig, item: str, student: str, submitted_at: str | None) -> LateDecision:
    """The penalty for `student` submitting `item` at `submitted_at` (ISO 8601), under `cfg`."""
    ext = cfg.extension(student, item)
    if ext is not None and ext.exempt:
        return LateDecision(0.0, None, f"exempt: {ext.reason}", exempt=True)
    due = ext.due if ext is not None and ext.due is not None else cfg.due_date(item)
    note = f"extended to {due.isoformat()}: {ext.reason}" if ext is not None else ""
    if due is None or not submitted_at:
        return LateDecision(0.0, due, note)
    late = (datetime.fromisoformat(submitted_at) - due).total_seconds()
    return LateDecision(cfg.late_policy.fraction(late) if late > 0 else 0.0, due, note)


def apply_late_policy(result: SubmissionResult, cfg: CourseConfig) -> SubmissionResult:
    """Set `result`'s late penalty, due date and extension note from `cfg`; returns it."""
    d = late_decision(cfg, result.item, result.student, result.submitted_at)
    result.late_penalty = d.penalty
    result.due_at = d.due_at.isoformat() if d.due_at else None
    result.extension = d.extension
    return result
