"""Which check files an assignment has, their version, and pytest run over them with a plugin.

The grading engine (one session per grading worker) and the inventory
(`seqgrade list`, nbgrader's notebook generation) both go through here, so
every path runs the same checks with the same pytest options.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from pathlib import Path
from typing import Iterable

from ..catalog import Assignment
from ..errors import ConfigError


def check_paths(assignment: Assignment, hidden: bool) -> list[Path]:
    """The public checks folder (when there is one) and, with `hidden`, the hidden one."""
    paths = []
    if assignment.public_checks.is_dir():
        paths.append(assignment.public_checks)
    if hidden:
        if not assignment.hidden_checks.is_dir():
            raise ConfigError(f"the hidden checks of {assignment.id} are missing ({assignment.hidden_checks})")
        paths.append(assignment.hidden_checks)
    if not paths:
        raise ConfigError(f"{assignment.id} has no checks under {assignment.public_checks}")
    return paths


def checks_version(paths: Iterable[Path]) -> str:
    """A hash of the files that decide grades (checks, references, data)."""
    h = hashlib.sha256()
    for p in sorted(Path(x) for x in paths):
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
        else:
            files = [p]
        for f in files:
            h.update(str(f.name).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def version_of_checks(assignment: Assignment, hidden: bool) -> str:
    paths = check_paths(assignment, hidden)
    if hidden:
        paths.append(assignment.reference)
    return checks_version(paths)


def pytest_args(paths: list[Path], rootdir: Path) -> list[str]:
    """pytest over the check folders only: no plugin autoloading, no conftest, no cache."""
    return [str(p) for p in paths] + [
        "-p", "no:cacheprovider", "-p", "no:stepwise", "-p", "no:doctest", "-p", "no:junitxml",
        "-p", "no:pastebin", "-p", "no:nose", "-p", "no:legacypath", "-p", "no:logging",
        "--noconftest", "--import-mode=importlib", "-s", "-q", "-c", os.devnull,
        "--tb=line",  # students read our messages, never pytest's tracebacks; long ones cost 0.2 s a failure
        "--rootdir", str(rootdir), "-W", "ignore::pytest.PytestAssertRewriteWarning",
    ]


def run_pytest(assignment: Assignment, paths: list[Path], rootdir: Path, plugin, quiet: bool,
               extra: tuple[str, ...] = ()) -> None:
    """pytest.main over `paths` with `plugin` registered; ConfigError when the checks cannot run."""
    import pytest

    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        code = pytest.main(pytest_args(paths, rootdir) + list(extra), plugins=[plugin])
    if plugin.collection_errors or code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        detail = "\n".join(plugin.collection_errors) or out.getvalue()[-3000:]
        raise ConfigError(f"the checks of {assignment.id} could not run:\n{detail}")


def collect_checks(assignment: Assignment, rootdir: Path, hidden: bool = True):
    """The assignment's checks as pytest collects them (names, points, visibility), running none."""
    from .plugin import GradingPlugin

    plugin = GradingPlugin(item_name=assignment.id, jobs=[], sandbox=None, reference=None, seed=0,
                           on_result=lambda r: None, hidden_roots=(assignment.hidden_checks.resolve(),),
                           points=assignment.points)
    run_pytest(assignment, check_paths(assignment, hidden), rootdir, plugin, quiet=True, extra=("--collect-only",))
    return plugin
