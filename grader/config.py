"""The course configuration: `course/course.yaml` (or the file named by --course).

Holds the course's name, the languages every text must be given in, the
secret that keys per-student quiz variants, the gradebook's location, the
assignments (`grader.catalog`), due dates, per-student extensions, the late
policy and where submission times come from. Paths in the file are relative
to the file. See docs/course.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from .catalog import Assignment, parse_assignments, unknown_assignment
from .errors import ConfigError

DEFAULT_CONFIG = Path("course") / "course.yaml"
SECRET_ENV = "SEQGRADE_SECRET"
# Where a submission's time comes from. Only the first three are times a student cannot set;
# the last two read what the student's own machine wrote, and are used only when asked for.
TIME_SOURCES = ("first_seen", "times_file", "exchange", "mtime", "nbgrader_timestamp")
UNTRUSTED_TIME_SOURCES = ("mtime", "nbgrader_timestamp")


@dataclass
class LatePolicy:
    """How lateness reduces a score. `kind`: none | zero | per_hour | per_day."""

    kind: str = "none"
    penalty: float = 0.0  # fraction of the score taken off per hour/day late
    cap: float = 1.0  # the most that lateness can take off (fraction)
    grace_minutes: float = 0.0  # lateness under this counts as on time

    def fraction(self, late_seconds: float) -> float:
        """The fraction of the score taken off for `late_seconds` of lateness."""
        if late_seconds <= self.grace_minutes * 60 or self.kind == "none":
            return 0.0
        if self.kind == "zero":
            return 1.0
        unit = 3600.0 if self.kind == "per_hour" else 86400.0
        periods = -(-late_seconds // unit)  # started hours/days count in full
        return min(self.cap, self.penalty * periods, 1.0)


@dataclass(frozen=True)
class Extension:
    """A per-student change to an item's due date, or an exemption, with its reason."""

    student: str
    item: str
    reason: str
    due: datetime | None = None  # the student's own due date
    exempt: bool = False  # the item does not count for this student


@dataclass
class CourseConfig:
    """Everything `course.yaml` says, with defaults for what it leaves out."""

    root: Path = Path(".")  # the folder holding solutions/, assignments/, course/
    name: str = "seqgrade course"
    languages: list[str] = field(default_factory=lambda: ["en", "zh"])
    secret: str = "change-me"  # keys per-student quiz variants; override with $SEQGRADE_SECRET
    gradebook: Path = Path("gradebook.db")
    due: dict[str, datetime] = field(default_factory=dict)  # item -> due date (UTC)
    late_policy: LatePolicy = field(default_factory=LatePolicy)
    submission_time: str = "first_seen"  # one of TIME_SOURCES
    submission_times: Path | None = None  # the platform's times file, for submission_time: times_file
    scheduler: str | None = None  # a Dask scheduler address; None grades locally
    source: Path | None = None  # the file this was read from (None: defaults)
    assignments: dict[str, Assignment] = field(default_factory=dict)  # id -> assignment, in course order
    extensions: list[Extension] = field(default_factory=list)

    def assignment(self, name: str) -> Assignment:
        try:
            return self.assignments[name]
        except KeyError:
            raise unknown_assignment(name, list(self.assignments), str(self.source or DEFAULT_CONFIG)) from None

    def due_date(self, item: str) -> datetime | None:
        """The item's due date for the class (an assignment's own, else the `due:` mapping's)."""
        a = self.assignments.get(item)
        if a is not None and a.due is not None:
            return a.due
        return self.due.get(item)

    def extension(self, student: str, item: str) -> Extension | None:
        key = student.casefold()
        return next((e for e in self.extensions if e.item == item and e.student.casefold() == key), None)

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def assignments_dir(self) -> Path:
        return self.root / "assignments"

    @property
    def quizzes_dir(self) -> Path:
        return self.root / "course" / "quizzes"


def _parse_when(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise ConfigError(f"{where}: {value!r} is not an ISO 8601 date (2026-12-01T23:59:00+00:00)") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _time_source(value: Any) -> Any:
    return "nbgrader_timestamp" if value == "nbgrader" else value  # the name before 0.2


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"{where} must be one of {', '.join(allowed)} (got {value!r})")
    return value


def _languages(value: Any, p: Path) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{p}: languages must be a list of language codes, e.g. [en, zh] (got {value!r})")
    return list(value)


def _due(value: Any, p: Path) -> dict[str, datetime]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{p}: due must map each assignment or quiz to a date, e.g. "
                          f"'due: {{a1_rnn: 2026-10-01T23:59:00+00:00}}' (got {type(value).__name__})")
    return {str(k): _parse_when(v, f"{p}: due.{k}") for k, v in value.items()}


