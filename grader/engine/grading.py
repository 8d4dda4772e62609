"""Grade a class: discover submissions, stamp their times, skip what is already graded, grade the rest.

Every result is committed to the gradebook the moment it arrives, so an
interrupted run loses nothing and the next run continues where it stopped: a
submission is graded again only when its content or the checks changed, or
with `regrade=True`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..catalog import Assignment
from ..checks.collection import version_of_checks
from ..config import CourseConfig
from ..gradebook import Gradebook
from ..jobs import Job, grading_key
from ..late import apply_late_policy
from ..results import SubmissionResult
from ..sandbox.launcher import Limits
from ..submissions import discover
from ..times import SubmissionClock
from .core import grade_jobs
from .session import new_seed
from .settings import GradeSettings


@dataclass
class GradeOptions:
    workers: int = 0  # 0: one per core
    regrade: bool = False
    seed: int | None = None
    sandbox: str = "bwrap"  # bwrap | none | auto (auto: bwrap, failing closed)
    hidden: bool = True
    limits: Limits = field(default_factory=Limits)
    scheduler: object = None  # a Dask scheduler address (or a distributed.Client): grade on that cluster
    times_file: Path | None = None  # the platform's submission times (overrides course.yaml)


@dataclass
class GradeRun:
    """What one `grade_class` call did."""

    assignment: str
    seed: int
    checks_version: str
    results: list[SubmissionResult] = field(default_factory=list)  # every student in the folder
    graded: int = 0  # graded in this run
    skipped: int = 0  # unchanged since they were graded
    isolation: str = ""  # how this run's code ran (bwrap | none); "" when nothing ran

    @property
    def max_score(self) -> float:
        return max((r.max_score for r in self.results), default=0.0)

    def to_json(self) -> dict:
        from ..results_schema import run_document

        return run_document(self.assignment, "assignment", self.results, seed=self.seed,
                            checks_version=self.checks_version, isolation=self.isolation)


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
    jobs = discover(submissions_dir, a)
    clock = SubmissionClock(cfg, gradebook, times_file=options.times_file)
    for job in jobs:
        clock.apply(job, a.id, Path(submissions_dir) / job.origin if job.origin else None)
    clock.observe(a.id)
    version = version_of_checks(a, options.hidden)
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
        apply_late_policy(result, cfg)
        gradebook.record(result)
        kept[result.student] = result
        run.graded += 1
        if result.isolation:
            run.isolation = result.isolation
        if on_result:
            on_result(result)

    if todo:
        settings = GradeSettings(assignment=a.id, seed=run.seed, course=str(cfg.source) if cfg.source else None,
                                 sandbox=options.sandbox, hidden=options.hidden, limits=options.limits)
        grade_jobs(settings, todo, record, workers=options.workers, scheduler=options.scheduler)
    run.results = [kept[j.student] for j in jobs if j.student in kept]
    return run
