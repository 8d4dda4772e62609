"""Cost of grading one submission, per assignment: all checks, public and hidden, sandbox on.

    .venv/bin/python bench/bench_checks.py [--copies 11] [--buggy 40] [--assignment a2_gated]

For each assignment it grades 1 copy of the reference, then `--copies` copies,
in one sandbox and one pytest session, and reports the marginal cost of one
submission: wall time, the grader's CPU (comparisons, reference outputs) and
the sandbox's CPU (fork, import, every call), the latter read from the
zygote's own and reaped children's CPU counters.

Each assignment is graded twice in the same sitting, without and with bug
fingerprints (grader/fingerprints), so the last column is what naming known
bugs costs. Correct copies only pay for recording the calls; `--buggy N` adds
a class of N submissions, half of them buggy (the in-tree mutants, as in
bench/classes.py), where failed checks are diagnosed: its rows give the
cost per submission of such a class, again without and with fingerprints.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from bench.classes import variants  # noqa: E402
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


def grade(a, cfg, sources: list[str], sb: Sandbox, fingerprints: bool,
          full_marks: bool = True) -> tuple[float, float, float]:
    jobs = [Job(f"s{i}", a.module, src + f"\n# {i}\n") for i, src in enumerate(sources)]
    results = []
    cpu0, sb0, t0 = resource.getrusage(resource.RUSAGE_SELF), sandbox_cpu(sb), time.perf_counter()
    run_session(a, jobs, results.append, cfg=cfg, seed=7, sandbox=sb, fingerprints=fingerprints)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    if full_marks:
        assert all(r.score == r.max_score for r in results), [r.student for r in results if r.score < r.max_score]
    return wall, (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime), sandbox_cpu(sb) - sb0


def buggy_class(aid: str, n: int) -> list[str]:
    correct, buggy = variants(aid)
    rng = random.Random(0)
    return [rng.choice(buggy if (buggy and rng.random() < 0.5) else correct) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=11)
    ap.add_argument("--buggy", type=int, default=0, help="also grade a class of N, half buggy (default: no)")
    ap.add_argument("--assignment", action="append")
    args = ap.parse_args()
    cfg = load_config(REPO / "course" / "course.yaml")
    print(f"load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} cores")
    print(f"{'assignment':<16}{'class':<10}{'checks':>7}{'fingerprints':>13}{'wall/sub':>10}{'grader CPU':>12}"
          f"{'sandbox CPU':>13}{'total CPU':>11}{'extra wall':>12}")
    for aid in args.assignment or list(cfg.assignments):
        a = cfg.assignments[aid]
        ref = a.reference.read_text(encoding="utf-8")
        n_checks = len(collect_checks(a, cfg.root).items)
        sb = Sandbox("bwrap")
        try:
            sb.start()
            rows = []
            for fp in (False, True):
                w1, g1, s1 = grade(a, cfg, [ref], sb, fp)
                wn, gn, sn = grade(a, cfg, [ref] * args.copies, sb, fp)
                k = args.copies - 1
                rows.append(("correct", fp, (wn - w1) / k, (gn - g1) / k, (sn - s1) / k))
            if args.buggy:
                sources = buggy_class(aid, args.buggy)
                for fp in (False, True):
                    w, g, s = grade(a, cfg, sources, sb, fp, full_marks=False)
                    rows.append((f"{args.buggy}, half buggy", fp, w / len(sources), g / len(sources),
                                 s / len(sources)))
        finally:
            sb.close()
        base = {}
        for cls, fp, w, g, s in rows:
            extra = "" if not fp else f"{100 * (w / base[cls] - 1):+.0f}%"
            base.setdefault(cls, w)
            print(f"{aid:<16}{cls:<10}{n_checks:>7}{'on' if fp else 'off':>13}{w:>9.3f}s{g:>11.3f}s{s:>12.3f}s"
                  f"{g + s:>10.3f}s{extra:>12}")


if __name__ == "__main__":
    main()
