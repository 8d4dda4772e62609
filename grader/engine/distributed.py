"""Grade a class on a Dask cluster: one task per submission, results committed by the client.

The client (``grade_class`` with ``scheduler=``) reads every submission and
submits one task per student. On a Dask worker the task hands the job to a
long-lived grading process, ``python -m grader.engine.worker``: the very
process the local `WorkerPool` starts, speaking the same JSON lines, running
the same pytest session and the same sandbox. So a task costs one
submission's checks, not a torch import, and a submission that crashes its
sandboxed child never reaches the Dask worker. The result crosses back as a
plain dict (``SubmissionResult.to_dict()``), and the client alone writes the
gradebook, one result as it arrives: a client restarted mid-run grades only
what is missing.

Failures, and who handles them:

- the submission misbehaves (exit, crash, loop, memory): its sandboxed child
  dies; the checks report it, as in local grading;
- the grading process dies (out of memory, killed): the task raises
  `GraderDied` and Dask retries it, on any worker, up to `RETRIES` times;
- the Dask worker dies (killed, out of memory, machine lost): the scheduler
  reruns its tasks elsewhere, until the task has been on
  ``distributed.scheduler.allowed-failures`` dying workers (3 by default);
- either runs out of tries: the submission is recorded as an error giving
  the reason, and the rest of the class carries on;
- a worker that cannot grade at all (no checks, no bubblewrap, other checks
  than the client's) stops the run with a message naming that worker.

The worker side imports nothing heavy: the Dask worker process itself never
imports torch or the checks; only its grading processes do.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..errors import ConfigError, SeqgradeError, UsageError
from ..jobs import Job, error_result
from ..results import SubmissionResult
from .settings import GradeSettings
from .workerproc import GraderDied, GraderProcess

if TYPE_CHECKING:
    from distributed import Client

RETRIES = 2  # extra tries for a task whose grading process died (on any worker)
CONNECT_S = 30.0  # waiting for the scheduler to answer
WORKERS_S = 120.0  # waiting for the cluster's first worker
PLUGIN_NAME = "seqgrade-graders"

try:  # an optional extra: `pip install seqgrade[dask]`
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover - exercised only without the extra
    WorkerPlugin = object


# --------------------------------------------------------------------------- worker side


class GraderPool(WorkerPlugin):
    """The grading processes of one Dask worker: one per task running at once, kept between tasks.

    Installed on the worker by the first task that needs it, so the worker
    stops the processes when it closes (plugins are torn down then). Only the
    newest settings are kept: idle processes of an earlier run are stopped.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[tuple[str, GraderProcess]] = []
        self._all: list[GraderProcess] = []

    def acquire(self, settings: GradeSettings, checks_version: str = "") -> tuple[str, GraderProcess]:
        """An idle grading process for these settings and checks, or a new one."""
        key = settings.key() + checks_version
        stale, grader = [], None
        with self._lock:
            for k, g in list(self._idle):
                if k != key or not g.alive:
                    self._idle.remove((k, g))
                    stale.append(g)
                elif grader is None:
                    self._idle.remove((k, g))
                    grader = g
        for g in stale:  # idle, from an earlier run: let them finish exiting in the background
            threading.Thread(target=g.close, daemon=True).start()
        if grader is None:
            grader = GraderProcess(settings)
            try:
                grader.wait_ready()
            except BaseException:
                grader.kill()
                raise
            with self._lock:
                self._all = [g for g in self._all if g.alive] + [grader]
        return key, grader

    def release(self, key: str, grader: GraderProcess) -> None:
        if grader.alive:
            with self._lock:
                self._idle.append((key, grader))

    def teardown(self, worker) -> None:
        with self._lock:
            everyone, self._idle, self._all = self._all, [], []
        for g in everyone:  # end of jobs for all at once; then 5 s in all to exit before being killed
            g.stop()
        deadline = time.monotonic() + 5.0
        for g in everyone:
            g.close(wait_s=max(0.0, deadline - time.monotonic()))


def _pool() -> GraderPool:
    from distributed import get_worker

    worker = get_worker()
    pool = worker.plugins.get(PLUGIN_NAME)
    if pool is None:
        pool = worker.plugins.setdefault(PLUGIN_NAME, GraderPool())  # atomic: one pool per worker
    return pool


def grade_one(settings: dict, job: dict, checks_version: str = "") -> dict:
    """The Dask task: grade one submission (a `Job` as a dict) and return its result as a dict.

    `checks_version` is the client's: a grading process kept from a run with
    other checks is not reused. Raises `GraderDied` when the grading process
    dies (Dask retries the task) and `SeqgradeError` when this worker cannot
    grade at all.
    """
    from distributed import get_worker

    here = get_worker().address
    gs = GradeSettings.from_json(settings)
    pool = _pool()
    try:
        key, grader = pool.acquire(gs, checks_version)
    except (GraderDied, TimeoutError, SeqgradeError) as exc:  # this worker's set-up, not the submission
        err = SeqgradeError(f"the grading process cannot start on the Dask worker {here}: {exc}")
        err.exit_code = getattr(exc, "exit_code", 1)
        raise err from None
    the_job = Job.from_dict(job)
    try:
        result = grader.grade(the_job)
    except TimeoutError as exc:  # a rerun would hang the same way: record it, do not retry
        result = error_result(the_job, gs.assignment, f"{exc}; stopped", retry=True).to_dict()
    except GraderDied as exc:
        raise GraderDied(f"on the Dask worker {here}: {exc}") from None
    except SeqgradeError as exc:
        err = SeqgradeError(f"the grading process on the Dask worker {here} failed: {exc}")
        err.exit_code = exc.exit_code
        raise err from None
    finally:
        pool.release(key, grader)
    result["worker"] = here  # not a SubmissionResult field: from_dict drops it
    return result


