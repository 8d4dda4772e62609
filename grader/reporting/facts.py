"""What the course knows about each item's checks, for grouping failures into causes.

Results carry a check's name, kind and diagnosed bug; the rest comes from the
course, on the instructor's side: which contract functions a check calls (its
`targets`), what each known bug is called (the catalogue,
`solutions/checks/<id>/bugs.py`), which functions of the reference share code,
and the concept tags of quiz questions. Everything here is the course's own
material (trusted); nothing a student wrote is read.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SeqgradeError

if TYPE_CHECKING:
    from ..config import CourseConfig


@dataclass(frozen=True)
class CheckFacts:
    """One check (or quiz question) as the course declares it."""

    targets: tuple[str, ...] = ()  # the contract functions and modules it calls
    kind: str = ""  # values, gradients, masks, ... ("" for quiz questions)
    tags: tuple[str, ...] = ()  # a quiz question's concept tags


@dataclass
class ItemFacts:
    """What the course says about one assignment's or quiz's checks."""

    item: str
    checks: dict[str, CheckFacts] = field(default_factory=dict)  # by check name ("test_x[a]") and function
    bugs: dict[str, str] = field(default_factory=dict)  # known bug id -> what to tell the student
    uses: dict[str, frozenset[str]] = field(default_factory=dict)  # reference definition -> all it uses
    contract: frozenset[str] = frozenset()  # the names the reference exports (its __all__)

    def check(self, name: str) -> CheckFacts:
        return self.checks.get(name) or self.checks.get(name.split("[", 1)[0]) or CheckFacts()

    def shared(self, functions: set[str]) -> set[str]:
        """Definitions of the reference that every one of `functions` uses (itself included), by name."""
        sets = [self._closure(_owner(f)) for f in functions]
        return set.intersection(*sets) if sets else set()

    def users(self, name: str) -> set[str]:
        """Contract names whose code uses `name` (itself included)."""
        return {c for c in self.contract if name in self._closure(c)}

    def _closure(self, name: str) -> set[str]:
        return {name} | set(self.uses.get(name, ()))


def _owner(target: str) -> str:
    """"Seq2Seq.greedy_decode" -> "Seq2Seq": the top-level definition a target lives in."""
    return target.split(".", 1)[0]


def reference_uses(source: str) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """The reference's top-level definitions -> every definition they use (transitively), and its __all__."""
    tree = ast.parse(source)
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    direct = {name: {x.id for x in ast.walk(node) if isinstance(x, ast.Name)} & set(defs) - {name}
              for name, node in defs.items()}
    exported: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            try:
                exported = {str(x) for x in ast.literal_eval(node.value)}
            except ValueError:
                exported = set()
    closure: dict[str, frozenset[str]] = {}
    for name in defs:
        seen, todo = set(), list(direct[name])
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo += direct.get(n, ())
        closure[name] = frozenset(seen - {name})
    contract = frozenset(exported & set(defs)) or frozenset(n for n in defs if not n.startswith("_"))
    return closure, contract


class CourseFacts:
    """`ItemFacts` per item of a course, read on first use (collecting an assignment's checks takes a second)."""

    def __init__(self, cfg: "CourseConfig | None"):
        self.cfg = cfg
        self._items: dict[str, ItemFacts] = {}
        self.problems: list[str] = []  # what could not be read (the report says so and goes on)

    def item(self, item: str) -> ItemFacts:
        if item not in self._items:
            self._items[item] = self._read(item)
        return self._items[item]

    def _read(self, item: str) -> ItemFacts:
        facts = ItemFacts(item)
        cfg = self.cfg
        if cfg is None:
            return facts
        try:
            if item in cfg.assignments:
                self._assignment(cfg, item, facts)
            else:
                self._quiz(cfg, item, facts)
        except (SeqgradeError, OSError, SyntaxError, ValueError) as exc:
            self.problems.append(f"{item}: {exc}")
        return facts

    @staticmethod
    def _assignment(cfg: "CourseConfig", item: str, facts: ItemFacts) -> None:
        from ..checks.inventory import list_checks
        from ..fingerprints.catalogue import catalogue_path, load_bugs

        a = cfg.assignments[item]
        hidden = a.hidden_checks.is_dir()
        for c in list_checks(a, cfg, hidden=hidden):
            f = CheckFacts(targets=tuple(c.targets), kind=c.kind)
            facts.checks[c.name] = f
            facts.checks.setdefault(c.name.split("[", 1)[0], f)
        if hidden:
            facts.bugs = {b.id: b.says for b in load_bugs(catalogue_path(a.hidden_checks))}
        if Path(a.reference).is_file():
            facts.uses, facts.contract = reference_uses(Path(a.reference).read_text(encoding="utf-8"))

    @staticmethod
    def _quiz(cfg: "CourseConfig", item: str, facts: ItemFacts) -> None:
        from ..quiz.loader import find_quiz_file, load_quiz

        quiz = load_quiz(find_quiz_file(item, cfg.quizzes_dir), cfg.languages)
        for q in quiz.questions:
            facts.checks[q.id] = CheckFacts(tags=tuple(q.tags))
