"""The one client of a grading process (``python -m grader.engine.worker``), for the local pool and Dask.

It starts the process, sends the settings and the jobs (one JSON line each),
and reads its answers: ``ready``, ``result``, or ``fatal`` (the process cannot
grade at all: a setup problem, raised as `SeqgradeError`). Reading is either
fed from a selector (the pool multiplexes several processes) or blocking with
a deadline (a Dask task). A process that dies or stays silent past its guard
is reported with the tail of its stderr.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time

from ..errors import SeqgradeError
from ..jobs import Job
from .settings import GradeSettings

GUARD_S = 900.0  # a grading process silent this long on one submission is killed
START_S = 600.0  # a grading process not ready this long after starting is given up


class GraderDied(RuntimeError):
    """The grading process ended (or stopped answering) in the middle of its work."""


class GraderProcess:
    """One long-lived grading process with its own sandbox, for one `GradeSettings`."""

    def __init__(self, settings: GradeSettings):
        self.settings = settings
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "grader.engine.worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, env=env)
        self.buf = b""
        self.ready = False
        self.graded = 0
        self._send(settings.to_json())

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def stdout_fd(self) -> int:
        return self.proc.stdout.fileno()

    # -- writing ---------------------------------------------------------------
    def _send(self, msg: dict) -> None:
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # its death is noticed when reading

    def send_job(self, job: Job) -> None:
        self._send({"job": job.to_dict()})

    # -- reading ---------------------------------------------------------------
    def feed(self, chunk: bytes) -> list[dict]:
        """The complete messages in what was read so far; raises `SeqgradeError` on a fatal one."""
        self.buf += chunk
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            try:
                msg = json.loads(line)
            except ValueError:
                raise GraderDied(f"the grading process wrote a line that is not JSON: {line[:200]!r}") from None
            if not isinstance(msg, dict):
                raise GraderDied(f"the grading process wrote {line[:200]!r} instead of a message")
            if "fatal" in msg:  # it cannot grade at all here: a setup problem, not a submission's
                self.close()
                err = SeqgradeError(str(msg["fatal"]))
                err.exit_code = int(msg.get("exit_code", 1))
                raise err
            if msg.get("ready"):
                self.ready = True
            if "result" in msg:
                self.graded += 1
            out.append(msg)
        return out

    def read(self, limit_s: float, doing: str) -> dict:
        """The next message, blocking up to `limit_s`; raises `GraderDied` or `TimeoutError`."""
        deadline = time.monotonic() + limit_s
        pending: list[dict] = []
        with selectors.DefaultSelector() as sel:
            sel.register(self.stdout_fd, selectors.EVENT_READ)
            while not pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.close()
                    raise TimeoutError(f"the grading process was silent for {limit_s:.0f} s while {doing}")
                if not sel.select(timeout=min(left, 5.0)):
                    continue
                chunk = os.read(self.stdout_fd, 1 << 20)
                if not chunk:
                    raise GraderDied(self.death(doing))
                pending = self.feed(chunk)
        if len(pending) > 1:  # one request, one answer: anything more is a broken process
            self.close()
            raise GraderDied("the grading process answered more than once")
        return pending[0]

    def wait_ready(self, limit_s: float = START_S) -> None:
        msg = self.read(limit_s, "starting")
        if not msg.get("ready"):
            self.close()
            raise GraderDied(f"the grading process answered {str(msg)[:200]} instead of being ready")

    def grade(self, job: Job, limit_s: float = GUARD_S) -> dict:
        """Grade one job, blocking; its result as a dict (`SubmissionResult.to_dict()`)."""
        self.send_job(job)
        msg = self.read(limit_s, f"grading {job.student}")
        if "result" not in msg:
            self.close()
            raise GraderDied(f"the grading process answered {str(msg)[:200]} instead of a result")
        return msg["result"]

    def death(self, doing: str) -> str:
        """Why the process ended (with its last words), after reading EOF from it."""
        code = self.proc.wait()
        tail = self.stderr_tail().strip()
        self.close()
        return (f"the grading process died (exit code {code}) while {doing}"
                + (f"; its last words:\n{tail}" if tail else ""))

    def stderr_tail(self) -> str:
        try:
            self.log.seek(0, os.SEEK_END)
            size = self.log.tell()
            self.log.seek(max(0, size - 1500))
            return self.log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    # -- ending ----------------------------------------------------------------
    def stop(self) -> None:
        """Ask it to finish (end of jobs): it closes its sandbox and exits."""
        try:
            self.proc.stdin.write(b'{"stop": true}\n')
            self.proc.stdin.close()
        except (OSError, ValueError):
            pass

    def close(self, wait_s: float = 5.0) -> None:
        if self.proc.poll() is None:
            self.stop()
            try:
                self.proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.log):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.close()
