"""`seqgrade demo` (what `make demo` runs) grades the bundled example class end to end."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.course import ASSIGNMENTS
from grader.gradebook import Gradebook

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_the_example_class_is_what_its_builder_generates(tmp_path):
    out = tmp_path / "submissions"
    subprocess.run([sys.executable, REPO / "scripts" / "build_demo_examples.py", out], check=True,
                   capture_output=True)
    cmp = filecmp.dircmp(out, REPO / "course" / "examples" / "submissions")
    stale = []

    def walk(c, prefix=""):
        stale.extend(prefix + n for n in c.left_only + c.right_only + c.diff_files)
        for name, sub in c.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(cmp)
    assert stale == [], f"run scripts/build_demo_examples.py and commit: {stale}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo-out"
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", OMP_NUM_THREADS="1")
    proc = subprocess.run([BIN / "seqgrade", "demo", "--out", out, "--no-lab"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with Gradebook(out / "gradebook.db") as gb:
        results = {(r.item, r.student): r for r in gb.results()}
    return out, proc.stdout, results


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS), ids=list(ASSIGNMENTS))
def test_each_example_student_gets_what_their_work_deserves(demo, assignment):
    _, _, results = demo
    r = {s: results[(assignment, s)] for s in ("alice", "bob", "carol", "dave", "erin")}
    full = r["alice"].max_score
    assert full > 0
    assert r["alice"].score == full, "correct code written differently"
    assert r["dave"].score == full, "correct code handed in as a notebook"
    assert 0 < r["bob"].score < full, "a realistic bug loses some points, not all"
    assert r["carol"].score == 0, "the hostile submission earns nothing"
    assert r["erin"].raw_score == full and r["erin"].late_penalty > 0 and r["erin"].score < full, "late"


def test_quizzes_are_graded_into_the_same_gradebook(demo):
    _, _, results = demo
    quizzes = {item for item, _ in results if not item.startswith("a")}
    assert len(quizzes) >= 4
    for q in quizzes:
        assert results[(q, "alice")].score == results[(q, "alice")].max_score > 0
        assert results[(q, "dave")].error, "an unparsable answers file is reported for that student"


def test_demo_writes_every_output_and_says_where(demo):
    out, stdout, _ = demo
    for path in ("exports/grades.csv", "exports/grades.json", "exports/canvas_import.csv",
                 "exports/gradescope/a3_attention/alice/results.json", "report.png",
                 "feedback/bob/a1_rnn.md", "feedback/bob/a1_rnn.html"):
        assert (out / path).is_file(), path
    assert "Where to look" in stdout and str(out / "gradebook.db") in stdout
