"""What checks an assignment has, without running them (a static read of the check files)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from ..catalog import Assignment
from ..config import CourseConfig
from .markers import DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class CheckEntry:
    name: str
    points: float
    visibility: str
    description: str
    file: Path
    timeout: float = DEFAULT_TIMEOUT_S


def _literal(node, default):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return default


def _entries(path: Path, visibility: str) -> list[CheckEntry]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test"):
            continue
        points, desc, timeout = 1.0, (ast.get_docstring(fn) or "").split("\n")[0], DEFAULT_TIMEOUT_S
        params = 1
        for dec in fn.decorator_list:
            if isinstance(dec, ast.Call) and getattr(dec.func, "id", getattr(dec.func, "attr", "")) == "check":
                for kw in dec.keywords:
                    if kw.arg == "points":
                        points = float(_literal(kw.value, 1.0))
                    elif kw.arg == "description":
                        desc = str(_literal(kw.value, desc))
                    elif kw.arg == "timeout":
                        timeout = float(_literal(kw.value, timeout))
            if (isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize"
                    and len(dec.args) >= 2):
                values = _literal(dec.args[1], None)
                params *= len(values) if isinstance(values, (list, tuple)) else 1
        name = fn.name if params == 1 else f"{fn.name}[...x{params}]"
        out.append(CheckEntry(name, points * params, visibility, desc, path, timeout))
    return out


def list_checks(a: Assignment, cfg: CourseConfig, hidden: bool = True) -> list[CheckEntry]:
    found: list[CheckEntry] = []
    dirs = [(a.public_checks(cfg), "public")] + ([(a.hidden_checks(cfg), "hidden")] if hidden else [])
    for folder, vis in dirs:
        if folder.is_dir():
            for f in sorted(folder.glob("test_*.py")):
                found.extend(_entries(f, vis))
    return found
