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
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TOP = Path(os.environ.get("SEQGRADE_HUB_TOP", "/srv/seqgrade-hub"))
COURSE_ID = "seqgrade"
ASSIGNMENT = "a1_rnn"
QUIZ = "q1_rnn_basics"
MARK = "seqgrade-hub"  # the GECOS field of every user an instance creates: "seqgrade-hub <instance>"
COURSE_PARTS = ("course", "solutions", "assignments")  # the instructor's clone of the course repository


class HubError(Exception):
    """A start or stop that cannot go on; the message says why and what to do."""


# --------------------------------------------------------------------------- where things live
ENV_INPUTS = ("pyproject.toml", "constraints.txt", "scripts/setup-hub.sh")  # what the environment is built from


def env_root(repo: Path = REPO) -> Path:
    """The hub's environment (venv, node) for this checkout's dependencies: outside the checkout, readable by
    the hub's users, and shared by checkouts that pin the same (scripts/setup-hub.sh hashes the same files)."""
    digest = hashlib.sha1(b"".join((repo / f).read_bytes() for f in ENV_INPUTS)).hexdigest()[:16]
    return TOP / "env" / digest


@dataclass
class Instance:
    """One hub: its ports, users and folders, and what `start` made (saved in instance.json)."""

    name: str
    dir: str
    port: int
    hub_port: int
    proxy_api_port: int
    instructor: str
    students: list[str]
    password: str
    venv: str
    repo: str
    assignment: str = ASSIGNMENT
    quiz: str = QUIZ
    checks: list[str] = field(default_factory=list)  # `seqgrade nbgrader init --checks` patterns
    due: str = ""  # the due date of the assignment and the quiz on this hub (ISO 8601, UTC)
    owner_pid: int = 0  # a process whose end makes this instance stale (the browser test's pytest)
    created_users: list[str] = field(default_factory=list)
    hub_pid: int = 0
    hub_started: float = 0.0  # the hub process's start time (seconds since boot), against PID reuse
    state: str = "starting"  # starting | running
    timings: dict[str, float] = field(default_factory=dict)  # seconds each step of `start` took

    # -- paths
    @property
    def path(self) -> Path:
        return Path(self.dir)

    @property
    def exchange(self) -> Path:
        return self.path / "exchange"

    @property
    def hub_dir(self) -> Path:
        return self.path / "hub"

    @property
    def log(self) -> Path:
        return self.hub_dir / "jupyterhub.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def users(self) -> list[str]:
        return [self.instructor, *self.students]

    def home(self, user: str) -> Path:
        return self.path / "home" / user

    @property
    def course_dir(self) -> Path:
        return self.home(self.instructor) / "course"

    def role_config(self, role: str) -> Path:
        return self.path / "jupyter" / role

    def save(self) -> None:
        tmp = self.path / "instance.json.tmp"
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o600)  # the password
        tmp.replace(self.path / "instance.json")

    @classmethod
    def load(cls, name: str) -> Instance | None:
        path = TOP / name / "instance.json"
        if not path.is_file():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise HubError(f"{path} is damaged ({exc}); remove {path.parent} and the users it names by hand") from None


# --------------------------------------------------------------------------- processes
def _proc_start_time(pid: int) -> float | None:
    """A process's start time (clock ticks since boot), or None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return float(fields[19])


def alive(pid: int, started: float | None = None) -> bool:
    """Whether `pid` runs (not a zombie) and, given `started`, is still the process that started then."""
    t = _proc_start_time(pid) if pid > 0 else None
    return t is not None and (started is None or t == started)


def _uid_of(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def user_processes(users: list[str]) -> dict[int, str]:
    """{pid: command line} of every live process whose real uid is one of `users`."""
    uids = set()
    for u in users:
        try:
            uids.add(pwd.getpwnam(u).pw_uid)
        except KeyError:
            continue
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            pid = int(entry.name)
            if _uid_of(pid) in uids and alive(pid):
                found[pid] = _cmdline(pid)
    return found


def processes(inst: Instance) -> dict[int, str]:
    """{pid: what} of everything this instance runs: the hub, its proxy, every user's server and kernel."""
    out = {}
    if inst.hub_pid and alive(inst.hub_pid, inst.hub_started or None):
        out[inst.hub_pid] = "jupyterhub"
    proxy = _proxy_pid(inst)
    if proxy:
        out[proxy] = "configurable-http-proxy"
    for pid, cmd in user_processes(inst.users).items():
        out[pid] = cmd
    return out


