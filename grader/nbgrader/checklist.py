"""Which checks a notebook gets: collected by the grading engine itself, one test cell per check function.

A check function with ``@pytest.mark.parametrize`` is several pytest items
(``test_x[float32]``, ``test_x[float64]``) but one test cell: the cell's
points are the sum over its items, and a cell can earn part of them.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..catalog import Assignment
    from ..config import CourseConfig


@dataclass(frozen=True)
class NotebookCheck:
    """One check function as a notebook's test cell."""

    name: str  # the function's name: the test cell's grade_id
    points: float  # over all its parameter sets
    visibility: str  # public | hidden
    description: str
    file: Path  # the check file that defines it
    items: tuple[str, ...]  # the pytest items it collects as (test_x, or test_x[a], test_x[b], ...)


def item_function(item_name: str) -> str:
    """The check function a result belongs to: ``test_x[float32]`` -> ``test_x``."""
    return item_name.split("[", 1)[0]


STATUS_ORDER = ("passed", "failed", "timeout", "error")


@dataclass
class CellResult:
    """One test cell's result: the check (all its parameter sets) or the quiz question."""

    score: float
    max_score: float
    status: str
    message: str = ""


def cell_results(checks) -> dict[str, CellResult]:
    """Item results (test_x[a], test_x[b]) summed into their check function's cell, in order.

    Both autograde paths (seqgrade's, out of the kernel, and nbgrader's own, in it) use this.
    """
    out: dict[str, CellResult] = {}
    for c in checks:
        gid = item_function(c.name)
        label = c.name[len(gid):]
        r = out.setdefault(gid, CellResult(0.0, 0.0, "passed"))
        r.score = round(r.score + c.score, 6)
        r.max_score = round(r.max_score + c.max_score, 6)
        if STATUS_ORDER.index(c.status) > STATUS_ORDER.index(r.status):
            r.status = c.status
        if c.status != "passed":
            msg = f"{label} {c.message}".strip()
            r.message = f"{r.message}\n{msg}" if r.message else msg
    return out


def collect_checks(assignment: Assignment, cfg: CourseConfig) -> list[NotebookCheck]:
    """The assignment's checks, public first, then hidden (file order within each)."""
    from ..checks.collection import collect_checks as collect
    from ..checks.markers import check_info

    plugin = collect(assignment, cfg.root, hidden=assignment.hidden_checks.is_dir())
    grouped: dict[str, list] = {}
    for item in plugin.items:
        grouped.setdefault(getattr(item, "originalname", item.name), []).append(item)
    checks = []
    for name, items in grouped.items():
        first = items[0]
        files = {Path(str(i.path)) for i in items}
        if len(files) > 1:
            raise ConfigError(f"two check files of {assignment.id} define {name}: "
                              f"{', '.join(sorted(map(str, files)))}; rename one")
        checks.append(NotebookCheck(
            name=name, points=round(sum(plugin.points_of(i) for i in items), 6),
            visibility=plugin.visibility(first), description=check_info(first).description,
            file=Path(str(first.path)).resolve(), items=tuple(i.name for i in items)))
    checks.sort(key=lambda c: c.visibility != "public")  # stable: public first, file order kept
    return checks


def select(checks: list[NotebookCheck], patterns: tuple[str, ...]) -> list[NotebookCheck]:
    """The checks whose names match one of the shell-style `patterns` (all when there are none)."""
    if not patterns:
        return list(checks)
    return [c for c in checks if any(fnmatch.fnmatchcase(c.name, p) for p in patterns)]
