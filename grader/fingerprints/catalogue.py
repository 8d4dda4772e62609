"""The catalogue of known bugs of an assignment, and the variants of the reference built from it.

A catalogue is `solutions/checks/<id>/bugs.py` (hidden material: it is the
reference with changes, so it never ships to students). It defines

    BUGS = [Bug("gru_reset_before_matmul", [(old, new), ...], says="..."), ...]

Each `(old, new)` patch must match the reference exactly once. `says` is what
the student reads: the mistake in words and the line of the equation or of
the contract that it breaks.
"""

from __future__ import annotations

import ast
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError


@dataclass(frozen=True)
class Bug:
    """A known mistake: patches to the reference, and what to tell a student whose code makes it."""

    id: str
    patches: tuple[tuple[str, str], ...]
    says: str

    def __init__(self, id: str, patches, says: str):
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "patches", tuple((str(o), str(n)) for o, n in patches))
        object.__setattr__(self, "says", says)
        if not says.strip():
            raise ValueError(f"bug {id}: `says` must tell the student what is wrong")

    def apply(self, source: str) -> str:
        """The reference's source with this bug (each patch must match exactly once)."""
        for old, new in self.patches:
            n = source.count(old)
            if n != 1:
                raise ConfigError(f"bug {self.id}: {old[:60]!r} occurs {n} times in the reference (it must "
                                  "occur once); update the bug's patch in the catalogue")
            source = source.replace(old, new)
        return source


def catalogue_path(hidden_checks: Path) -> Path:
    return hidden_checks / "bugs.py"


def load_bugs(path: Path) -> list[Bug]:
    """The `BUGS` list of a catalogue file ([] when there is none)."""
    if not path.is_file():
        return []
    from ..engine.loading import load_trusted_module

    module = load_trusted_module(path, f"seqgrade_bugs_{path.parent.name}")
    bugs = list(getattr(module, "BUGS", []))
    ids = [b.id for b in bugs]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ConfigError(f"{path}: bug ids must be unique; repeated: {', '.join(dup)}")
    return bugs


class Variants:
    """The reference with each bug applied, imported on first use and kept for the run."""

    def __init__(self, reference: Path, bugs: list[Bug], module_name: str):
        self.reference = reference
        self.source = reference.read_text(encoding="utf-8")
        self.bugs = {b.id: b for b in bugs}
        self.module_name = module_name
        self._modules: dict[str, types.ModuleType] = {}
        self._reach = _Reach(self.source)

    def module(self, bug_id: str) -> types.ModuleType:
        """The variant `bug_id`: "" the reference, "a" one bug, "a+b" two bugs applied one after the other
        (a `ConfigError` when their patches overlap)."""
        if bug_id not in self._modules:
            source = self.source
            for part in split_key(bug_id):
                source = self.bugs[part].apply(source)
            name = f"seqgrade_variant_{self.module_name}_{(bug_id or 'reference').replace('+', '__')}"
            module = types.ModuleType(name)
            module.__file__ = str(self.reference)
            sys.modules[name] = module
            try:
                exec(compile(source, f"{self.reference} [{bug_id or 'reference'}]", "exec"), module.__dict__)
            except Exception as exc:
                del sys.modules[name]
                raise ConfigError(f"the reference with bug {bug_id} could not be imported: "
                                  f"{type(exc).__name__}: {exc}") from exc
            self._modules[bug_id] = module
        return self._modules[bug_id]

    def reaches(self, bug_id: str, names: set[str]) -> bool:
        """Whether the bug (every bug of an "a+b" key) can change what the contract's `names` compute."""
        return all(self._reach.reaches([old for old, _ in self.bugs[part].patches], names)
                   for part in split_key(bug_id))


def split_key(bug_id: str) -> list[str]:
    """The bugs of a variant's key: "" -> [], "a" -> ["a"], "a+b" -> ["a", "b"]."""
    return [part for part in bug_id.split("+") if part]


class _Reach:
    """Which top-level definitions a change can affect: those it is in, and all that use them by name."""

    def __init__(self, source: str):
        self.source = source
        tree = ast.parse(source)
        self.defs = {n.name: n for n in tree.body
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        self.uses = {name: {x.id for x in ast.walk(node) if isinstance(x, ast.Name)} & set(self.defs)
                     for name, node in self.defs.items()}
        self._cache: dict[tuple, set[str] | None] = {}

    def _changed(self, olds: list[str]) -> set[str] | None:
        """The definitions the patched text lies in; None when it lies outside all (module level)."""
        key = tuple(olds)
        if key in self._cache:
            return self._cache[key]
        changed: set[str] | None = set()
        for old in olds:
            at = self.source.find(old)
            if at < 0:
                changed = None
                break
            first = self.source.count("\n", 0, at) + 1
            last = first + old.count("\n")
            inside = {n for n, node in self.defs.items()
                      if node.lineno <= first and last <= (node.end_lineno or node.lineno)}
            if not inside:
                changed = None
                break
            changed |= inside
        if changed is not None:
            grew = True
            while grew:
                more = {n for n, used in self.uses.items() if used & changed} - changed
                grew = bool(more)
                changed |= more
        self._cache[key] = changed
        return changed

    def reaches(self, olds: list[str], names: set[str]) -> bool:
        changed = self._changed(olds)
        return changed is None or bool(changed & names)
