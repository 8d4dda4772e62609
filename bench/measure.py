"""Wall time and peak memory (RSS summed over the whole process tree) of a command."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass

import psutil


@dataclass
class Measurement:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str


def run_measured(cmd: list[str], env: dict | None = None, interval: float = 0.05,
                 cwd: str | None = None) -> Measurement:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    peak = 0.0
    done = threading.Event()

    def sample():
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root] + root.children(recursive=True)
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, total / 2**20)
            except psutil.Error:
                pass
            time.sleep(interval)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, _ = proc.communicate()
    done.set()
    t.join()
    return Measurement(time.perf_counter() - start, peak, proc.returncode, out.decode("utf-8", "replace"))
