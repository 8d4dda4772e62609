"""`seqgrade doctor`: can this machine (or every worker of a Dask cluster) grade?

It checks what grading needs, in the order a failure would bite: Python,
seqgrade, torch, bubblewrap, a round trip through a real sandbox (start the
zygote, import a tiny module in a confined child, call a function), and the
course folder (solutions/, the checks of each assignment and their version).
With a scheduler it runs the same checks as a task on every worker and puts
the answers side by side, flagging a worker whose checks differ from this
machine's: it would grade with other checks.

`diagnose` and `diagnose_cluster` return plain data; only the command prints.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from ..errors import SeqgradeError, UsageError
from .common import course_option, table

STATUSES = ("ok", "warn", "fail")
PROBE = "def add(a, b):\n    return a + b\n"
CLUSTER_TIMEOUT_S = 300.0


@dataclass
class Finding:
    """One thing checked on one machine."""

    check: str  # "torch", "sandbox", "checks a1_rnn", ...
    status: str  # ok | warn | fail
    value: str  # short, for a table cell: "2.13.0", "bwrap, 0.8 s"
    detail: str = ""  # what is wrong and what to do, when not ok


def _python() -> Finding:
    v = platform.python_version()
    if sys.version_info < (3, 10):
        return Finding("python", "fail", v, f"seqgrade needs Python 3.10 or newer ({sys.executable})")
    return Finding("python", "ok", v, sys.executable)


def _seqgrade() -> Finding:
    import grader

    return Finding("seqgrade", "ok", grader.__version__, str(Path(grader.__file__).parent))


def _torch() -> Finding:
    try:
        import torch
    except ImportError as exc:
        return Finding("torch", "fail", "missing", f"torch cannot be imported ({exc}): pip install seqgrade")
    return Finding("torch", "ok", torch.__version__.split("+")[0], torch.__version__)


def _dask() -> Finding:
    try:
        import distributed
    except ImportError:
        return Finding("dask", "ok", "-", "not installed; needed only to grade on a cluster: "
                                         "pip install 'seqgrade[dask]'")
    return Finding("dask", "ok", distributed.__version__, "distributed " + distributed.__version__)


def _threads() -> Finding:
    omp = os.environ.get("OMP_NUM_THREADS")
    if omp == "1":
        return Finding("OMP_NUM_THREADS", "ok", "1")
    return Finding("OMP_NUM_THREADS", "ok", omp or "unset",
                   "grading processes set it to 1 themselves; set OMP_NUM_THREADS=1 for other torch work "
                   "on a worker that forks")


def _bubblewrap(policy: str) -> Finding:
    from ..sandbox.launcher import _bwrap_works, bwrap_path

    path = bwrap_path()
    bad = "warn" if policy == "none" else "fail"
    if not path:
        return Finding("bubblewrap", bad, "missing",
                       "bwrap is not installed: `sudo apt-get install bubblewrap` (or `make system-deps`); "
                       "without it grading refuses to run student code unless --sandbox none is asked for")
    if not _bwrap_works():
        return Finding("bubblewrap", bad, "broken",
                       f"{path} cannot create namespaces here (unprivileged user namespaces disabled, or a "
                       "container without them): enable them (sysctl kernel.unprivileged_userns_clone=1, "
                       "or in Kubernetes a pod security context that allows them)")
    return Finding("bubblewrap", "ok", "works", path)


def _sandbox(policy: str) -> Finding:
    from ..sandbox.client import Sandbox, SubmissionFault
    from ..sandbox.launcher import SandboxWarning

    start = time.monotonic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SandboxWarning)
            box = Sandbox(policy)
        with box:
            box.start()
            with box.open(PROBE, "doctor_probe") as child:
                value = child.call("add", 2, 3).value
    except (SeqgradeError, SubmissionFault, OSError) as exc:
        return Finding("sandbox", "fail", "fails", f"a sandboxed child could not run a tiny module: {exc}")
    took = time.monotonic() - start
    if value != 5:
        return Finding("sandbox", "fail", "wrong", f"add(2, 3) in the sandbox returned {value!r}, not 5")
    status = "ok" if box.policy == "bwrap" else "warn"
    detail = ("student code is isolated by bubblewrap (its own uid per submission, no network, read-only "
              "system, a size-limited tmpfs)" if status == "ok" else
              "student code would run WITHOUT isolation: only because --sandbox none was asked for")
    return Finding("sandbox", status, f"isolation: {box.policy}, {took:.1f} s", detail)


def _course(course: str | None) -> list[Finding]:
    from ..checks.collection import version_of_checks
    from ..config import load_config

    try:
        cfg = load_config(course)
    except SeqgradeError as exc:
        return [Finding("course", "fail", "unreadable", str(exc))]
    where = str(cfg.source) if cfg.source else f"defaults for {cfg.root}"
    if not cfg.solutions_dir.is_dir():
        return [Finding("course", "fail", "no solutions/",
                        f"{cfg.solutions_dir} does not exist: every grading machine needs the course folder "
                        f"(solutions/ and assignments/) at the same path ({where})")]
    out = [Finding("course", "ok", str(cfg.root), where)]
    for a in cfg.assignments.values():
        name = f"checks {a.id}"
        if not a.reference.is_file():
            out.append(Finding(name, "warn", "no reference", f"{a.reference} is missing: {a.id} cannot "
                                                                "be graded with its hidden checks"))
            continue
        try:
            out.append(Finding(name, "ok", version_of_checks(a, hidden=True)))
        except SeqgradeError as exc:
            out.append(Finding(name, "warn", "incomplete", f"{a.id} cannot be graded: {exc}"))
    return out


def diagnose(course: str | None = None, sandbox: str = "auto") -> list[dict]:
    """Every check on this machine, as plain dicts (they travel back from Dask workers as they are)."""
    findings = [_python(), _seqgrade(), _torch(), _dask(), _threads(), _bubblewrap(sandbox)]
    if findings[2].status == "ok":
        findings.append(_sandbox(sandbox))
        findings += _course(course)
    return [asdict(f) for f in findings]


def diagnose_cluster(address: str, course: str | None = None, sandbox: str = "auto",
                     timeout: float = CLUSTER_TIMEOUT_S) -> dict[str, list[dict]]:
    """worker address -> its findings, from one task pinned to each worker of the cluster."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise UsageError("checking a Dask cluster needs Dask: pip install 'seqgrade[dask]'") from exc
    try:
        client = Client(address, timeout=30, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address} ({exc})") from exc
    with client:
        workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
        if not workers:
            raise UsageError(f"the Dask cluster at {address} has no workers; start some with "
                             f"`dask worker {address}` (see docs/dask.md)")
        futures = {w: client.submit(diagnose, course, sandbox, workers=[w], allow_other_workers=False,
                                    pure=False, key=f"seqgrade-doctor-{i}-{time.time_ns()}")
                   for i, w in enumerate(workers)}
        deadline = time.monotonic() + timeout
        out = {}
        for w, fut in futures.items():
            try:
                out[w] = fut.result(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                out[w] = [asdict(Finding("worker", "fail", "no answer", f"no answer within {timeout:.0f} s"))]
                fut.cancel()
            except Exception as exc:  # the worker died or the task failed: report it, check the others
                out[w] = [asdict(Finding("worker", "fail", "failed", f"{type(exc).__name__}: {exc}"))]
        return out


def compare(machines: dict[str, list[dict]], local: str) -> None:
    """Flag, in place, workers whose checks or torch differ from this machine's."""
    mine = {f["check"]: f for f in machines[local]}
    for name, findings in machines.items():
        if name == local:
            continue
        for f in findings:
            ours = mine.get(f["check"])
            if ours is None or f["status"] == "fail" or ours["value"] == f["value"]:
                continue
            if f["check"].startswith("checks ") and ours["status"] == "ok" and f["status"] == "ok":
                f["status"] = "fail"
                f["detail"] = (f"its checks (version {f['value']}) differ from this machine's ({ours['value']}): "
                               f"give it the same course folder at the same path")
            elif f["check"] in ("torch", "seqgrade") and f["status"] == "ok":
                f["status"] = "warn"
                f["detail"] = f"{f['check']} {f['value']} here, {ours['value']} on this machine"


# --------------------------------------------------------------------------- command


def _cell(f: dict | None) -> str:
    if f is None:
        return "-"
    mark = {"ok": "", "warn": " (!)", "fail": " FAIL"}[f["status"]]
    return f"{f['value']}{mark}"


@click.command()
@course_option
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "none"]), default="auto", show_default=True,
              help="The isolation to check (as `seqgrade grade --sandbox`).")
