"""The processes of a hub instance, found and stopped by PID (the hub's users run nothing else)."""

from __future__ import annotations

import os
import pwd
import signal
import time
from pathlib import Path

from hub_instance import Instance

def start_time(pid: int) -> float | None:
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
    t = start_time(pid) if pid > 0 else None
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
    proxy = proxy_pid(inst)
    if proxy:
        out[proxy] = "configurable-http-proxy"
    for pid, cmd in user_processes(inst.users).items():
        out[pid] = cmd
    return out


def proxy_pid(inst: Instance) -> int | None:
    try:
        pid = int((inst.hub_dir / "jupyterhub-proxy.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) and "configurable-http-proxy" in _cmdline(pid) else None


def terminate(pids: list[int], grace: float) -> None:
    """SIGTERM, then SIGKILL whatever still runs after `grace` seconds."""
    starts = {p: start_time(p) for p in pids}
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
