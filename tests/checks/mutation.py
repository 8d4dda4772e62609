"""The mutation sweep: every in-tree mutant, under many seeds; a catch must never be luck.

    .venv/bin/python -m tests.checks.mutation [--seeds 20] [--first-seed N] [--jobs 2] [--assignment a2_gated]

`make mutation` runs it. For each assignment and seed it grades the reference,
the alternative correct implementations and every mutant
(tests/checks/mutants_<id>.py) in one real pytest session with a real sandbox,
then reports

- a mutant caught on some seeds only (a check named in its `fails` passed on a
  seed), and a correct implementation that lost points on some seed: both are
  failures, listed with their seeds, and the exit status is 1;
- how many mutants the first failing check names exactly (the fingerprint's bug
  id is the mutant's, or, for the bugs in CHECK_NAMED, the check's own message
  names it), on every one of the first --name-seeds seeds (fingerprints cost
  time; the catches are checked on every seed);
- the wall time it took.

Seeds are fresh each run unless --first-seed is given (they are printed, so a
failure can be reproduced with --first-seed and --seeds).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ASSIGNMENTS = ("a1_rnn", "a2_gated", "a3_attention", "a4_seq2seq", "a5_transformer")


@dataclass
class SeedRun:
    """What one (assignment, seed) session found: plain data, so it crosses process boundaries."""

    aid: str
    seed: int
    seconds: float
    missed: dict[str, list[str]] = field(default_factory=dict)  # mutant -> checks of `fails` that passed
    wrong: dict[str, str] = field(default_factory=dict)  # correct source -> what it lost
    named: dict[str, str] = field(default_factory=dict)  # mutant -> "exact" | "check" | "" (not named)
    fingerprints: bool = True  # whether bugs were named on this seed


_SANDBOX = None  # one sandbox per worker process, reused by its sessions


def _sandbox():
    global _SANDBOX
    if _SANDBOX is None:
        from multiprocessing.util import Finalize

        from grader.sandbox.client import Sandbox

        _SANDBOX = Sandbox("auto")
        _SANDBOX.start()
        Finalize(_SANDBOX, _SANDBOX.close, exitpriority=10)  # a pool worker ends with os._exit: no atexit
    return _SANDBOX


def close_sandbox() -> None:
    """Stop this process's sandbox (the sample in `make test` calls it when done)."""
    global _SANDBOX
    if _SANDBOX is not None:
        _SANDBOX.close()
        _SANDBOX = None


def run_seed(aid: str, seed: int, names: tuple[str, ...] | None = None, fingerprints: bool = True) -> SeedRun:
    """Grade the correct sources and the mutants (all, or `names`) of `aid` under one seed."""
    from tests.checks.bug_keywords import CHECK_NAMED, KEYWORDS
    from tests.checks.grading import assert_mutant_caught, grade_sources, reference_source
    from tests.checks.test_assignment_checks import alternatives, mutants

    ref = reference_source(aid)
    chosen = [m for m in mutants(aid) if names is None or m.name in names]
    sources = {"reference": ref}
    if names is None:
        sources.update({f"alt:{p.stem}": p.read_text(encoding="utf-8") for p in alternatives(aid)})
    sources.update({f"mutant:{m.name}": m.apply(ref) for m in chosen})
    start = time.perf_counter()
    results = grade_sources(aid, sources, seed=seed, sandbox=_sandbox(), fingerprints=fingerprints)
    run = SeedRun(aid, seed, time.perf_counter() - start, fingerprints=fingerprints)
    for key, r in results.items():
        if not key.startswith("mutant:") and r.score < r.max_score:
            lost = [f"{c.name}: {c.message[:200]}" for c in r.checks if c.status != "passed"]
            run.wrong[key] = r.error or "; ".join(lost)
    for m in chosen:
        r = results[f"mutant:{m.name}"]
        try:
            assert_mutant_caught(m, r)
        except AssertionError:
            failed = {c.name for c in r.checks if c.status != "passed"}
            run.missed[m.name] = sorted(n for n in m.fails
                                        if n not in failed and n not in {f.split("[")[0] for f in failed}) \
                or ["(full marks)"]
        first = next((c for c in r.checks if c.status != "passed"), None)
        named = ""
        if first is not None and KEYWORDS[aid].get(m.name, "\0") in first.message:
            named = "check" if m.name in CHECK_NAMED.get(aid, ()) else ("exact" if first.bug == m.name else "")
        run.named[m.name] = named
    return run


