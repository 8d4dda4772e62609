"""Grade a class: discover submissions, skip what is already graded, grade the rest in parallel.

Every result is committed to the gradebook the moment it arrives, so an
interrupted run loses nothing and the next run continues where it stopped: a
submission is graded again only when its content or the checks changed, or
with `regrade=True`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from ..catalog import Assignment
from ..checks.plugin import Job
from ..config import CourseConfig
from ..gradebook import Gradebook
from ..results import CheckResult, SubmissionResult
from ..sandbox.launcher import Limits, resolve_policy
from .pool import WorkerPool
from .session import new_seed, version_of_checks
from .submissions import discover


@dataclass
class GradeOptions:
    workers: int = 0  # 0: one per core
    regrade: bool = False
    seed: int | None = None
    sandbox: str = "auto"
    hidden: bool = True
    limits: Limits = field(default_factory=Limits)
    scheduler: object = None  # a Dask scheduler address (or a distributed.Client): grade on that cluster


@dataclass
class GradeRun:
    """What one `grade_class` call did."""

    assignment: str
    seed: int
    checks_version: str
    results: list[SubmissionResult] = field(default_factory=list)  # every student in the folder
    graded: int = 0  # graded in this run
    skipped: int = 0  # unchanged since they were graded

    @property
    def max_score(self) -> float:
        return max((r.max_score for r in self.results), default=0.0)

    def to_json(self) -> dict:
        return {
            "assignment": self.assignment,
            "max_score": self.max_score,
            "seed": self.seed,
            "checks_version": self.checks_version,
            "submissions": [
                {
                    "student": r.student, "score": r.score, "max_score": r.max_score,
                    "raw_score": r.raw_score, "late_penalty": r.late_penalty,
                    "submitted_at": r.submitted_at, "error": r.error,
                    "checks": [
                        {"name": c.name, "score": c.score, "max_score": c.max_score, "status": c.status,
                         "visibility": c.visibility, "message": c.message}
                        for c in r.checks
                    ],
                }
                for r in self.results
            ],
        }


def late_penalty(cfg: CourseConfig, item: str, submitted_at: str | None) -> float:
    due = cfg.due.get(item)
    if due is None or not submitted_at:
        return 0.0
    late = (datetime.fromisoformat(submitted_at) - due).total_seconds()
    return cfg.late_policy.fraction(late) if late > 0 else 0.0


def grading_key(job: Job) -> str:
    """What identifies a submission's content; for one that could not be read, its error."""
    if job.content_hash:
        return job.content_hash
    return "error:" + hashlib.sha256(job.error.encode("utf-8")).hexdigest()[:32]


def _unreadable(job: Job, a: Assignment, version: str, max_score: float) -> SubmissionResult:
    return SubmissionResult(student=job.student, item=a.id, error=job.error, content_hash=grading_key(job),
                            checks_version=version, submitted_at=job.submitted_at, max_score=max_score,
                            checks=[CheckResult("submission", 0.0, 0.0, "error", "public", job.error)])


def grade_class(
    a: Assignment,
    submissions_dir: Path,
    cfg: CourseConfig,
    gradebook: Gradebook,
    options: GradeOptions = GradeOptions(),
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> GradeRun:
    """Grade every submission in `submissions_dir` that needs it; returns the whole class's results."""
    jobs = discover(submissions_dir, a, cfg.submission_time)
    version = version_of_checks(a, cfg, options.hidden)
    run = GradeRun(assignment=a.id, seed=options.seed if options.seed is not None else new_seed(),
                   checks_version=version)
    todo: list[Job] = []
    kept: dict[str, SubmissionResult] = {}
    for job in jobs:
        key = gradebook.graded_key(a.id, job.student)
        if (not options.regrade and key is not None
                and key.content_hash == grading_key(job) and key.checks_version == version):
            kept[job.student] = gradebook.result(a.id, job.student)
            run.skipped += 1
        else:
            todo.append(job)
    if on_start:
        on_start(len(todo), run.skipped)

    def record(result: SubmissionResult) -> None:
        # keep the version the worker graded with: checks changed mid-run are graded again next run
        result.checks_version = result.checks_version or version
        result.late_penalty = late_penalty(cfg, a.id, result.submitted_at)
        gradebook.record(result)
        kept[result.student] = result
        run.graded += 1
        if on_result:
            on_result(result)

    readable = [j for j in todo if j.source is not None]
    unreadable = [j for j in todo if j.source is None]
    if unreadable:
        from ..checks.inventory import list_checks

        expected_max = sum(c.points for c in list_checks(a, cfg, hidden=options.hidden))
        for job in unreadable:
            record(_unreadable(job, a, version, expected_max))
    if readable:
        # Locally the sandbox is chosen (and a missing bubblewrap warned about) once, here; on a
        # cluster each worker chooses for itself: the client may lack bubblewrap where workers have it.
        policy = options.sandbox if options.scheduler else resolve_policy(options.sandbox)
        settings = {"course": str(cfg.source) if cfg.source else None, "assignment": a.id,
                    "seed": run.seed, "sandbox": policy, "hidden": options.hidden,
                    "limits": options.limits.as_dict()}
        if options.scheduler:
            from .distributed import grade_on_cluster

            grade_on_cluster(options.scheduler, settings, readable, a.id, record)
        else:
            workers = options.workers or os.cpu_count() or 1
            WorkerPool(settings, min(workers, len(readable))).run(readable, a.id, record)
    run.results = [kept[j.student] for j in jobs if j.student in kept]
    return run

