"""A grading worker: ``python -m grader.engine.worker`` (started by `workerproc.GraderProcess`).

Reads its settings (`GradeSettings`) as one JSON line on stdin, starts the
sandbox and collects the checks once, says it is ready, then grades the jobs
it reads (one JSON line each) and answers each with a result line. Only plain
JSON crosses. Results go to the original stdout; everything else the process
prints goes to stderr, so nothing a check or pytest prints can corrupt the
stream.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback

from ..errors import SeqgradeError
from ..sandbox import launcher


def _jobs(stream, out):
    from ..jobs import Job

    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in stream:
        if not line.strip():
            continue
        msg = json.loads(line)
        if msg.get("stop"):
            return
        yield Job.from_dict(msg["job"])


def _die_with_parent() -> None:
    """Linux: be killed when the process that started us dies (a Dask worker, the pool)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main() -> int:
    _die_with_parent()
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # anything printed from here on goes to stderr
    sys.stdout = sys.stderr
    try:
        from .settings import GradeSettings

        settings = GradeSettings.from_json(json.loads(sys.stdin.readline()))
        # Start the sandbox before importing torch here: the two imports overlap.
        policy = launcher.resolve_policy(settings.sandbox, untrusted=settings.untrusted)
        launched = launcher.launch(policy, settings.limits)
        from ..config import load_config
        from ..sandbox.client import Sandbox
        from .session import run_session

        cfg = load_config(settings.course)
        assignment = cfg.assignment(settings.assignment)
        sandbox = Sandbox(policy, settings.limits)
        sandbox.adopt(launched)

        def emit(result):
            out.write(json.dumps({"result": result.to_dict()}) + "\n")
            out.flush()

        run_session(assignment, _jobs(sys.stdin, out), emit, cfg=cfg, hidden=settings.hidden,
                    seed=settings.seed, sandbox=sandbox)
        sandbox.close()
    except SeqgradeError as exc:
        out.write(json.dumps({"fatal": str(exc), "exit_code": exc.exit_code}) + "\n")
        return 1
    except Exception:
        out.write(json.dumps({"fatal": "the grading worker failed:\n" + traceback.format_exc()[-3000:]}) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
