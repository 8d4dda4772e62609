"""A pool of grading workers, one per core, each a long-lived process with its own sandbox.

Jobs are handed out one at a time (plus one queued ahead per worker), so a
slow submission never holds up the others. A worker that dies takes only the
submission it was grading with it: that one is recorded as an error, the
worker is started again, and the rest of the class carries on.
"""

from __future__ import annotations

import os
import selectors
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from ..errors import SeqgradeError
from ..jobs import Job, error_result
from ..results import SubmissionResult
from .settings import GradeSettings
from .workerproc import GUARD_S, GraderDied, GraderProcess

PREFETCH = 2  # jobs in flight per worker: the one being graded and one queued


@dataclass
class _Slot:
    grader: GraderProcess
    inflight: deque = field(default_factory=deque)
    since: float = field(default_factory=time.monotonic)


class WorkerPool:
    def __init__(self, settings: GradeSettings, n_workers: int):
        self.settings = settings
        self.n = max(1, n_workers)
        self.sel = selectors.DefaultSelector()
        self.slots: list[_Slot] = []
        self.restarts = 0

    def _spawn(self) -> _Slot:
        slot = _Slot(GraderProcess(self.settings))
        os.set_blocking(slot.grader.stdout_fd, False)
        self.sel.register(slot.grader.stdout_fd, selectors.EVENT_READ, slot)
        self.slots.append(slot)
        return slot

    def _send(self, slot: _Slot, job: Job) -> None:
        slot.inflight.append(job)
        if len(slot.inflight) == 1:
            slot.since = time.monotonic()
        slot.grader.send_job(job)

    def _retire(self, slot: _Slot) -> None:
        try:
            self.sel.unregister(slot.grader.stdout_fd)
        except (KeyError, ValueError, OSError):
            pass
        slot.grader.kill()
        self.slots.remove(slot)

    def run(self, jobs: list[Job], item: str, on_result: Callable[[SubmissionResult], None]) -> None:
        pending = deque(jobs)
        for _ in range(min(self.n, len(pending))):
            self._spawn()
        try:
            while pending or any(s.inflight for s in self.slots):
                if not self.slots:
                    self._spawn()
                for key, _ in self.sel.select(timeout=5.0):
                    self._on_readable(key.data, pending, item, on_result)
                now = time.monotonic()
                for slot in list(self.slots):
                    if slot.inflight and now - slot.since > GUARD_S:
                        job = slot.inflight.popleft()
                        on_result(error_result(job, item, f"grading took longer than {GUARD_S:.0f} s; stopped",
                                               retry=True))
                        pending.extendleft(reversed(slot.inflight))
                        self._retire(slot)
                        if pending:
                            self._spawn()
        finally:
            for slot in self.slots:
                slot.grader.stop()
            deadline = time.monotonic() + 15
            for slot in list(self.slots):
                try:
                    slot.grader.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except Exception:  # noqa: BLE001 - killed below
                    pass
                self._retire(slot)

    def _on_readable(self, slot: _Slot, pending: deque, item: str, on_result) -> None:
        try:
            chunk = os.read(slot.grader.stdout_fd, 1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            self._on_death(slot, pending, item, on_result, slot.grader.death("grading"))
            return
        try:
            messages = slot.grader.feed(chunk)
        except GraderDied as exc:
            self._on_death(slot, pending, item, on_result, str(exc))
            return
        for msg in messages:
            if msg.get("ready"):
                for _ in range(PREFETCH):
                    if pending:
                        self._send(slot, pending.popleft())
            elif "result" in msg and slot.inflight:
                slot.inflight.popleft()
                slot.since = time.monotonic()
                on_result(SubmissionResult.from_dict(msg["result"]))
                if pending:
                    self._send(slot, pending.popleft())

    def _on_death(self, slot: _Slot, pending: deque, item: str, on_result, why: str) -> None:
        if not slot.grader.ready and self.restarts >= 2 * self.n:
            self._retire(slot)
            raise SeqgradeError(f"grading workers keep failing to start: {why}")
        if slot.inflight:
            job = slot.inflight.popleft()
            on_result(error_result(job, item, "the grading worker crashed while grading this submission; the "
                                              "rest of the class was graded", retry=True))
            pending.extendleft(reversed(slot.inflight))
            slot.inflight.clear()
        self.restarts += 1
        self._retire(slot)
        if pending:
            self._spawn()
