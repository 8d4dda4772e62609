"""Recording graded quiz answers: trusted submission times, the one late policy, refusals flagged.

`seqgrade quiz grade` and the demo both record through `record_quiz_results`,
so quizzes follow the same rules as assignments (`grader.times`, `grader.late`).
"""

from __future__ import annotations

from ..config import CourseConfig
from ..gradebook import Gradebook
from ..jobs import Job
from ..late import apply_late_policy
from ..results import Flag, SubmissionResult
from ..times import SubmissionClock
from .answers import Answers


def record_quiz_results(answers: list[Answers], results: list[SubmissionResult], cfg: CourseConfig,
                        gb: Gradebook, clock: SubmissionClock | None = None) -> list[SubmissionResult]:
    """Stamp, apply the late policy to and record each result (in the order of `answers`)."""
    clock = clock or SubmissionClock(cfg, gb)
    for a, r in zip(answers, results):
        job = Job(a.student, "", None, error="; ".join(a.problems), content_hash=a.content_hash,
                  mtime=a.submitted_at.timestamp() if a.submitted_at else None)
        stamp = clock.stamp(job, r.item)
        r.submitted_at, r.time_source = stamp.at, stamp.source
        apply_late_policy(r, cfg)
        if a.refused:
            r.flags.append(Flag("refused", a.file, "; ".join(a.problems)[:500]))
        gb.record(r)
    if results:
        clock.observe(results[0].item)
    return results
