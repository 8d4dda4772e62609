"""The numbers of the class report, computed once for the HTML dashboard, its CSV files and the PNG.

- `cells`: each student's score on each item as a fraction of its maximum, with
  what the instructor must see beside it (late, extended, exempt, refused,
  tampering, limit, a problem with the submission);
- `distributions`: per item, every student's fraction, quartiles and counts;
- `concepts`: mastery per check kind (values, gradients, masks...) over the
  assignments, and per quiz tag, per student and for the class;
- `causes`: the root causes (`grader.reporting.causes`) the most students
  share, per item, with who has each.

Plain data: nothing is escaped here, every writer escapes for its medium.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from ..checks.markers import KINDS
from ..results import SubmissionResult
from .causes import ORDER, Cause, root_causes
from .facts import CourseFacts
from .numbers import fraction, points

# What a cell can be marked with, in the order they are shown, and what each means.
MARKS = {
    "late": "late: a penalty was taken off",
    "extended": "extended: a per-student due date applied",
    "exempt": "exempt: the item does not count for this student",
    "refused": "refused: the grader refused something in the submission",
    "tampering": "tampering detected",
    "limit": "stopped at a resource limit",
    "problem": "the submission could not be graded as it is",
}


@dataclass
class Cell:
    student: str
    item: str
    result: SubmissionResult | None
    fraction: float | None  # score / max_score (late penalty applied); None when there is no result
    marks: list[str] = field(default_factory=list)  # keys of MARKS
    notes: list[str] = field(default_factory=list)  # what each mark is about, in words (student text raw)


@dataclass
class Item:
    id: str
    kind: str  # assignment | quiz
    max_score: float


@dataclass
class Distribution:
    item: str
    values: list[tuple[str, float]]  # (student, fraction), lowest first
    q1: float
    median: float
    q3: float

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def full(self) -> int:
        return sum(1 for _, v in self.values if v >= 1 - 1e-9)

    @property
    def zero(self) -> int:
        return sum(1 for _, v in self.values if v <= 1e-9)


@dataclass
class Concept:
    name: str  # a check kind ("masks") or a quiz tag ("gates")
    source: str  # "check kind" | "quiz tag"
    items: list[str]  # the items it was measured in
    by_student: dict[str, float | None]  # fraction of the points of its checks/questions
    checks: int  # how many checks or questions measure it (over the items)

    @property
    def mean(self) -> float | None:
        vals = [v for v in self.by_student.values() if v is not None]
        return sum(vals) / len(vals) if vals else None


@dataclass
class SharedCause:
    """A root cause as the class has it: one item's cause, and the students whose failures it explains."""

    item: str
    key: str
    kind: str
    title: str
    detail: str
    students: list[str] = field(default_factory=list)
    checks: int = 0  # failed checks it is part of, over those students
    points: float = 0.0  # points lost on them


@dataclass
class ClassReport:
    items: list[Item]
    students: list[str]
    cells: dict[tuple[str, str], Cell]  # (student, item)
    distributions: list[Distribution]
    concepts: list[Concept]
    causes: list[SharedCause]
    problems: list[str] = field(default_factory=list)  # what the course facts could not tell

    def cell(self, student: str, item: str) -> Cell:
        return self.cells[(student, item)]

    def total(self, student: str) -> tuple[float, float]:
        """(points, maximum) over the items that count for `student` (exempt ones do not)."""
        got = top = 0.0
        for it in self.items:
            c = self.cells[(student, it.id)]
            if "exempt" in c.marks:
                continue
            top += it.max_score
            got += c.result.score if c.result else 0.0
        return got, top

    def total_fraction(self, student: str) -> float | None:
        got, top = self.total(student)
        return fraction(got, top)


def _cell(student: str, item: str, r: SubmissionResult | None) -> Cell:
    if r is None:
        return Cell(student, item, None, None)
    c = Cell(student, item, r, fraction(r.score, r.max_score))
    if r.extension.startswith("exempt"):
        c.marks.append("exempt")
        c.notes.append(r.extension)
    elif r.extension:
        c.marks.append("extended")
        c.notes.append(r.extension)
    if r.late_penalty:
        c.marks.append("late")
        c.notes.append(f"late: -{r.late_penalty:.0%} of {points(r.raw_score)} (submitted {r.submitted_at}, "
                       f"{r.time_source or 'time source unknown'})")
    for f in r.flags:
        if f.kind not in c.marks:
            c.marks.append(f.kind)
        c.notes.append(f"{f.kind}: {f.where}: {f.detail}")
    if r.error:
        c.marks.append("problem")
        c.notes.append(f"problem: {r.error}")
    c.marks.sort(key=list(MARKS).index)
    return c


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[1], q[2]


