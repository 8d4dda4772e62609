"""Per-submission overhead of the sandbox, beyond what the checks compute.

    .venv/bin/python bench/bench_sandbox.py [--n 50] [--sandbox bwrap]

Per submission: fork a child from the warm zygote, confine it, import a small
module, construct one object, make one call, ask it to exit, reap it and
clean up. The issue's goal is under 0.05 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from grader.sandbox.client import Sandbox  # noqa: E402

MODULE = '''
import torch
class Lin(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(n, n))
    def forward(self, x):
        return x @ self.w.T
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--sandbox", default="bwrap", choices=["bwrap", "none"])
    args = ap.parse_args()
    with Sandbox(args.sandbox) as sb:
        t = time.perf_counter()
        sb.start()
        start_s = time.perf_counter() - t
        times = []
        for _ in range(args.n):
            t = time.perf_counter()
            p = sb.open(MODULE, "lin")
            m = p.new("Lin", 3)
            p.call(m, torch.randn(2, 3))
            p.close()
            times.append(time.perf_counter() - t)
    print(f"sandbox {args.sandbox}: zygote start {start_s:.2f} s; per submission median "
          f"{statistics.median(times) * 1000:.1f} ms, p90 {sorted(times)[int(0.9 * len(times))] * 1000:.1f} ms "
          f"over {args.n}")


if __name__ == "__main__":
    main()
