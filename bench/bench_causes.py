"""What root causes cost: naming two known bugs at once while grading, and building the class report.

    .venv/bin/python bench/bench_causes.py [--assignment a3_attention] [--mutants 6]

1. Grades, in one sandbox and one pytest session each, a class of the demo's bob (two bugs at once in
   a3_attention) and the first `--mutants` single-bug mutants of the assignment, twice in the same
   sitting: with the fingerprinter's two-bug search switched off, then on. Reports the wall time of
   each, and how many failed checks each names (one bug, two bugs, none).
2. Times `classdata.build` + `write_dashboard` + `write_feedback` on the gradebook of a demo run
   (`--gradebook demo-out/gradebook.db`, when given), course facts included.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]


def grade_class(aid: str, sources: dict[str, str], pairs: bool) -> tuple[float, dict[str, tuple[int, int, int]]]:
    from grader.fingerprints.diagnose import Fingerprinter
    from tests.checks.grading import grade_sources

    original = Fingerprinter.diagnose_pair
    if not pairs:
        Fingerprinter.diagnose_pair = lambda self, transcript: None
    try:
        t0 = time.monotonic()
        results = grade_sources(aid, sources)
        wall = time.monotonic() - t0
    finally:
        Fingerprinter.diagnose_pair = original
    counts = {}
    for student, r in results.items():
        failed = [c for c in r.checks if not c.passed]
        counts[student] = (sum(1 for c in failed if c.bug and "+" not in c.bug),
                           sum(1 for c in failed if "+" in c.bug), sum(1 for c in failed if not c.bug))
    return wall, counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assignment", default="a3_attention")
    ap.add_argument("--mutants", type=int, default=6)
    ap.add_argument("--gradebook", type=Path, help="a demo run's gradebook.db, to time the report on it")
    args = ap.parse_args()
    from grader.catalog import get_assignment

    a = get_assignment(args.assignment)
    ref = (REPO / "solutions" / a.filename).read_text(encoding="utf-8")
    sources = {}
    bob = REPO / "course" / "examples" / "submissions" / a.id / "bob" / a.filename
    if bob.is_file():
        sources["bob (demo)"] = bob.read_text(encoding="utf-8")
    for m in importlib.import_module(f"tests.checks.mutants_{a.id}").MUTANTS[: args.mutants]:
        sources[f"mutant:{m.name}"] = m.apply(ref)
    print(f"{a.id}: {len(sources)} submissions, one session each way")
    for pairs in (False, True):
        wall, counts = grade_class(a.id, sources, pairs)
        print(f"  two-bug search {'on ' if pairs else 'off'}: {wall:6.1f} s wall")
        for student, (one, two, none) in counts.items():
            print(f"    {student:<40} failed checks named: one bug {one:3d}, two bugs {two:3d}, none {none:3d}")

    if args.gradebook:
        from grader.config import load_config
        from grader.gradebook import Gradebook
        from grader.reporting import classdata
        from grader.reporting.dashboard import write_dashboard
        from grader.reporting.facts import CourseFacts
        from grader.reporting.feedback import write_feedback

        cfg = load_config(REPO / "course" / "course.yaml")
        with Gradebook(args.gradebook) as gb:
            results = gb.results()
        t0 = time.monotonic()
        facts = CourseFacts(cfg)
        for item in {r.item for r in results}:
            facts.item(item)
        t1 = time.monotonic()
        rep = classdata.build(results, facts)
        with tempfile.TemporaryDirectory() as tmp:
            write_dashboard(rep, Path(tmp) / "report.html")
            t2 = time.monotonic()
            write_feedback(results, Path(tmp) / "feedback", facts=facts)
            t3 = time.monotonic()
        print(f"report on {len(results)} results: course facts {t1 - t0:.1f} s, class report + HTML + CSV "
              f"{t2 - t1:.2f} s, feedback (Markdown + HTML) {t3 - t2:.2f} s")


if __name__ == "__main__":
    main()
