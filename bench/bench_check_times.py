"""Where a submission's grading time goes: wall time per check, for copies of the reference.

    .venv/bin/python bench/bench_check_times.py a5_transformer --copies 9 --json after.json
    .venv/bin/python bench/bench_check_times.py a5_transformer --root /tmp/old-main --json before.json
    .venv/bin/python bench/bench_check_times.py --compare before.json after.json

It grades `--copies` copies of the assignment's reference in one pytest session
and one sandbox (as a grading worker does), and reports the mean wall time of
each check per submission: the time from the end of the previous check to the
end of this one, so fixture set-up and the first check's fork and import are
counted too. The first copy pays for the run's cached cases (`once`), shared by
the copies after it, as in a real class.

`--root` grades with another checkout of seqgrade (its grader, checks and
reference), so one sitting can compare two versions; it works with the grader
as it was before `grader.jobs` and `course.yaml`'s assignment table existed.
`--compare A B` splits the difference between two such runs into the checks
both have and the checks only one has: what the grading machinery costs on the
same checks, apart from what new checks cost.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def measure(root: Path, aid: str, copies: int) -> dict:
    sys.path.insert(0, str(root))
    import grader.checks.plugin as plugin
    from grader.config import load_config
    from grader.engine.session import run_session
    from grader.sandbox.client import Sandbox
    try:
        from grader.jobs import Job
    except ImportError:  # before grader/jobs.py
        from grader.checks.plugin import Job

    times: dict[str, float] = collections.defaultdict(float)
    last: list[float | None] = [None]
    cls = next(v for v in vars(plugin).values() if isinstance(v, type) and hasattr(v, "_result"))
    original = cls._result

    def _result(self, item, status, message):
        now = time.perf_counter()
        if last[0] is not None:
            times[self.check_name(item)] += now - last[0]
        last[0] = now
        return original(self, item, status, message)

    cls._result = _result
    cfg = load_config(root / "course" / "course.yaml")
    try:
        a = cfg.assignments[aid]
        reference = a.reference.read_text(encoding="utf-8")
    except AttributeError:  # before course.yaml declared the assignments
        from grader.catalog import ASSIGNMENTS
        a = ASSIGNMENTS[aid]
        reference = (root / "solutions" / a.filename).read_text(encoding="utf-8")
    jobs = [Job(f"s{i}", a.module, reference + f"\n# copy {i}\n") for i in range(copies)]
    results = []
    sb = Sandbox("bwrap")
    sb.start()
    try:
        t0 = time.perf_counter()
        run_session(a, jobs, results.append, cfg=cfg, seed=7, sandbox=sb)
        wall = time.perf_counter() - t0
    finally:
        sb.close()
    short = [r.student for r in results if r.score < r.max_score]
    if short:
        raise SystemExit(f"the reference lost points in {short}: the timings would not be of a correct run")
    return {"assignment": aid, "root": str(root), "copies": copies, "per_submission_s": wall / copies,
            "checks_ms": {k: 1000 * v / copies for k, v in sorted(times.items(), key=lambda kv: -kv[1])}}


def compare(a: dict, b: dict) -> None:
    before, after = a["checks_ms"], b["checks_ms"]
    both = set(before) & set(after)
    print(f"{a['assignment']}: {a['root']} -> {b['root']}")
    print(f"  per submission          {1000 * a['per_submission_s']:8.0f} ms -> {1000 * b['per_submission_s']:8.0f} ms")
    sb, sa = sum(before[k] for k in both), sum(after[k] for k in both)
    print(f"  the {len(both)} checks both have {sb:8.0f} ms -> {sa:8.0f} ms ({100 * (sa / sb - 1):+.1f}%)")
    only_a, only_b = sorted(set(before) - both), sorted(set(after) - both, key=lambda k: -after[k])
    print(f"  only in the first       {sum(before[k] for k in only_a):8.0f} ms  {', '.join(only_a)}")
    print(f"  only in the second      {sum(after[k] for k in only_b):8.0f} ms")
    for k in only_b:
        print(f"      {after[k]:7.1f} ms  {k}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("assignment", nargs="?")
    ap.add_argument("--copies", type=int, default=9)
    ap.add_argument("--root", type=Path, default=HERE, help="the seqgrade checkout to grade with")
    ap.add_argument("--json", type=Path, help="also write the timings here")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = ap.parse_args()
    if args.compare:
        compare(*(json.loads(p.read_text(encoding="utf-8")) for p in args.compare))
        return
    if not args.assignment:
        ap.error("name an assignment (or --compare BEFORE AFTER)")
    out = measure(args.root.resolve(), args.assignment, args.copies)
    print(f"{out['assignment']} ({out['root']}): {1000 * out['per_submission_s']:.0f} ms per submission")
    for name, ms in out["checks_ms"].items():
        print(f"  {ms:8.1f} ms  {name}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
