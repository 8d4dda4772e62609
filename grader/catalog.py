"""The course's assignments, as `course.yaml` declares them: id, module, titles, files, due date, points.

An instructor adds an assignment by declaring it under ``assignments:`` (or
with ``seqgrade new assignment``), never by editing this package::

    assignments:
      a3_attention:
        module: attention                 # the one file a student submits: attention.py
        title: {en: "Attention", zh: "注意力"}
        due: 2026-11-01T23:59:00+00:00
        points: 40                        # optional: scale the checks' total to this many points
        # optional, with these defaults (relative to the course root):
        # reference: solutions/attention.py
        # public_checks: assignments/a3_attention/checks
        # hidden_checks: solutions/checks/a3_attention
        # starter: assignments/a3_attention

Public checks ship with the starter code; hidden checks sit beside the
references and never leave the instructor's side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, UsageError

if TYPE_CHECKING:
    from .config import CourseConfig

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
KEYS = {"module", "title", "due", "points", "reference", "public_checks", "hidden_checks", "starter"}


@dataclass(frozen=True)
class Assignment:
    id: str  # "a3_attention"
    module: str  # the one file a student submits, without .py: "attention"
    title_en: str
    title_zh: str
    reference: Path  # the hidden reference solution
    public_checks: Path  # shipped to students
    hidden_checks: Path  # never shipped
    starter_dir: Path  # the starter code and README students get
    due: datetime | None = None
    points: float | None = None  # the total the checks' points are scaled to (None: their own sum)

    @property
    def filename(self) -> str:
        return f"{self.module}.py"

    def title(self, lang: str = "en") -> str:
        return self.title_zh if lang == "zh" and self.title_zh else self.title_en


def parse_assignments(raw: Any, root: Path, where: str, parse_when) -> dict[str, Assignment]:
    """The ``assignments:`` mapping of course.yaml; `where` names the file in messages."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: assignments must map each assignment id to its settings, e.g. "
                          "'assignments: {a1_rnn: {module: rnn, title: {en: RNNs, zh: 循环神经网络}}}'")
    out: dict[str, Assignment] = {}
    modules: dict[str, str] = {}
    for aid, spec in raw.items():
        aid = str(aid)
        at = f"{where}: assignments.{aid}"
        if not ID_RE.match(aid):
            raise ConfigError(f"{at}: an assignment id is lower-case letters, digits and _ (e.g. a6_bigru)")
        if not isinstance(spec, dict):
            raise ConfigError(f"{at}: expected a mapping with at least `module:`")
        unknown = sorted(set(map(str, spec)) - KEYS)
        if unknown:
            raise ConfigError(f"{at}: unknown key(s) {', '.join(unknown)}; the keys are {', '.join(sorted(KEYS))}")
        module = spec.get("module")
        if not isinstance(module, str) or not MODULE_RE.match(module):
            raise ConfigError(f"{at}.module must be a Python module name (the file students submit, without .py)")
        if module in modules:
            raise ConfigError(f"{at}.module: {module}.py is already the module of {modules[module]}")
        modules[module] = aid
        title = spec.get("title", aid)
        if isinstance(title, str):
            title = {"en": title}
        if not isinstance(title, dict) or not all(isinstance(v, str) for v in title.values()):
            raise ConfigError(f"{at}.title must be a text or a mapping {{en: ..., zh: ...}}")
        points = spec.get("points")
        if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0):
            raise ConfigError(f"{at}.points must be a positive number (got {points!r})")

        def path(key: str, default: str) -> Path:
            value = spec.get(key, default)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{at}.{key} must be a path relative to the course root")
            return (root / value).resolve()

        out[aid] = Assignment(
            id=aid, module=module, title_en=title.get("en", aid), title_zh=title.get("zh", ""),
            reference=path("reference", f"solutions/{module}.py"),
            public_checks=path("public_checks", f"assignments/{aid}/checks"),
            hidden_checks=path("hidden_checks", f"solutions/checks/{aid}"),
            starter_dir=path("starter", f"assignments/{aid}"),
            due=parse_when(spec["due"], f"{at}.due") if spec.get("due") is not None else None,
            points=float(points) if points is not None else None,
        )
    return out


def get_assignment(name: str, cfg: "CourseConfig | None" = None) -> Assignment:
    """Assignment `name` of `cfg` (default: the course config of the current folder)."""
    if cfg is None:
        from .config import load_config

        cfg = load_config()
    return cfg.assignment(name)


def unknown_assignment(name: str, known: list[str], where: str) -> UsageError:
    if not known:
        return UsageError(f"unknown assignment {name!r}: {where} declares no assignments (see `assignments:` "
                          "in docs/course.md, or `seqgrade new assignment`)")
    return UsageError(f"unknown assignment {name!r}; choose one of: {', '.join(known)} (see `seqgrade list`)")
