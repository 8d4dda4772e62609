"""One grading session: pytest collects an assignment's checks once and runs them per submission."""

from __future__ import annotations

import contextlib
import io
import os
import random
from pathlib import Path
from typing import Callable, Iterable

from ..catalog import Assignment
from ..checks.plugin import GradingPlugin, Job, checks_version
from ..config import CourseConfig
from ..errors import ConfigError
from ..fingerprints.sources import for_run as fingerprinter_for
from ..results import SubmissionResult
from ..sandbox.client import Sandbox
from ..sandbox.launcher import Limits
from .loading import load_trusted_module


def new_seed() -> int:
    return random.SystemRandom().randrange(1 << 62)


def check_paths(assignment: Assignment, cfg: CourseConfig, hidden: bool) -> list[Path]:
    paths = []
    public = assignment.public_checks(cfg)
    if public.is_dir():
        paths.append(public)
    if hidden:
        h = assignment.hidden_checks(cfg)
        if not h.is_dir():
            raise ConfigError(f"the hidden checks of {assignment.id} are missing ({h})")
        paths.append(h)
    if not paths:
        raise ConfigError(f"{assignment.id} has no checks under {public}")
    return paths


def version_of_checks(assignment: Assignment, cfg: CourseConfig, hidden: bool) -> str:
    paths = check_paths(assignment, cfg, hidden)
    if hidden:
        paths.append(assignment.reference(cfg))
    return checks_version(paths)


def run_session(
    assignment: Assignment,
    jobs: Iterable[Job],
    on_result: Callable[[SubmissionResult], None],
    *,
    cfg: CourseConfig,
    hidden: bool = True,
    seed: int | None = None,
    sandbox: Sandbox | None = None,
    sandbox_policy: str = "auto",
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
    import pytest
    import torch

    torch.set_num_threads(1)  # the grader forks nothing, but keeps cores for the sandboxes
    paths = check_paths(assignment, cfg, hidden)
    reference = None
    if hidden:
        reference = load_trusted_module(assignment.reference(cfg), f"seqgrade_reference_{assignment.module}")
    plugin = GradingPlugin(
        item_name=assignment.id, jobs=jobs, sandbox=sandbox, reference=reference,
        seed=new_seed() if seed is None else seed, on_result=on_result,
        hidden_roots=(assignment.hidden_checks(cfg).resolve(),),
        checks_version=version_of_checks(assignment, cfg, hidden),
        budget_s=budget_s, timeout_cap=timeout_cap,
        fingerprints=fingerprinter_for(assignment, cfg, hidden) if fingerprints else None,
    )
    try:
        _run_pytest(assignment, paths, cfg, plugin, quiet)
    finally:
        if own_sandbox:
            sandbox.close()
    return plugin


def pytest_args(paths: list[Path], cfg: CourseConfig) -> list[str]:
    """pytest over the check folders only: no plugin autoloading, no conftest, no cache."""
    return [str(p) for p in paths] + [
        "-p", "no:cacheprovider", "-p", "no:stepwise", "-p", "no:doctest", "-p", "no:junitxml",
        "-p", "no:pastebin", "-p", "no:nose", "-p", "no:legacypath", "-p", "no:logging",
        "--noconftest", "--import-mode=importlib", "-s", "-q", "-c", os.devnull,
        "--tb=line",  # students read our messages, never pytest's tracebacks; long ones cost 0.2 s a failure
        "--rootdir", str(cfg.root), "-W", "ignore::pytest.PytestAssertRewriteWarning",
    ]


def _run_pytest(assignment: Assignment, paths: list[Path], cfg: CourseConfig, plugin: GradingPlugin,
                quiet: bool, extra: tuple[str, ...] = ()) -> None:
    import pytest

    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        code = pytest.main(pytest_args(paths, cfg) + list(extra), plugins=[plugin])
    if plugin.collection_errors or code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        detail = "\n".join(plugin.collection_errors) or out.getvalue()[-3000:]
        raise ConfigError(f"the checks of {assignment.id} could not run:\n{detail}")


def collect_checks(assignment: Assignment, cfg: CourseConfig, hidden: bool = True) -> GradingPlugin:
    """The assignment's checks as pytest collects them (names, points, visibility), running none."""
    paths = check_paths(assignment, cfg, hidden)
    plugin = GradingPlugin(item_name=assignment.id, jobs=[], sandbox=None, reference=None, seed=0,
                           on_result=lambda r: None, hidden_roots=(assignment.hidden_checks(cfg).resolve(),))
    _run_pytest(assignment, paths, cfg, plugin, quiet=True, extra=("--collect-only",))
    return plugin