# --------------------------------------------------------------------------- client side


@dataclass
class ClusterRun:
    """What `grade_on_cluster` did, for callers that want more than the recorded results."""

    address: str
    submitted: int = 0
    graded: int = 0
    errors: dict = field(default_factory=dict)  # student -> why the cluster could not grade it
    workers: dict = field(default_factory=dict)  # worker address -> submissions it graded


def _connect(address: str):
    try:
        from distributed import Client
    except ImportError as exc:
        raise UsageError("grading on a Dask cluster needs Dask: pip install 'seqgrade[dask]' "
                         "(or grade locally: leave out --scheduler and `scheduler:` in course.yaml)") from exc
    try:
        return Client(address, timeout=CONNECT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address} ({exc}). Is `dask scheduler` "
                         f"running there? (see docs/dask.md)") from exc


def _expected_version(settings: GradeSettings) -> str:
    from ..checks.collection import version_of_checks
    from ..config import load_config

    return version_of_checks(load_config(settings.course).assignment(settings.assignment), settings.hidden)


def _failure_reason(exc: BaseException, retries: int) -> str:
    from distributed.scheduler import KilledWorker

    if isinstance(exc, KilledWorker):
        return ("the Dask workers grading this submission kept dying (killed, or out of memory): the "
                "scheduler gave up after the allowed number of tries (distributed.scheduler.allowed-failures); "
                "the rest of the class was graded")
    if isinstance(exc, GraderDied):
        return f"the grading process died on each of {retries + 1} tries at this submission; the last time: {exc}"
    return f"grading failed on the cluster ({type(exc).__name__}: {str(exc)[:500]})"


def grade_on_cluster(address, settings: GradeSettings, jobs: list[Job], item: str,
                     record: Callable[[SubmissionResult], None], *, retries: int = RETRIES) -> ClusterRun:
    """Grade `jobs` on a Dask cluster; `record` gets each result as it arrives.

    `address` is a scheduler address (tcp://host:8786, or anything Dask's
    `Client` accepts, with TLS from Dask's config), or a connected
    `distributed.Client` (e.g. dask-gateway's ``cluster.get_client()``),
    which is used and left open. `settings` is what a local grading worker
    gets.
    """
    expected = _expected_version(settings)
    own = isinstance(address, str)
    client = _connect(address) if own else address
    address = address if own else str(getattr(client.scheduler, "address", "the cluster"))
    run = ClusterRun(address=address)
    try:
        from distributed import as_completed

        try:
            client.wait_for_workers(1, timeout=WORKERS_S)
        except TimeoutError as exc:
            raise UsageError(f"the Dask cluster at {address} has no workers (waited {WORKERS_S:.0f} s); "
                             f"start some with `dask worker {address}` (see docs/dask.md)") from exc
        token = uuid.uuid4().hex[:8]
        futures = {}
        for job in jobs:
            key = f"seqgrade-{item}-{job.student}-{token}"
            futures[client.submit(grade_one, settings.to_json(), job.to_dict(), expected, key=key,
                                  retries=retries)] = job
        run.submitted = len(futures)
        pending = as_completed(list(futures), loop=client.loop)
        try:
            for fut in pending:
                job = futures.pop(fut)
                if fut.status == "finished":
                    data = fut.result()
                    worker = data.pop("worker", "?")
                    run.workers[worker] = run.workers.get(worker, 0) + 1
                    got = data.get("checks_version", "")
                    if got and got != expected:
                        raise ConfigError(
                            f"the Dask worker {worker} graded {job.student} with other checks (version {got}) "
                            f"than this machine's (version {expected}): its course folder "
                            f"({settings.course}) is not the same as this one, or the checks changed "
                            f"during the run. Give every worker the same solutions/ and assignments/ at the "
                            f"same path (check with `seqgrade doctor --scheduler {address}`), then run this "
                            f"again: what was graded so far is kept.")
                    record(SubmissionResult.from_dict(data))
                    run.graded += 1
                elif fut.status == "error":
                    exc = fut.exception()
                    if isinstance(exc, SeqgradeError):  # the worker cannot grade at all
                        err = SeqgradeError(f"{exc}\n(fix that worker, check it with `seqgrade doctor "
                                            f"--scheduler {address}`, then run this again: what was graded "
                                            f"so far is kept)")
                        err.exit_code = exc.exit_code
                        raise err from exc
                    reason = _failure_reason(exc, retries)
                    run.errors[job.student] = reason
                    record(error_result(job, item, reason, retry=True))
                else:  # cancelled: the scheduler went away or dropped the task
                    raise SeqgradeError(
                        f"the Dask scheduler at {address} dropped the task for {job.student} ({fut.status}); "
                        f"{run.graded + len(run.errors)} result(s) are in the gradebook: run again to continue")
                fut.release()
        finally:
            for fut in futures:  # stop what is still queued when the run ends early
                fut.cancel()
    finally:
        if own:
            client.close()
    return run
