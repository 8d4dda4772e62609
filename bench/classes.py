"""Synthetic classes for benchmarks: N submissions mixing correct and buggy implementations.

Correct ones are the reference and the alternative implementations the tests
use; buggy ones are the reference with one mutant's patch applied. Files only:
nothing here imports torch.
"""

from __future__ import annotations

import importlib
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def variants(assignment: str) -> tuple[list[str], list[str]]:
    """(correct sources, buggy sources) for an assignment."""
    from grader.config import load_config

    a = load_config(REPO / "course" / "course.yaml").assignment(assignment)
    ref = (REPO / "solutions" / a.filename).read_text(encoding="utf-8")
    correct = [ref] + [p.read_text(encoding="utf-8")
                       for p in sorted((REPO / "tests" / "checks" / "alternatives" / assignment).glob("*.py"))]
    buggy = []
    try:
        table = importlib.import_module(f"tests.checks.mutants_{assignment}")
        for m in table.MUTANTS:
            try:
                buggy.append(m.apply(ref))
            except AssertionError:
                pass
    except ModuleNotFoundError:
        pass
    return correct, buggy


def make_class(assignment: str, folder: Path, n: int, buggy_share: float = 0.5, seed: int = 0,
               notebooks: bool = False) -> list[str]:
    """Write n student folders under `folder`; returns the student ids."""
    from grader.config import load_config

    a = load_config(REPO / "course" / "course.yaml").assignment(assignment)
    correct, buggy = variants(assignment)
    rng = random.Random(seed)
    students = []
    for i in range(n):
        pool = buggy if (buggy and rng.random() < buggy_share) else correct
        src = rng.choice(pool) + f"\n# student {i}\n"  # distinct content hashes
        sid = f"s{i:04d}"
        d = folder / sid
        d.mkdir(parents=True, exist_ok=True)
        if notebooks:
            nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                             "source": src}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
            (d / f"{a.module}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
        else:
            (d / a.filename).write_text(src, encoding="utf-8")
        students.append(sid)
    return students
