"""`seqgrade demo` (what `make demo` runs), run once per test session for every test that reads its output.

The tests that use `demo` carry ``pytest.mark.xdist_group("demo")`` so that they share one worker (and one
run of the demo): tests/test_demo.py and the browser test of its pages, tests/browser/test_reports.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class DemoRun:
    out: Path  # demo-out
    stdout: str
    results: dict  # (item, student) -> SubmissionResult
    seconds: float  # the demo's wall time


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> DemoRun:
    import time

    from grader.gradebook import Gradebook

    out = tmp_path_factory.mktemp("demo") / "demo-out"
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", OMP_NUM_THREADS="1")
    t0 = time.monotonic()
    proc = subprocess.run([BIN / "seqgrade", "demo", "--out", out, "--no-lab"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1500)
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with Gradebook(out / "gradebook.db") as gb:
        results = {(r.item, r.student): r for r in gb.results()}
    return DemoRun(out, proc.stdout, results, seconds)
