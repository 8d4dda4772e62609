"""What checks an assignment has, as pytest collects them, without running any."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..catalog import Assignment
from ..config import CourseConfig
from .collection import collect_checks
from .markers import check_info


@dataclass(frozen=True)
class CheckEntry:
    name: str
    points: float
    visibility: str
    description: str
    file: Path
    timeout: float
    kind: str = ""
    promises: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()


def list_checks(a: Assignment, cfg: CourseConfig, hidden: bool = True) -> list[CheckEntry]:
    """Every check of `a` (public first, then hidden when `hidden`), in the order they run."""
    plugin = collect_checks(a, cfg.root, hidden)
    out = []
    for item in plugin.items:
        info = check_info(item)
        out.append(CheckEntry(plugin.check_name(item), plugin.points_of(item), plugin.visibility(item), info.description,
                              Path(str(item.path)), info.timeout, info.kind, info.promises, info.targets))
    return out
