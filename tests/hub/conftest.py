"""The local JupyterHub of `make hub`, started for a test and always stopped after it.

`hub` starts an instance with scripts/hub/localhub.py, the script behind `make hub`, under its own name,
port and Unix user names (t<hex>-instructor, t<hex>-alice, ...), so it never touches a hub a person
started. At the end, pass or fail, it stops the instance and asserts that every process it ever saw
(the hub, the proxy, each user's server, kernels and terminals) is gone, by PID.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCALHUB = REPO / "scripts" / "hub" / "localhub.py"
sys.path.insert(0, str(LOCALHUB.parent))
import hub_course  # noqa: E402,F401  (scripts/hub/: localhub.py and its modules; test_docs uses it)
import hub_instance  # noqa: E402
import hub_procs  # noqa: E402
import localhub  # noqa: E402
from tests.requirements import unavailable  # noqa: E402

STUDENTS = ("alice", "bob", "mallory")  # a correct answer, a buggy one, a hostile one
# RNNCell's checks and two of RNN's: a public check for Validate, checks bob fails and passes, and grading
# that takes seconds, not a minute (make hub releases every check)
CHECKS = ("*rnncell*", "test_rnn_relu", "test_rnn_values")


def missing() -> str | None:
    """Why the hub cannot run here, or None. Only a machine where Chromium or npm cannot be installed
    (not root, no apt-get) skips; `make test` installs both (scripts/install-browser.sh, setup-hub.sh)."""
    from tests.browser import missing as no_browser

    reason = no_browser()
    if reason:
        return reason
    if os.geteuid() != 0:
        return "the hub test creates Unix users: it needs root (make test installs npm and Chromium as root)"
    venv = hub_instance.env_root() / "venv"
    if not (venv / ".installed").is_file():
        return f"the hub's environment {venv} is missing: run `bash scripts/setup-hub.sh` (make test does)"
    return None


@dataclass
class RunningHub:
    """The started instance and every PID seen while the test ran."""

    inst: hub_instance.Instance
    seen: dict[int, str] = field(default_factory=dict)
    started: dict[int, float | None] = field(default_factory=dict)

    def watch(self) -> dict[int, str]:
        """Record what the instance runs now (called after each step); returns it."""
        now = hub_procs.processes(self.inst)
        for pid, what in now.items():
            if pid not in self.seen:
                self.seen[pid] = what
                self.started[pid] = hub_procs.start_time(pid)
        return now

    def user(self, name: str) -> str:
        return f"{self.inst.name}-{name}"

    @property
    def instructor(self) -> str:
        return self.inst.instructor

    def home(self, user: str) -> Path:
        return self.inst.home(user)


def _localhub(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LOCALHUB), *map(str, args)], capture_output=True, text=True,
                          timeout=900, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


@pytest.fixture(scope="module")
def hub():
    reason = missing()
    if reason:
        unavailable("hub", reason)
    _localhub("sweep")  # the hubs of test runs that were killed
    name = f"t{secrets.token_hex(3)}"
    args = ["start", "--name", name, "--port", localhub.free_port(), "--hub-port", 0, "--proxy-api-port", 0,
            "--prefix", f"{name}-", "--students", ",".join(STUDENTS),
            *[arg for pattern in CHECKS for arg in ("--checks", pattern)], "--owner-pid", os.getpid(), "--json"]
    proc = _localhub(*args)
    inst = hub_instance.Instance.load(name)
    running = None
    try:
        assert proc.returncode == 0, f"localhub.py start failed ({proc.returncode}):\n{proc.stderr[-6000:]}"
        assert inst is not None and json.loads(proc.stdout.splitlines()[-1])["name"] == name
        running = RunningHub(inst)
        running.watch()
        again = _localhub(*args)  # `make hub` twice: the running hub, unchanged
        assert again.returncode == 0, again.stderr[-3000:]
        assert json.loads(again.stdout.splitlines()[-1])["hub_pid"] == inst.hub_pid
        yield running
    finally:
        if running is not None:
            running.watch()
        stop = _localhub("stop", "--name", name)
        gone = hub_instance.Instance.load(name) is None
        survivors = {pid: what for pid, what in (running.seen.items() if running else [])
                     if hub_procs.alive(pid, running.started.get(pid))}
        assert stop.returncode == 0, f"localhub.py stop failed:\n{stop.stdout}\n{stop.stderr}"
        assert gone, f"{hub_instance.TOP / name} is still there after stop"
        assert not survivors, f"processes of the hub survive its stop: {survivors}"
        left = [u for u in (running.inst.users if running else []) if _user_exists(u)]
        assert not left, f"the hub's Unix users survive its stop: {left}"


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
