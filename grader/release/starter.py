"""Starter code from a reference: every ``### BEGIN SOLUTION`` region becomes a TODO.

The signature, docstring and everything outside the regions stay, so the
starter file imports and documents the task; the body a student must write
raises `NotImplementedError` naming the function (the same markers as
nbgrader's ClearSolutions).
"""

from __future__ import annotations

import ast
import re

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*$")
_END_RE = re.compile(r"^[ \t]*### END SOLUTION\s*$")

HEADER = (
    "# Starter code for {assignment}: generated from the reference by `seqgrade release`.\n"
    "# Replace every `raise NotImplementedError` (marked TODO) with your code; keep the names,\n"
    "# signatures and docstrings. Check your work with `seqgrade check {assignment} {filename}`.\n"
)


class RegionError(ValueError):
    """The solution markers are unbalanced or nested."""


def _enclosing_names(source: str) -> dict[int, str]:
    """line number -> qualified name of the innermost function containing it."""
    tree = ast.parse(source)
    names: dict[int, str] = {}

    def visit(node, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                q = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    for ln in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                        names[ln] = q
                visit(child, q + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return names


def clear_solutions(source: str, filename: str = "<source>") -> str:
    """Replace each solution region by a TODO raising NotImplementedError."""
    lines = source.splitlines(keepends=True)
    names = _enclosing_names(source)
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _BEGIN_RE.match(lines[i])
        if _END_RE.match(lines[i]):
            raise RegionError(f"{filename}:{i + 1}: '{END}' without a '{BEGIN}' before it")
        if not m:
            out.append(lines[i])
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and not _END_RE.match(lines[j]):
            if _BEGIN_RE.match(lines[j]):
                raise RegionError(f"{filename}:{j + 1}: a solution region inside another (from line {start + 1})")
            j += 1
        if j == len(lines):
            raise RegionError(f"{filename}:{start + 1}: '{BEGIN}' is never closed by '{END}'")
        indent = m.group("indent")
        where = names.get(start + 1, "this part")
        out.append(f"{indent}# TODO: write {where} (see the docstring).\n")
        out.append(f'{indent}raise NotImplementedError("TODO: {where}")\n')
        i = j + 1
    return "".join(out)


def make_starter(source: str, assignment: str, filename: str) -> str:
    """The starter file for one assignment, from its reference source."""
    body = clear_solutions(source, filename)
    starter = HEADER.format(assignment=assignment, filename=filename) + body
    compile(starter, filename, "exec")  # a region that was not a whole block body shows up here
    return starter
