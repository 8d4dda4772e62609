"""Grading throughput: the local worker pool against a Dask LocalCluster, in one run.

    .venv/bin/python bench/bench_dask.py                      # 40 submissions of a1_rnn, 2 workers each way
    .venv/bin/python bench/bench_dask.py --n 100 --assignment a2_gated --workers 4

It writes N submissions (a mix of correct and buggy ones), grades them with
`seqgrade grade -j W` (the local pool), then starts a LocalCluster of W worker
processes (one thread each) and grades the same class with `seqgrade grade
--scheduler` and the same seed. Both runs start cold: their grading processes
import torch and collect the checks inside the timed run. It reports
submissions per minute for each, the cluster's start-up separately, checks
that both gave the same scores and messages, and with `--warm` adds a second
cluster run that reuses the grading processes the first one left on the
workers (what a cluster that stays up between runs with the same seed sees).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.classes import REPO, make_class  # noqa: E402
from bench.measure import run_measured  # noqa: E402

SEQGRADE = str(Path(sys.executable).with_name("seqgrade"))
SEED = 20261130


def grade(assignment: str, subs: Path, work: Path, name: str, extra: list[str]) -> dict:
    gb, out = work / f"{name}.db", work / f"{name}.json"
    cmd = [SEQGRADE, "grade", assignment, str(subs), "--gradebook", str(gb), "--json", str(out), "--quiet",
           "--seed", str(SEED), "--course", str(REPO / "course" / "course.yaml")] + extra
    m = run_measured(cmd)
    if m.returncode != 0:
        raise SystemExit(f"{name}: seqgrade grade failed:\n{m.output[-3000:]}")
    data = json.loads(out.read_text(encoding="utf-8"))
    n = len(data["submissions"])
    return {"name": name, "n": n, "seconds": m.seconds, "per_minute": 60.0 * n / m.seconds,
            "results": data["submissions"]}


def outcome(results: list[dict]) -> dict:
    """What must not depend on where a class was graded."""
    return {s["student"]: (s["raw_score"], s["error"], [(c["name"], c["status"], c["message"]) for c in s["checks"]])
            for s in results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assignment", default="a1_rnn")
    ap.add_argument("--n", type=int, default=40, help="submissions in the class")
    ap.add_argument("--workers", type=int, default=2, help="local pool workers, and Dask worker processes")
    ap.add_argument("--warm", action="store_true", help="add a second cluster run on the warm workers")
    args = ap.parse_args()
    from distributed import LocalCluster

    work = Path(tempfile.mkdtemp(prefix="seqgrade-bench-dask-"))
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} at start; class: {args.n} x {args.assignment}; "
          f"{args.workers} workers each way; workdir {work}", flush=True)
    try:
        subs = work / "submissions"
        make_class(args.assignment, subs, args.n)
        rows = [grade(args.assignment, subs, work, "local pool", ["-j", str(args.workers)])]
        start = time.perf_counter()
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=40) as cluster:
            up = time.perf_counter() - start
            sched = ["--scheduler", cluster.scheduler_address, "--regrade"]
            rows.append(grade(args.assignment, subs, work, f"LocalCluster x{args.workers}", sched))
            if args.warm:
                rows.append(grade(args.assignment, subs, work, f"LocalCluster x{args.workers}, warm", sched))
        print(f"\n{'run':28s} {'n':>4s} {'wall s':>8s} {'subs/min':>9s}")
        for r in rows:
            print(f"{r['name']:28s} {r['n']:4d} {r['seconds']:8.1f} {r['per_minute']:9.1f}")
        print(f"(the cluster took {up:.1f} s to start, outside the timed runs)")
        same = all(outcome(r["results"]) == outcome(rows[0]["results"]) for r in rows[1:])
        print(f"same scores and messages in every run: {'yes' if same else 'NO'}")
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        if not same:
            raise SystemExit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