@dataclass
class Sweep:
    runs: list[SeedRun]
    seconds: float

    def failures(self) -> list[str]:
        out = []
        by_mutant: dict[tuple[str, str], list[int]] = {}
        for r in self.runs:
            for name in r.missed:
                by_mutant.setdefault((r.aid, name), []).append(r.seed)
            for key, what in r.wrong.items():
                out.append(f"{r.aid}: {key} lost points on seed {r.seed}: {what}")
        n_seeds = {aid: len({r.seed for r in self.runs if r.aid == aid}) for aid in {r.aid for r in self.runs}}
        for (aid, name), seeds in sorted(by_mutant.items()):
            checks = sorted({c for r in self.runs if r.aid == aid for c in r.missed.get(name, [])})
            out.append(f"{aid}: mutant {name} missed on {len(seeds)} of {n_seeds[aid]} seeds "
                       f"({', '.join(map(str, sorted(seeds)))}) by {', '.join(checks)}")
        return out

    def names_table(self) -> str:
        rows = ["| assignment | mutants | named exactly on every seed | named by its check | named on some seeds "
                "only | not named |", "|---|---:|---:|---:|---:|---:|"]
        totals = [0, 0, 0, 0, 0]
        for aid in ASSIGNMENTS:
            runs = [r for r in self.runs if r.aid == aid and r.fingerprints]
            if not runs:
                continue
            mutants = sorted(runs[0].named)
            exact = sum(all(r.named[m] == "exact" for r in runs) for m in mutants)
            check = sum(all(r.named[m] == "check" for r in runs) for m in mutants)
            some = sum(any(r.named[m] for r in runs) and not all(r.named[m] for r in runs) for m in mutants)
            none = sum(not any(r.named[m] for r in runs) for m in mutants)
            row = [len(mutants), exact, check, some, none]
            totals = [a + b for a, b in zip(totals, row)]
            rows.append(f"| {aid} | {len(mutants)} | {exact} ({100 * exact / len(mutants):.0f}%) | {check} | "
                        f"{some} | {none} |")
        n = totals[0] or 1
        rows.append(f"| all | {totals[0]} | {totals[1]} ({100 * totals[1] / n:.0f}%) | {totals[2]} | {totals[3]} | "
                    f"{totals[4]} |")
        return "\n".join(rows)


def _worker_init() -> None:
    """A pool worker dies with the sweep, and takes its sandbox with it."""
    import ctypes
    import os
    import signal

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGTERM, lambda *_: (close_sandbox(), os._exit(143)))


def sweep(assignments, seeds: list[int], jobs: int, name_seeds: int | None = None) -> Sweep:
    """Every (assignment, seed) session; bugs are named (fingerprints on) on the first `name_seeds` seeds."""
    tasks = [(aid, s, name_seeds is None or i < name_seeds) for i, s in enumerate(seeds) for aid in assignments]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init) as pool:
        futures = [pool.submit(run_seed, aid, s, None, fp) for aid, s, fp in tasks]
        runs = []
        for i, f in enumerate(futures, 1):
            r = f.result()
            runs.append(r)
            status = "ok" if not r.missed and not r.wrong else f"{len(r.missed)} missed, {len(r.wrong)} wrong"
            print(f"[{i}/{len(tasks)}] {r.aid} seed {r.seed}: {status} ({r.seconds:.0f} s)", flush=True)
    return Sweep(runs, time.perf_counter() - start)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20, help="how many seeds (default 20)")
    ap.add_argument("--first-seed", type=int, help="seeds N, N+1, ... instead of fresh random ones")
    ap.add_argument("--jobs", type=int, default=2, help="sessions graded at once (default 2)")
    ap.add_argument("--assignment", action="append", choices=ASSIGNMENTS, help="only this one (repeatable)")
    ap.add_argument("--name-seeds", type=int, default=3,
                    help="name bugs (fingerprints) on the first N seeds only (default 3; -1: every seed)")
    args = ap.parse_args(argv)
    base = args.first_seed if args.first_seed is not None else random.SystemRandom().randrange(1 << 40)
    seeds = [base + i for i in range(args.seeds)]
    assignments = args.assignment or list(ASSIGNMENTS)
    print(f"mutation sweep: {', '.join(assignments)}; {len(seeds)} seeds from {base} "
          f"(reproduce: --first-seed {base} --seeds {len(seeds)}); {args.jobs} jobs", flush=True)
    name_seeds = None if args.name_seeds < 0 else min(args.name_seeds, len(seeds))
    result = sweep(assignments, seeds, args.jobs, name_seeds)
    failures = result.failures()
    n_mutants = sum(len(r.named) for r in result.runs if r.seed == seeds[0])
    if name_seeds != 0:
        print(f"\nBugs named by the first failing check (on {name_seeds or len(seeds)} seeds):\n"
              + result.names_table())
    print(f"\n{n_mutants} mutants x {len(seeds)} seeds graded in {result.seconds:.0f} s "
          f"({result.seconds / 60:.1f} min)")
    if failures:
        print(f"\nFAILED: {len(failures)} problems\n  " + "\n  ".join(failures))
        return 1
    print("every mutant was caught on every seed; every correct implementation got full marks on every seed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