@click.option("--scheduler", help="Also check every worker of this Dask cluster (tcp://host:8786); "
                                  "default: `scheduler:` in the course config.")
@click.option("--local", "local_only", is_flag=True, help="Check this machine only, even if the course "
                                                          "config names a scheduler.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(course_path, sandbox, scheduler, local_only, as_json):
    """Check that this machine, and every worker of a Dask cluster, can grade.

    \b
    Examples:
      seqgrade doctor
      seqgrade doctor --scheduler tcp://scheduler:8786
    """
    from ..config import load_config

    course = str(course_path.resolve()) if course_path else None
    if course is None and Path("course/course.yaml").is_file():
        course = str(Path("course/course.yaml").resolve())  # workers need an absolute path
    if not scheduler and not local_only:
        try:
            scheduler = load_config(course).scheduler
        except SeqgradeError:
            scheduler = None  # reported by the course check below
    here = "this machine"
    machines = {here: diagnose(course, sandbox)}
    if scheduler and not local_only:
        machines.update(diagnose_cluster(scheduler, course, sandbox))
        compare(machines, here)
    if as_json:
        click.echo(json.dumps(machines, indent=2))
    else:
        names: list[str] = []
        for findings in machines.values():
            for f in findings:
                if f["check"] not in names:
                    names.append(f["check"])
        by_machine = {m: {f["check"]: f for f in fs} for m, fs in machines.items()}
        rows = [[n] + [_cell(by_machine[m].get(n)) for m in machines] for n in names]
        click.echo(table(rows, ["check"] + list(machines)))
        problems = [(m, f) for m, fs in machines.items() for f in fs if f["status"] != "ok"]
        if problems:
            click.echo("")
            for m, f in problems:
                click.echo(f"{'FAIL' if f['status'] == 'fail' else 'warn'}  {m}: {f['check']}: {f['detail']}")
    failed = sum(f["status"] == "fail" for fs in machines.values() for f in fs)
    if failed:
        raise SeqgradeError(f"{failed} check(s) failed: grading would not work "
                            f"{'everywhere' if len(machines) > 1 else 'here'} (see above)")
    if not as_json:
        click.echo(f"\nready to grade on {len(machines)} machine(s)" if len(machines) > 1 else "\nready to grade")