def _late_policy(value: Any, p: Path) -> LatePolicy:
    if value is None:
        return LatePolicy()
    kinds = ("none", "zero", "per_hour", "per_day")
    if not isinstance(value, dict) or value.get("kind", "none") not in kinds:
        raise ConfigError(f"{p}: late_policy.kind must be one of {', '.join(kinds)}")
    known = {"kind", "penalty", "cap", "grace_minutes"}
    unknown = sorted(set(map(str, value)) - known)
    if unknown:
        raise ConfigError(f"{p}: late_policy has unknown key(s) {', '.join(unknown)}; "
                          f"the keys are {', '.join(sorted(known))}")
    numbers = {}
    for key, lo, hi in (("penalty", 0.0, 1.0), ("cap", 0.0, 1.0), ("grace_minutes", 0.0, float("inf"))):
        if key not in value:
            continue
        v = value[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            bound = f"between {lo:g} and {hi:g}" if hi != float("inf") else f">= {lo:g}"
            raise ConfigError(f"{p}: late_policy.{key} must be a number {bound} (got {v!r})")
        numbers[key] = float(v)
    return LatePolicy(kind=value.get("kind", "none"), **numbers)


def _extensions(value: Any, p: Path) -> list[Extension]:
    if value is None:
        return []
    example = ("e.g. 'extensions: [{student: bob, item: a3_attention, due: 2026-11-04T23:59:00+00:00, "
               "reason: medical note}]'")
    if not isinstance(value, list):
        raise ConfigError(f"{p}: extensions must be a list, {example}")
    out = []
    for i, e in enumerate(value):
        at = f"{p}: extensions[{i}]"
        if not isinstance(e, dict):
            raise ConfigError(f"{at}: expected a mapping, {example}")
        unknown = sorted(set(map(str, e)) - {"student", "item", "due", "exempt", "reason"})
        if unknown:
            raise ConfigError(f"{at}: unknown key(s) {', '.join(unknown)}; the keys are student, item, due, "
                              "exempt, reason")
        for key in ("student", "item", "reason"):
            if not isinstance(e.get(key), str) or not e[key].strip():
                raise ConfigError(f"{at}.{key} is required (a text)")
        exempt = e.get("exempt", False)
        if not isinstance(exempt, bool):
            raise ConfigError(f"{at}.exempt must be true or false")
        if (e.get("due") is None) == (not exempt):
            raise ConfigError(f"{at}: give either a due date (due:) or exempt: true")
        due = _parse_when(e["due"], f"{at}.due") if e.get("due") is not None else None
        out.append(Extension(student=e["student"], item=e["item"], reason=e["reason"], due=due, exempt=exempt))
    return out


def load_config(path: str | Path | None = None) -> CourseConfig:
    """Read the course config. Without a file, the defaults for the current folder."""
    p = Path(path) if path else DEFAULT_CONFIG
    if not p.exists():
        if path:
            raise ConfigError(f"course config {p} does not exist")
        cfg = CourseConfig(root=Path.cwd())
    else:
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark else str(p)
            raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{p}: expected a mapping of settings at the top level")
        base = p.resolve().parent
        root = (base / raw.get("root", "..")).resolve()
        cfg = CourseConfig(
            root=root,
            name=str(raw.get("name", CourseConfig.name)),
            languages=_languages(raw.get("languages", ["en", "zh"]), p),
            secret=str(raw.get("secret", CourseConfig.secret)),
            gradebook=(base / raw["gradebook"]) if raw.get("gradebook") else root / "gradebook.db",
            due=_due(raw.get("due"), p),
            late_policy=_late_policy(raw.get("late_policy"), p),
            submission_time=_choice(_time_source(raw.get("submission_time", "first_seen")), TIME_SOURCES,
                                    f"{p}: submission_time"),
            submission_times=(base / raw["submission_times"]) if raw.get("submission_times") else None,
            scheduler=raw.get("scheduler"),
            source=p.resolve(),
            assignments=parse_assignments(raw.get("assignments"), root, str(p), _parse_when),
            extensions=_extensions(raw.get("extensions"), p),
        )
        if cfg.submission_time == "times_file" and cfg.submission_times is None:
            raise ConfigError(f"{p}: submission_time: times_file needs submission_times: <the file exported "
                              "from your submission platform> (see docs/course.md)")
    cfg.secret = os.environ.get(SECRET_ENV, cfg.secret)
    return cfg
