"""Running the real `seqgrade` command on small classes in temporary folders."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).parent / "seqgrade"
SEQGRADE = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-c", "from grader.cli import main; main()"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(REPO), MPLBACKEND="Agg")

REFERENCE = (REPO / "solutions" / "rnn.py").read_text(encoding="utf-8")
STARTER = (REPO / "assignments" / "a1_rnn" / "rnn.py").read_text(encoding="utf-8")
# Wrong values whatever the reference's internals: every RNN output is shifted a little.
MUTANT = REFERENCE + '''

_seqgrade_test_forward = RNN.forward


def _shifted_forward(self, *args, **kwargs):
    output, h_n = _seqgrade_test_forward(self, *args, **kwargs)
    return output + 0.01, h_n


RNN.forward = _shifted_forward
'''
SYNTAX_ERROR = "import torch\n\nclass RNNCell(torch.nn.Module):\n    def forward(self, x\n        return x\n"


def snapshot_a1(root: Path) -> Path:
    """a1_rnn's reference, hidden and public checks copied under `root`.

    Colleagues edit the checks while tests run; grading from a snapshot keeps
    every run of one test on the same checks (the same checks version).
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    (root / "solutions" / "checks").mkdir(parents=True, exist_ok=True)
    for rel in ("solutions/__init__.py", "solutions/rnn.py", "solutions/checks/__init__.py"):
        if (REPO / rel).is_file():
            shutil.copy(REPO / rel, root / rel)
    shutil.copytree(REPO / "solutions" / "checks" / "a1_rnn", root / "solutions" / "checks" / "a1_rnn",
                    ignore=ignore)
    shutil.copytree(REPO / "assignments" / "a1_rnn", root / "assignments" / "a1_rnn", ignore=ignore)
    return root


def write_course(folder: Path, *, due: str = "2099-01-01T00:00:00+00:00", extra: str = "") -> Path:
    """A course config over a snapshot of a1_rnn, with its own gradebook and far due dates."""
    folder.mkdir(parents=True, exist_ok=True)
    root = snapshot_a1(folder / "root")
    cfg = folder / "course.yaml"
    cfg.write_text(
        f"name: test course\nroot: {root}\ngradebook: {folder / 'gradebook.db'}\nsecret: test-secret\n"
        "assignments:\n  a1_rnn: {module: rnn, title: {en: RNNs, zh: 循环神经网络}}\n"
        f"due:\n  a1_rnn: {due}\n"
        "late_policy: {kind: per_day, penalty: 0.1, cap: 0.5}\n" + extra,
        encoding="utf-8")
    return cfg


def write_class(folder: Path, students: dict[str, str | None]) -> Path:
    """One folder per student holding rnn.py (None: a folder without any Python file)."""
    for name, source in students.items():
        d = folder / name
        d.mkdir(parents=True, exist_ok=True)
        if source is None:
            (d / "notes.txt").write_text("I could not finish\n", encoding="utf-8")
        else:
            (d / "rnn.py").write_text(source, encoding="utf-8")
    return folder


def seqgrade(*args: str | Path, timeout: float = 420, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(SEQGRADE + [str(a) for a in args], cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=timeout)


def start_seqgrade(*args: str | Path, cwd: Path = REPO) -> subprocess.Popen:
    """Start `seqgrade` in its own process group (so the whole group can be killed)."""
    return subprocess.Popen(SEQGRADE + [str(a) for a in args], cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def rows(gradebook: Path) -> dict[str, tuple[int, str, float, str]]:
    """student -> (row id, graded_at, raw score, error), read with a plain SQLite connection."""
    if not gradebook.exists():
        return {}
    db = sqlite3.connect(f"file:{gradebook}?mode=ro", uri=True, timeout=30)
    try:
        found = {}
        for rid, student, graded_at, error in db.execute(
                "SELECT id, student, graded_at, error FROM results WHERE item = 'a1_rnn'"):
            score = db.execute("SELECT COALESCE(SUM(score), 0) FROM checks WHERE result_id = ?", (rid,)).fetchone()[0]
            found[student] = (rid, graded_at, score, error)
        return found
    except sqlite3.OperationalError:  # the tables are not created yet
        return {}
    finally:
        db.close()


def integrity(gradebook: Path) -> str:
    db = sqlite3.connect(gradebook)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def notebook_of(source: str) -> str:
    """The module as a notebook: one code cell per top-level block, a markdown cell and a magic."""
    blocks, current = [], []
    for line in source.splitlines(keepends=True):
        if line.startswith(("class ", "def ")) and current:
            blocks.append("".join(current))
            current = []
        current.append(line)
    blocks.append("".join(current))
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# My RNN\n"},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": "%matplotlib inline\n!nvidia-smi\n"}]
    cells += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": b}
              for b in blocks]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