def _proxy_pid(inst: Instance) -> int | None:
    try:
        pid = int((inst.hub_dir / "jupyterhub-proxy.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) and "configurable-http-proxy" in _cmdline(pid) else None


def _terminate(pids: list[int], grace: float) -> None:
    """SIGTERM, then SIGKILL whatever still runs after `grace` seconds."""
    starts = {p: _proc_start_time(p) for p in pids}
    for p in pids:
        with _quiet():
            os.kill(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(p, starts[p]) for p in pids):
        time.sleep(0.1)
    for p in pids:
        if alive(p, starts[p]):
            with _quiet():
                os.kill(p, signal.SIGKILL)


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        return kind is not None and issubclass(kind, (ProcessLookupError, PermissionError))


# --------------------------------------------------------------------------- users
def _marker(inst: Instance) -> str:
    return f"{MARK} {inst.name}"


def ensure_user(inst: Instance, name: str) -> None:
    """Create the Unix user `name` with its home in the instance (or keep the one this instance made)."""
    home = inst.home(name)
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        pw = None
    if pw is not None:
        if pw.pw_gecos != _marker(inst):
            raise HubError(f"the Unix user {name!r} already exists and was not made by this hub ({pw.pw_gecos!r}); "
                           "choose other names with --prefix")
    else:
        home.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(home.parent, 0o755)
        _run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", "--user-group",
              "--comment", _marker(inst), name])
        inst.created_users.append(name)
        inst.save()
    os.chmod(home, 0o700)


def remove_user(name: str, marker: str) -> None:
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return
    if pw.pw_gecos != marker:  # never remove a user this instance did not make
        raise HubError(f"the Unix user {name!r} is not this hub's ({pw.pw_gecos!r}); left alone")
    _run(["userdel", name])


# --------------------------------------------------------------------------- running commands
def _run(cmd: list, **kw) -> str:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise HubError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-2000:]}"
                       f"{proc.stderr[-4000:]}")
    return proc.stdout


def user_env(inst: Instance, user: str, role: str) -> dict[str, str]:
    """The environment a user's server and terminals have: the hub's venv first on PATH, role settings."""
    return {
        "HOME": str(inst.home(user)), "USER": user, "LOGNAME": user, "SHELL": "/bin/bash",
        "PATH": f"{inst.venv}/bin:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
        "PYTHONPATH": str(inst.path / "lib"), "JUPYTER_CONFIG_PATH": str(inst.role_config(role)),
    }


def run_as(inst: Instance, user: str, cmd: list, cwd: Path, timeout: float = 600) -> str:
    """Run `cmd` as the Unix user `user` (as a person would in their terminal on the hub)."""
    role = "instructor" if user == inst.instructor else "student"
    pw = pwd.getpwnam(user)
    return _run(cmd, cwd=cwd, env=user_env(inst, user, role), user=pw.pw_uid, group=pw.pw_gid,
                extra_groups=[], timeout=timeout)


# --------------------------------------------------------------------------- start
def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _render(template: str, **values) -> str:
    return string.Template((HERE / template).read_text(encoding="utf-8")).substitute(values)


def render_role_configs(inst: Instance) -> dict[str, str]:
    """{path relative to jupyter/: text} of nbgrader's and Jupyter's settings for each role."""
    return {
        "student/nbgrader_config.py": _render("student/nbgrader_config.py", course_id=COURSE_ID,
                                              exchange=str(inst.exchange)),
        "student/jupyter_server_config.json": _render("student/jupyter_server_config.json"),
        "student/labconfig/page_config.json": _render("student/labconfig/page_config.json"),
        "instructor/nbgrader_config.py": _render("instructor/nbgrader_config.py", course_dir=str(inst.course_dir)),
        "instructor/jupyter_server_config.json": _render("instructor/jupyter_server_config.json"),
        "instructor/labconfig/page_config.json": _render("instructor/labconfig/page_config.json"),
    }


def _copy_grader(inst: Instance) -> None:
    """This checkout's seqgrade (the grader package only, as students get it) in the instance's ``lib/``,
    first on every user's PYTHONPATH: the hub runs the code of the checkout that started it."""
    lib = inst.path / "lib"
    if lib.exists():
        shutil.rmtree(lib)
    shutil.copytree(REPO / "grader", lib / "grader", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for dirpath, dirnames, filenames in os.walk(lib):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)