def build(results: list[SubmissionResult], facts: CourseFacts | None = None) -> ClassReport:
    """The class report of `results` (one per student and item), causes grouped with `facts`."""
    facts = facts or CourseFacts(None)
    by_key = {(r.student, r.item): r for r in results}
    items: list[Item] = []
    for kind in ("assignment", "quiz"):
        for item in sorted({r.item for r in results if r.kind == kind}):
            items.append(Item(item, kind, max((r.max_score for r in results if r.item == item), default=0.0)))
    students = sorted({r.student for r in results})
    cells = {(s, it.id): _cell(s, it.id, by_key.get((s, it.id))) for s in students for it in items}

    distributions = []
    for it in items:
        vals = sorted(((s, cells[(s, it.id)].fraction) for s in students
                       if cells[(s, it.id)].fraction is not None and "exempt" not in cells[(s, it.id)].marks),
                      key=lambda sv: (sv[1], sv[0]))
        if vals:
            q1, med, q3 = _quartiles([v for _, v in vals])
            distributions.append(Distribution(it.id, vals, q1, med, q3))

    causes_by: dict[tuple[str, str], list[Cause]] = {}
    for r in results:
        causes_by[(r.student, r.item)] = root_causes(r, facts.item(r.item)) if any(not c.passed for c in r.checks) \
            or r.error else []
    return ClassReport(items, students, cells, distributions, _concepts(results, students, facts),
                       _shared_causes(results, causes_by), problems=list(facts.problems))


def _concepts(results: list[SubmissionResult], students: list[str], facts: CourseFacts) -> list[Concept]:
    """Mastery per check kind (assignments; points before any late penalty) and per quiz tag."""
    sums: dict[tuple[str, str], dict[str, list[float]]] = {}  # (source, name) -> student -> [got, max]
    where: dict[tuple[str, str], set[str]] = {}
    measured: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for r in results:
        item_facts = facts.item(r.item)
        for c in r.checks:
            if c.max_score <= 0:
                continue
            if r.kind == "assignment":
                kind = c.kind or item_facts.check(c.name).kind
                keys = [("check kind", kind)] if kind else []
            else:
                keys = [("quiz tag", t) for t in item_facts.check(c.name).tags]
            for key in keys:
                acc = sums.setdefault(key, {}).setdefault(r.student, [0.0, 0.0])
                acc[0] += c.score
                acc[1] += c.max_score
                where.setdefault(key, set()).add(r.item)
                measured.setdefault(key, set()).add((r.item, c.name))
    order = {k: i for i, k in enumerate(KINDS)}
    out = []
    for (source, name), per in sums.items():
        out.append(Concept(name, source, sorted(where[(source, name)]),
                           {s: (fraction(*per[s]) if s in per else None) for s in students},
                           len(measured[(source, name)])))
    return sorted(out, key=lambda c: (c.source != "check kind", order.get(c.name, len(order)), c.name))


def _shared_causes(results: list[SubmissionResult], causes_by: dict[tuple[str, str], list[Cause]]
                   ) -> list[SharedCause]:
    """Every cause with the students who have it, most students first. Submissions flagged for tampering or
    refused are left out: what they fail says nothing about what the class understood."""
    shared: dict[tuple[str, str], SharedCause] = {}
    for r in results:
        if any(f.kind in ("tampering", "refused") for f in r.flags):
            continue
        for cause in causes_by.get((r.student, r.item), []):
            s = shared.setdefault((r.item, cause.key), SharedCause(r.item, cause.key, cause.kind, cause.title,
                                                                   cause.detail if cause.kind != "problem" else ""))
            s.students.append(r.student)
            s.checks += len(cause.checks)
            s.points = round(s.points + cause.points, 6)
    return sorted(shared.values(), key=lambda s: (-len(s.students), ORDER[s.kind], -s.checks, s.item, s.key))
