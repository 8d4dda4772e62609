"""One grading session: pytest collects an assignment's checks once and runs them per submission."""

from __future__ import annotations

import random
from typing import Callable, Iterable

from ..catalog import Assignment
from ..checks.collection import check_paths, run_pytest, version_of_checks
from ..checks.plugin import GradingPlugin
from ..config import CourseConfig
from ..fingerprints.sources import for_run as fingerprinter_for
from ..jobs import Job
from ..results import SubmissionResult
from ..sandbox.client import Sandbox
from ..sandbox.launcher import Limits
from .loading import load_trusted_module


def new_seed() -> int:
    return random.SystemRandom().randrange(1 << 62)


def run_session(
    assignment: Assignment,
    jobs: Iterable[Job],
    on_result: Callable[[SubmissionResult], None],
    *,
    cfg: CourseConfig,
    hidden: bool = True,
    seed: int | None = None,
    sandbox: Sandbox | None = None,
    sandbox_policy: str = "bwrap",
    limits: Limits = Limits(),
    quiet: bool = True,
    budget_s: float = 180.0,
    timeout_cap: float | None = None,
    fingerprints: bool = True,
) -> GradingPlugin:
    """Grade every job with the assignment's checks; `on_result` gets each result as it is done."""
    own_sandbox = sandbox is None
    sandbox = sandbox or Sandbox(sandbox_policy, limits)
    if sandbox._proc is None:
        sandbox.launch()  # the zygote imports torch while pytest collects the checks
    import torch

    torch.set_num_threads(1)  # the grader forks nothing, but keeps cores for the sandboxes
    paths = check_paths(assignment, hidden)
    reference = None
    if hidden:
        reference = load_trusted_module(assignment.reference, f"seqgrade_reference_{assignment.module}")
    plugin = GradingPlugin(
        item_name=assignment.id, jobs=jobs, sandbox=sandbox, reference=reference,
        seed=new_seed() if seed is None else seed, on_result=on_result,
        hidden_roots=(assignment.hidden_checks.resolve(),),
        checks_version=version_of_checks(assignment, hidden),
        budget_s=budget_s, timeout_cap=timeout_cap, points=assignment.points,
        fingerprints=fingerprinter_for(assignment, hidden) if fingerprints else None,
    )
    try:
        run_pytest(assignment, paths, cfg.root, plugin, quiet)
    finally:
        if own_sandbox:
            sandbox.close()
    return plugin
