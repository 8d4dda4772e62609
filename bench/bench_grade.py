"""Grading throughput: seqgrade's sandboxed pool against nbgrader autograde, on one class of a5_transformer.

    .venv/bin/python bench/bench_grade.py                 # 200 submissions, 50 for the memory comparison
    .venv/bin/python bench/bench_grade.py --n 40 --nbgrader-sample 10
    .venv/bin/python bench/bench_grade.py --skip-nbgrader --root /tmp/old-main   # another checkout, same class

It writes N submissions (a mix of correct and buggy), grades them with
`seqgrade grade` (sandbox on, one worker per core) and reports wall time,
per-submission time and peak memory of the whole process tree; it repeats the
run with fewer submissions to show memory stays flat. `--root` grades with another
checkout of seqgrade (its grader, checks and course), the class still written
by this one: two versions compared in one sitting grade the same files. With nbgrader
installed it grades the same class as notebooks with `nbgrader autograde`
running the same checks in the kernel, and prints the ratio (a sample of
`--nbgrader-sample` notebooks is timed and scaled when smaller than N).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.classes import REPO, make_class  # noqa: E402
from bench.measure import run_measured  # noqa: E402

SEQGRADE = str(Path(sys.executable).with_name("seqgrade"))


def seqgrade_run(assignment: str, n: int, workdir: Path, sandbox: str, root: Path = REPO,
                 buggy_share: float = 0.5) -> dict:
    subs = workdir / f"subs-{n}"
    make_class(assignment, subs, n, buggy_share=buggy_share)
    gb = workdir / f"gradebook-{n}.db"
    env = dict(os.environ, PYTHONPATH=str(root)) if root != REPO else None
    m = run_measured([SEQGRADE, "grade", assignment, str(subs), "--gradebook", str(gb), "--quiet",
                      "--sandbox", sandbox, "--course", str(root / "course" / "course.yaml")], env=env,
                     cwd=str(root))  # run from the checkout: a process that puts its folder on sys.path finds it
    if m.returncode != 0:
        raise SystemExit(f"seqgrade grade failed:\n{m.output[-3000:]}")
    return {"n": n, "seconds": m.seconds, "per_submission": m.seconds / n, "peak_rss_mb": m.peak_rss_mb}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assignment", default="a5_transformer")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--small", type=int, default=50, help="the smaller class for the memory comparison")
    ap.add_argument("--nbgrader-sample", type=int, default=0,
                    help="notebooks to time under nbgrader (0: all N; nbgrader takes ~3 s each)")
    ap.add_argument("--skip-nbgrader", action="store_true")
    ap.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "none"])
    ap.add_argument("--root", type=Path, default=REPO, help="the seqgrade checkout to grade with")
    ap.add_argument("--buggy-share", type=float, default=0.5, help="the share of buggy submissions in the class")
    args = ap.parse_args()
    root = args.root.resolve()
    work = Path(tempfile.mkdtemp(prefix="seqgrade-bench-"))
    print(f"machine: {os.cpu_count()} cores; class: {args.assignment}; grader: {root}; workdir {work}")
    try:
        rows = [seqgrade_run(args.assignment, n, work, args.sandbox, root, args.buggy_share) for n in (args.small, args.n)]
        for r in rows:
            print(f"seqgrade grade  n={r['n']:4d}  wall {r['seconds']:7.1f} s  "
                  f"{r['per_submission'] * 1000:6.0f} ms/submission  peak RSS {r['peak_rss_mb']:6.0f} MiB")
        if not args.skip_nbgrader:
            from bench.nbgrader_run import nbgrader_run

            sample = args.nbgrader_sample or args.n
            nb = nbgrader_run(args.assignment, sample, work)
            per = nb["seconds"] / sample
            total = per * args.n
            ours = rows[-1]["seconds"]
            note = "" if sample == args.n else f" (timed {sample}, scaled to {args.n})"
            print(f"nbgrader autograde  n={args.n:4d}  wall {total:7.1f} s{note}  {per * 1000:6.0f} ms/submission")
            print(f"speed-up: {total / ours:.1f}x nbgrader's throughput")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
