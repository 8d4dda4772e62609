#!/usr/bin/env python3
"""A local JupyterHub that runs the course with nbgrader: ``make hub``, ``make hub-stop`` and the browser test.

    python3 scripts/hub/localhub.py start [--name demo] [--port 8000] [--students alice,bob]
    python3 scripts/hub/localhub.py stop [--name demo]
    python3 scripts/hub/localhub.py status [--name demo] [--json]
    python3 scripts/hub/localhub.py root        # where scripts/setup-hub.sh installs the hub's environment

`start` (as root, after scripts/setup-hub.sh) makes one *instance* of the hub under
/srv/seqgrade-hub/<name>/:

- Unix users, an instructor and students, whose homes are inside the instance folder;
- nbgrader's exchange, writable by everyone as nbgrader needs;
- nbgrader's settings by role (``jupyter/student``, ``jupyter/instructor``): the instructor's
  server has formgrader and the course list, students' servers the Assignments tab only;
- this checkout's ``grader`` package in ``lib/``, first on every user's PYTHONPATH;
- the instructor's clone of the course repository (``~/seqgrade``: course/, solutions/,
  assignments/, readable by the instructor only) and the nbgrader course folder (``~/course``)
  built by ``seqgrade nbgrader init``, with one assignment and one quiz generated and released;
- JupyterHub (scripts/hub/jupyterhub_config.py) on 127.0.0.1, with configurable-http-proxy,
  a local process spawner and a shared-password login, started in the background.

Everything it made is recorded in ``instance.json`` as it is made, so `stop` removes exactly
that (servers and kernels, proxy, hub, users, folder), even after a failed start. `start` on a
running instance prints how to use it and changes nothing. Only the Python standard library is
used: this runs with the system's python3.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hub_course import build_course, copy_grader, write_role_configs
from hub_instance import REPO, TOP, HubError, Instance, env_root
from hub_procs import alive, processes, proxy_pid, start_time, terminate, user_processes
from hub_users import ensure_user, marker, remove_user

HERE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- start
def _free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port` (connections of a stopped hub in TIME_WAIT do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_hub(inst: Instance, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HubError(f"JupyterHub exited ({proc.returncode}) while starting:\n{_tail(inst.log)}")
        try:
            with urllib.request.urlopen(f"{inst.url}/hub/api/", timeout=5) as r:
                if r.status == 200 and "version" in json.loads(r.read()):
                    return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.3)
    raise HubError(f"JupyterHub did not answer on {inst.url} within {timeout:.0f} s:\n{_tail(inst.log)}")


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return f"({path} is missing)"


def start_hub(inst: Instance, timeout: float = 120) -> None:
    inst.hub_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(inst.hub_dir, 0o700)
    env = {"PATH": f"{inst.venv}/bin:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "PYTHONPATH": str(inst.path / "lib"),  # kept for each user's server (Spawner.env_keep)
           "SEQGRADE_HUB_INSTANCE": str(inst.path / "instance.json")}
    with open(inst.log, "ab") as log:
        proc = subprocess.Popen([f"{inst.venv}/bin/jupyterhub", "-f", str(HERE / "jupyterhub_config.py")],
                                cwd=inst.hub_dir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    inst.hub_pid, inst.hub_started = proc.pid, start_time(proc.pid) or 0.0
    inst.save()
    _wait_for_hub(inst, proc, timeout)


def running(inst: Instance) -> bool:
    return inst.state == "running" and alive(inst.hub_pid, inst.hub_started or None)


def start(name: str, port: int, prefix: str, students: list[str], checks: list[str], owner_pid: int,
          hub_port: int = 0, proxy_api_port: int = 0, due_days: float = 7) -> Instance:
    """Start instance `name` (see the module doc); a running one is returned as it is."""
    if os.geteuid() != 0:
        raise HubError("make hub needs root: it creates Unix users for the instructor and the students")
    venv = env_root() / "venv"
    if not (venv / ".installed").is_file():
        raise HubError(f"the hub's environment {venv} is not installed: run `bash scripts/setup-hub.sh` "
                       "(make hub does)")
    old = Instance.load(name)
    if old is not None:
        if running(old):
            return old
        stop(name, quiet=True)  # a stale or half-made instance: clean it, then start afresh
    for p in (port, hub_port, proxy_api_port):
        if p and not _free(p):
            raise HubError(f"port {p} on 127.0.0.1 is in use (another hub? `make hub-stop`, or give --port)")
    os.umask(0o022)
    TOP.mkdir(parents=True, exist_ok=True)
    os.chmod(TOP, 0o755)
    path = TOP / name
    path.mkdir()
    os.chmod(path, 0o755)
    inst = Instance(name=name, dir=str(path), port=port, hub_port=hub_port or free_port(),
                    proxy_api_port=proxy_api_port or free_port(), instructor=f"{prefix}instructor",
                    students=[f"{prefix}{s}" for s in students], password=secrets.token_urlsafe(9),
                    venv=str(venv), repo=str(REPO), checks=list(checks), owner_pid=owner_pid,
                    due=(datetime.now(timezone.utc) + timedelta(days=due_days)).replace(second=0, microsecond=0)
                    .isoformat())
    inst.save()
    try:
        inst.exchange.mkdir()
        os.chmod(inst.exchange, 0o777)  # nbgrader: everyone writes the exchange (inbound is write-only)
        steps = [("users", lambda: [ensure_user(inst, user) for user in inst.users]),
                 ("settings", lambda: write_role_configs(inst)),
                 ("seqgrade", lambda: copy_grader(inst)),
                 ("course", lambda: build_course(inst)),
                 ("hub", lambda: start_hub(inst))]
        for what, step in steps:
            t0 = time.monotonic()
            step()
            inst.timings[what] = round(time.monotonic() - t0, 1)
        inst.state = "running"
        inst.save()
    except BaseException:
        log = _tail(inst.log)
        stop(name, quiet=True)
        if isinstance(log, str) and inst.hub_pid:
            print(f"JupyterHub's log:\n{log}", file=sys.stderr)
        raise
    return inst


# --------------------------------------------------------------------------- stop
def stop(name: str, quiet: bool = False) -> list[str]:
    """Stop instance `name` and remove what it made; returns what was done."""
    inst = Instance.load(name)
    done = []
    if inst is None:
        if (TOP / name).exists():
            raise HubError(f"{TOP / name} has no instance.json: not a hub this script made; left alone")
        return done
    if os.geteuid() != 0:
        raise HubError("make hub-stop needs root: it removes the hub's Unix users")
    # the hub first: it stops every user's server and then its proxy
    if inst.hub_pid and alive(inst.hub_pid, inst.hub_started or None):
        terminate([inst.hub_pid], grace=30)
        done.append(f"stopped JupyterHub (pid {inst.hub_pid})")
    proxy = proxy_pid(inst)
    if proxy:
        terminate([proxy], grace=5)
        done.append(f"stopped configurable-http-proxy (pid {proxy})")
    # whatever the users still run (servers, kernels, terminals, grading): every process of theirs is the hub's
    for attempt in range(5):
        left = user_processes(inst.created_users)
        if not left:
            break
        terminate(sorted(left), grace=5)
        done.append(f"stopped {len(left)} processes of the hub's users")
    left = user_processes(inst.created_users)
    if left:
        raise HubError(f"processes of the hub's users survive: {left}")
    for user in list(inst.created_users):
        remove_user(user, marker(inst))
        done.append(f"removed the Unix user {user}")
    shutil.rmtree(inst.path)
    done.append(f"removed {inst.path}")
    if not quiet:
        for line in done:
            print(line)
    return done


def sweep(prefix: str = "t") -> list[str]:
    """Stop the instances named `prefix...` whose owner process is gone (a browser test that was killed)."""
    done = []
    if not TOP.is_dir():
        return done
    for folder in sorted(TOP.iterdir()):
        if not folder.name.startswith(prefix) or not (folder / "instance.json").is_file():
            continue
        inst = Instance.load(folder.name)
        if inst and inst.owner_pid and not alive(inst.owner_pid):
            done += stop(inst.name, quiet=True)
    return done


# --------------------------------------------------------------------------- telling people
def describe(inst: Instance) -> str:
    students = ", ".join(inst.students)
    return f"""\
