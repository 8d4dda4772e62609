"""Cost of grading one submission, per assignment: all checks, public and hidden, sandbox on.

    .venv/bin/python bench/bench_checks.py [--copies 11]

For each assignment it grades 1 copy of the reference, then `--copies` copies,
in one sandbox and one pytest session, and reports the marginal cost of one
submission: wall time, the grader's CPU (comparisons, reference outputs) and
the sandbox's CPU (fork, import, every call), the latter read from the
zygote's own and reaped children's CPU counters.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from grader.checks.collection import collect_checks  # noqa: E402
from grader.config import load_config  # noqa: E402
from grader.engine.session import run_session  # noqa: E402
from grader.jobs import Job  # noqa: E402
from grader.sandbox.client import Sandbox  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def sandbox_cpu(sb: Sandbox) -> float:
    total = 0.0
    for p in [psutil.Process(sb._proc.pid)] + psutil.Process(sb._proc.pid).children(recursive=True):
        t = p.cpu_times()
        total += t.user + t.system + t.children_user + t.children_system
    return total


def grade(a, cfg, n: int, sb: Sandbox) -> tuple[float, float, float]:
    src = a.reference.read_text(encoding="utf-8")
    jobs = [Job(f"s{i}", a.module, src + f"\n# {i}\n") for i in range(n)]
    results = []
    cpu0, sb0, t0 = resource.getrusage(resource.RUSAGE_SELF), sandbox_cpu(sb), time.perf_counter()
    run_session(a, jobs, results.append, cfg=cfg, seed=7, sandbox=sb)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    assert all(r.score == r.max_score for r in results), [r.student for r in results if r.score < r.max_score]
    return wall, (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime), sandbox_cpu(sb) - sb0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=11)
    ap.add_argument("--assignment", action="append")
    args = ap.parse_args()
    cfg = load_config(REPO / "course" / "course.yaml")
    print(f"load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} cores")
    print(f"{'assignment':<16}{'checks':>7}{'wall/sub':>10}{'grader CPU':>12}{'sandbox CPU':>13}{'total CPU':>11}")
    assignments = load_config(REPO / "course" / "course.yaml").assignments
    for aid in args.assignment or list(assignments):
        a = assignments[aid]
        sb = Sandbox("bwrap")
        try:
            sb.start()
            w1, g1, s1 = grade(a, cfg, 1, sb)
            wn, gn, sn = grade(a, cfg, args.copies, sb)
        finally:
            sb.close()
        k = args.copies - 1
        n_checks = len(collect_checks(a, cfg.root).items)
        print(f"{aid:<16}{n_checks:>7}{(wn - w1) / k:>9.3f}s{(gn - g1) / k:>11.3f}s{(sn - s1) / k:>12.3f}s"
              f"{(gn - g1 + sn - s1) / k:>10.3f}s")


if __name__ == "__main__":
    main()
