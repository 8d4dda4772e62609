"""A pool of grading workers, one per core, each a long-lived process with its own sandbox.

Jobs are handed out one at a time (plus one queued ahead per worker), so a
slow submission never holds up the others. A worker that dies takes only the
submission it was grading with it: that one is recorded as an error, the
worker is started again, and the rest of the class carries on.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Callable

from ..checks.plugin import Job
from ..errors import SeqgradeError
from ..results import CheckResult, SubmissionResult

PREFETCH = 2  # jobs in flight per worker: the one being graded and one queued
GUARD_S = 900.0  # a worker silent this long on one submission is killed


@dataclass
class _Worker:
    proc: subprocess.Popen
    log: object
    buf: bytes = b""
    ready: bool = False
    inflight: deque = field(default_factory=deque)
    since: float = field(default_factory=time.monotonic)


def crash_result(job: Job, item: str, reason: str) -> SubmissionResult:
    # no content hash: a submission lost to a crash is graded again on the next run
    return SubmissionResult(student=job.student, item=item, content_hash="",
                            submitted_at=job.submitted_at, error=reason,
                            checks=[CheckResult("grading", 0.0, 0.0, "error", "public", reason)])


class WorkerPool:
    def __init__(self, settings: dict, n_workers: int):
        self.settings = settings
        self.n = max(1, n_workers)
        self.sel = selectors.DefaultSelector()
        self.workers: list[_Worker] = []
        self.restarts = 0

    def _spawn(self) -> _Worker:
        log = tempfile.TemporaryFile()
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "-m", "grader.engine.worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=log, env=env)
        proc.stdin.write((json.dumps(self.settings) + "\n").encode())
        proc.stdin.flush()
        w = _Worker(proc, log)
        os.set_blocking(proc.stdout.fileno(), False)
        self.sel.register(proc.stdout, selectors.EVENT_READ, w)
        self.workers.append(w)
        return w

    def _send(self, w: _Worker, job: Job) -> None:
        w.inflight.append(job)
        if len(w.inflight) == 1:
            w.since = time.monotonic()
        try:
            w.proc.stdin.write((json.dumps({"job": asdict(job)}) + "\n").encode())
            w.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # its death is noticed on the read side

    def _stderr_tail(self, w: _Worker) -> str:
        try:
            w.log.seek(0)
            return w.log.read().decode("utf-8", "replace")[-1500:]
        except OSError:
            return ""

    def _retire(self, w: _Worker) -> None:
        try:
            self.sel.unregister(w.proc.stdout)
        except (KeyError, ValueError):
            pass
        if w.proc.poll() is None:
            w.proc.kill()
        w.proc.wait()
        self.workers.remove(w)

    def run(self, jobs: list[Job], item: str, on_result: Callable[[SubmissionResult], None]) -> None:
        pending = deque(jobs)
        for _ in range(min(self.n, len(pending))):
            self._spawn()
        try:
            while pending or any(w.inflight for w in self.workers):
                if not self.workers:
                    self._spawn()
                for key, _ in self.sel.select(timeout=5.0):
                    self._on_readable(key.data, pending, item, on_result)
                now = time.monotonic()
                for w in list(self.workers):
                    if w.inflight and now - w.since > GUARD_S:
                        job = w.inflight.popleft()
                        on_result(crash_result(job, item, f"grading took longer than {GUARD_S:.0f} s; stopped"))
                        pending.extendleft(reversed(w.inflight))
                        self._retire(w)
                        if pending:
                            self._spawn()
        finally:
            for w in list(self.workers):
                try:
                    w.proc.stdin.write(b'{"stop": true}\n')
                    w.proc.stdin.close()
                except OSError:
                    pass
            for w in list(self.workers):
                try:
                    w.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
                self._retire(w)

    def _on_readable(self, w: _Worker, pending: deque, item: str, on_result) -> None:
        try:
            chunk = os.read(w.proc.stdout.fileno(), 1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            self._on_death(w, pending, item, on_result)
            return
        w.buf += chunk
        while b"\n" in w.buf:
            line, w.buf = w.buf.split(b"\n", 1)
            msg = json.loads(line)
            if "fatal" in msg:
                err = SeqgradeError(msg["fatal"])
                err.exit_code = int(msg.get("exit_code", 1))
                raise err
            if msg.get("ready"):
                w.ready = True
                for _ in range(PREFETCH):
                    if pending:
                        self._send(w, pending.popleft())
            elif "result" in msg:
                w.inflight.popleft()
                w.since = time.monotonic()
                on_result(SubmissionResult.from_dict(msg["result"]))
                if pending:
                    self._send(w, pending.popleft())

    def _on_death(self, w: _Worker, pending: deque, item: str, on_result) -> None:
        code = w.proc.wait()
        tail = self._stderr_tail(w)
        if not w.ready and self.restarts >= 2 * self.n:
            self._retire(w)
            raise SeqgradeError(f"grading workers keep failing to start (exit code {code}):\n{tail}")
        if w.inflight:
            job = w.inflight.popleft()
            on_result(crash_result(job, item, f"the grading worker crashed while grading this submission "
                                              f"(exit code {code}); the rest of the class was graded"))
            pending.extendleft(reversed(w.inflight))
            w.inflight.clear()
        self.restarts += 1
        self._retire(w)
        if pending:
            self._spawn()
