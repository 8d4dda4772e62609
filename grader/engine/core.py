"""The one grading core: every path that grades code (``grade``, ``check``, ``nbgrader autograde``,
Dask, the demo) hands its jobs to `grade_jobs`.

What it guarantees, written once here so every path inherits it:

- a submission that could not be read (or was refused) gets its error
  result without any code running, from `grader.jobs.error_result`;
- code runs only in the sandbox policy the settings name, resolved where the
  code runs: untrusted code runs without isolation only with ``none`` asked
  for by name (`grader.sandbox.launcher.resolve_policy`);
- each submission's checks run in a grading process of their own (a local
  pool, a Dask worker, or this process for one's own code), the child that
  runs the student's code in a sandbox below it;
- every result reaches `on_result` once, with the version of the checks
  that graded it, whatever happens to the processes that grade it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Callable

from ..jobs import Job, error_result
from ..results import SubmissionResult
from .settings import GradeSettings


def grade_jobs(settings: GradeSettings, jobs: list[Job], on_result: Callable[[SubmissionResult], None], *,
               workers: int = 0, scheduler=None, inline: bool = False) -> None:
    """Grade `jobs` under `settings`; `on_result` gets each result as soon as it is known.

    `inline` grades in this process (one's own code: ``seqgrade check``);
    `scheduler` on a Dask cluster; otherwise a local pool of `workers`
    grading processes (0: one per core).
    """
    from ..checks.collection import version_of_checks
    from ..config import load_config
    from ..sandbox.launcher import launch, resolve_policy

    readable = [j for j in jobs if j.source is not None]
    policy = settings.sandbox
    launched = None
    if readable and not scheduler:  # on a cluster each worker resolves it: it may have bubblewrap where we do not
        policy = resolve_policy(settings.sandbox, untrusted=settings.untrusted)
        if inline:
            launched = launch(policy, settings.limits)  # the zygote imports torch while this process loads the checks
    settings = replace(settings, sandbox=policy)
    cfg = load_config(settings.course)
    assignment = cfg.assignment(settings.assignment)
    version = version_of_checks(assignment, settings.hidden)

    def finish(result: SubmissionResult) -> None:
        result.checks_version = result.checks_version or version
        on_result(result)

    unreadable = [j for j in jobs if j.source is None]
    if unreadable:
        from ..checks.inventory import list_checks

        total = assignment.points or sum(c.points for c in list_checks(assignment, cfg, hidden=settings.hidden))
        for job in unreadable:
            finish(error_result(job, assignment.id, job.error or f"no {assignment.filename} in the submission",
                                max_score=total, checks_version=version))
    if not readable:
        return
    if scheduler:
        from .distributed import grade_on_cluster

        grade_on_cluster(scheduler, settings, readable, assignment.id, finish)
    elif inline:
        from ..sandbox.client import Sandbox
        from .session import run_session

        sandbox = Sandbox(policy, settings.limits)
        sandbox.adopt(launched)
        try:
            run_session(assignment, readable, finish, cfg=cfg, hidden=settings.hidden, seed=settings.seed,
                        sandbox=sandbox)
        finally:
            sandbox.close()
    else:
        from .pool import WorkerPool

        n = workers or os.cpu_count() or 1
        WorkerPool(settings, min(n, len(readable))).run(readable, assignment.id, finish)