JupyterHub with the course is running at {inst.url}
  log in as    {inst.instructor:<22} the instructor: Nbgrader > Formgrader (course folder ~/course)
               {students:<22} students: Nbgrader > Assignment List
  password     {inst.password:<22} the same for every user (a demo login on 127.0.0.1 only)
  released     {inst.assignment} (assignment), {inst.quiz} (quiz), due {inst.due}
               (this demo's date, in the instructor's ~/seqgrade/course/course.yaml)
  grade        as {inst.instructor}, in a terminal of the hub: cd ~/course && nbgrader collect {inst.assignment}
               && seqgrade nbgrader autograde {inst.assignment}
  log          {inst.log}
  stop         make hub-stop   (stops the hub and every server, removes the users and {inst.path})"""


def parser() -> argparse.ArgumentParser:
    """The command line: start, stop, status, sweep, root."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p_start = sub.add_parser("start", help="start a hub (or describe the running one)")
    p_start.add_argument("--name", default="demo", help="the instance (a folder under %(default)s)")
    p_start.add_argument("--port", type=int, default=8000, help="the hub's public port on 127.0.0.1")
    p_start.add_argument("--hub-port", type=int, default=8081, help="the hub's own API port (0: any free)")
    p_start.add_argument("--proxy-api-port", type=int, default=8001, help="the proxy's API port (0: any free)")
    p_start.add_argument("--prefix", default="", help="put before every user name, e.g. t1234-")
    p_start.add_argument("--students", default="alice,bob", help="comma-separated student names")
    p_start.add_argument("--checks", action="append", default=[], metavar="PATTERN",
                         help="only these checks in the assignment's notebook (seqgrade nbgrader init --checks)")
    p_start.add_argument("--due-days", type=float, default=7,
                         help="the assignment and the quiz are due this many days after the start")
    p_start.add_argument("--owner-pid", type=int, default=0, help="a process whose end makes this instance stale")
    p_start.add_argument("--json", action="store_true", help="print the instance as JSON")
    p_stop = sub.add_parser("stop", help="stop a hub and remove what it made")
    p_stop.add_argument("--name", default="demo")
    p_status = sub.add_parser("status", help="what an instance runs")
    p_status.add_argument("--name", default="demo")
    p_status.add_argument("--json", action="store_true")
    sub.add_parser("sweep", help="stop browser-test hubs whose test process is gone")
    sub.add_parser("root", help="print where setup-hub.sh installs the hub's environment")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.cmd == "root":
            print(env_root())
        elif args.cmd == "start":
            students = [s for s in args.students.split(",") if s]
            t0 = time.monotonic()
            already = Instance.load(args.name)
            inst = start(args.name, args.port, args.prefix, students, args.checks, args.owner_pid,
                         args.hub_port, args.proxy_api_port, args.due_days)
            if args.json:
                print(json.dumps(dataclasses.asdict(inst)))
            else:
                if already is not None and already.hub_pid == inst.hub_pid:
                    print("(already running: nothing changed)")
                else:
                    print(f"(started in {time.monotonic() - t0:.0f} s)")
                print(describe(inst))
        elif args.cmd == "stop":
            if not stop(args.name):
                print(f"no hub named {args.name!r} is running")
        elif args.cmd == "status":
            inst = Instance.load(args.name)
            if inst is None:
                print(f"no hub named {args.name!r}")
                return 1
            procs = processes(inst)
            if args.json:
                print(json.dumps({"instance": dataclasses.asdict(inst), "processes": procs}))
            else:
                print(describe(inst) if running(inst) else f"{args.name}: not running")
                for pid, what in sorted(procs.items()):
                    print(f"  {pid:>7}  {what[:100]}")
        elif args.cmd == "sweep":
            for line in sweep():
                print(line)
    except HubError as exc:
        print(f"localhub: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
