"""The package's layers stay clean: every import points down (or sideways within a layer), never up.

    commands, cli, */cli                              (5) what users run (a feature's click group too)
    quiz, nbgrader, reporting, release, labs, demo    (4) features
    engine                                            (3) grading processes, pools, Dask, the one core
    checks                                            (2) what check authors use, the pytest plugin
    sandbox                                           (1) running untrusted code
    errors, results, jobs, config, catalog, ...       (0) records and rules every layer shares

Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "grader"
LAYERS = {"sandbox": 1, "checks": 2, "engine": 3, "quiz": 4, "nbgrader": 4, "reporting": 4, "release": 4,
          "labs": 4, "demo": 4, "fingerprints": 3, "commands": 5, "cli": 5}
NAMES = {0: "base", 1: "sandbox", 2: "checks", 3: "engine", 4: "features", 5: "commands"}


def layer_of(module: str) -> int:
    """`grader.x.y` -> its layer (top-level modules not named above are the base)."""
    parts = module.split(".")
    if len(parts) > 2 and parts[-1] == "cli":  # quiz/cli.py, nbgrader/cli.py: the feature's commands
        return 5
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, name: str | None = None) -> list[tuple[str, int]]:
    """(grader module imported, line) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = (name or module_name(path)).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.startswith("grader")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import x, y: each is a module of that package
                    out += [(f"{target}.{a.name}", node.lineno) for a in node.names]
                    continue
            else:
                target = node.module or ""
            if target.startswith("grader"):
                out.append((target, node.lineno))
    return out


FILES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_imports_point_down(path):
    mine = layer_of(module_name(path))
    wrong = [f"{path.relative_to(PACKAGE)}:{line} imports {target} ({NAMES[layer_of(target)]}) from the "
             f"{NAMES[mine]} layer" for target, line in imports(path) if layer_of(target) > mine]
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_wrong_way_arrow(tmp_path):
    """The rule can fail: a checks module importing the engine, even lazily and relatively, is reported."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..engine.core import grade_jobs\n    from . import compare\n")
    found = imports(probe, "grader.checks.probe")
    assert found == [("grader.engine.core", 2), ("grader.checks.compare", 3)]
    assert [t for t, _ in found if layer_of(t) > layer_of("grader.checks.probe")] == ["grader.engine.core"]


def test_job_and_the_checks_version_live_outside_the_pytest_plugin():
    from grader.checks import collection, plugin
    from grader.jobs import Job

    assert Job.__module__ == "grader.jobs"
    assert "checks_version" not in vars(plugin) and hasattr(collection, "checks_version")
