"""nbgrader's side of the grading benchmark: `nbgrader autograde` on the same class as notebooks.

The notebooks come from `seqgrade nbgrader init` (every check of the assignment
as a test cell, run in the student's kernel, as plain nbgrader does); each
student's module goes into the last answer cell, the other answer cells are
emptied. What is timed is `nbgrader autograde` alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from bench.classes import REPO, make_class

BIN = Path(sys.executable).parent


def _run(args: list, cwd: Path, env: dict) -> str:
    p = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    return p.stdout + p.stderr


def nbgrader_run(assignment: str, n: int, work: Path) -> dict:
    from grader.config import load_config

    a = load_config(REPO / "course" / "course.yaml").assignment(assignment)
    course = work / "nbgrader-course"
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", HOME=str(work / "home"),
               OMP_NUM_THREADS="1")
    (work / "home").mkdir(exist_ok=True)
    _run([BIN / "seqgrade", "nbgrader", "init", course, "--course", REPO / "course" / "course.yaml",
          "--assignment", assignment, "--exchange", work / "exchange", "--seed", "1"], REPO, env)
    _run([BIN / "nbgrader", "generate_assignment", assignment], course, env)
    release = course / "release" / assignment / f"{a.module}.ipynb"
    subs = work / f"nb-subs-{n}"
    students = make_class(assignment, subs, n)
    for sid in students:
        source = (subs / sid / a.filename).read_text(encoding="utf-8")
        nb = nbformat.read(release, as_version=4)
        answer_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        for c in answer_cells:
            c.source = "pass"
        answer_cells[-1].source = source
        dest = course / "submitted" / sid / assignment
        dest.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest / f"{a.module}.ipynb")
        (dest / "timestamp.txt").write_text("2026-11-01 12:00:00.000000 UTC")
    start = time.perf_counter()
    _run([BIN / "nbgrader", "autograde", assignment], course, env)
    return {"n": n, "seconds": time.perf_counter() - start}