def _copy_course(inst: Instance) -> Path:
    """The instructor's clone of the course repository: course/, solutions/, assignments/, theirs only."""
    dest = inst.home(inst.instructor) / "seqgrade"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir()
    for part in COURSE_PARTS:
        shutil.copytree(REPO / part, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pw = pwd.getpwnam(inst.instructor)
    for dirpath, dirnames, filenames in os.walk(dest):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for f in filenames:
            os.chown(os.path.join(dirpath, f), pw.pw_uid, pw.pw_gid)
    os.chown(dest, pw.pw_uid, pw.pw_gid)
    return dest


def set_due_dates(course_yaml: Path, assignment: str, quiz: str, when: str) -> None:
    """Make `assignment` (its own ``due:``) and `quiz` (in the top-level ``due:`` mapping) due at `when`,
    editing the lines in place so the file keeps its comments."""
    text = course_yaml.read_text(encoding="utf-8")
    block = re.compile(rf"(^  {re.escape(assignment)}:[ \t]*\n(?:(?:    .*)?\n)*?    due:[ \t]*)(\S+)", re.M)
    text, n = block.subn(lambda m: m.group(1) + when, text, count=1)
    if n != 1:
        raise HubError(f"{course_yaml}: no `due:` line under assignments: {assignment}: to set the demo's due date")
    if re.search(r"^due:[ \t]*\{\}[ \t]*$", text, re.M):
        text = re.sub(r"^due:[ \t]*\{\}[ \t]*$", f"due:\n  {quiz}: {when}", text, count=1, flags=re.M)
    elif re.search(r"^due:[ \t]*$", text, re.M):
        text = re.sub(rf"^  {re.escape(quiz)}:.*\n", "", text, flags=re.M)
        text = re.sub(r"^due:[ \t]*$", f"due:\n  {quiz}: {when}", text, count=1, flags=re.M)
    else:
        raise HubError(f"{course_yaml}: no top-level `due:` mapping to set the quiz's due date in")
    course_yaml.write_text(text, encoding="utf-8")


def build_course(inst: Instance) -> None:
    """As the instructor: `seqgrade nbgrader init`, then generate and release the assignment and the quiz."""
    clone = _copy_course(inst)
    home = inst.home(inst.instructor)
    course_yaml = clone / "course" / "course.yaml"
    set_due_dates(course_yaml, inst.assignment, inst.quiz, inst.due)
    shown = run_as(inst, inst.instructor, [f"{inst.venv}/bin/python", "-c", DUE_CHECK, course_yaml,
                                           inst.assignment, inst.quiz], home).split()
    if shown != [inst.due, inst.due]:
        raise HubError(f"{course_yaml}: the demo's due dates did not take (seqgrade reads {shown}, not {inst.due})")
    if inst.course_dir.exists():
        shutil.rmtree(inst.course_dir)
    init = ["seqgrade", "nbgrader", "init", inst.course_dir, "--course", clone / "course" / "course.yaml",
            "--assignment", inst.assignment, "--quiz", inst.quiz, "--exchange", inst.exchange,
            "--course-id", COURSE_ID]
    for pattern in inst.checks:
        init += ["--checks", pattern]
    run_as(inst, inst.instructor, init, home)
    for item in (inst.assignment, inst.quiz):
        run_as(inst, inst.instructor, ["nbgrader", "generate_assignment", item], inst.course_dir)
        run_as(inst, inst.instructor, ["nbgrader", "release_assignment", item], inst.course_dir)


DUE_CHECK = """import sys
from grader.config import load_config
cfg = load_config(sys.argv[1])
print(*(cfg.due_date(i).isoformat() for i in sys.argv[2:]))"""


def _write_role_configs(inst: Instance) -> None:
    for rel, text in render_role_configs(inst).items():
        path = inst.path / "jupyter" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for dirpath, dirnames, filenames in os.walk(inst.path / "jupyter"):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)


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
    inst.hub_pid, inst.hub_started = proc.pid, _proc_start_time(proc.pid) or 0.0
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
                 ("settings", lambda: _write_role_configs(inst)),
                 ("seqgrade", lambda: _copy_grader(inst)),
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
        _terminate([inst.hub_pid], grace=30)
        done.append(f"stopped JupyterHub (pid {inst.hub_pid})")
    proxy = _proxy_pid(inst)
    if proxy:
        _terminate([proxy], grace=5)
        done.append(f"stopped configurable-http-proxy (pid {proxy})")
    # whatever the users still run (servers, kernels, terminals, grading): every process of theirs is the hub's
    for attempt in range(5):
        left = user_processes(inst.created_users)
        if not left:
            break
        _terminate(sorted(left), grace=5)
        done.append(f"stopped {len(left)} processes of the hub's users")
    left = user_processes(inst.created_users)
    if left:
        raise HubError(f"processes of the hub's users survive: {left}")
    for user in list(inst.created_users):
        remove_user(user, _marker(inst))
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
