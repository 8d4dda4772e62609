"""CPU time of a sandbox's submission processes, read from the kernel's accounting from outside.

The parallelism checks count tensor operations inside the child, where the
submission could tamper with the counters. The CPU time the kernel charged
to the child (and to every process it started) cannot be changed by the
child, so the grader reads it here, from the host's /proc, before and after
a counted call. The harness uses the same process-tree walk inside the
sandbox: like `wire`, this module imports nothing from seqgrade.
"""

from __future__ import annotations

import os

_TICK_NS = 1_000_000_000 // (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)


def _read(path: str) -> bytes | None:
    """A small /proc file's bytes (None when it is gone): one open and one read, no Python file object,
    since a measurement walks every process of the host twice per timed call."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)


def _stat_fields(pid: int) -> list[bytes] | None:
    raw = _read(f"/proc/{pid}/stat")
    if not raw or b")" not in raw:
        return None
    return raw[raw.rindex(b")") + 2:].split()  # after "pid (comm) "; fields[0] is the state


def children_map() -> dict[int, list[int]]:
    """ppid -> [pid] for every process of the host."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is None:
            continue
        out.setdefault(int(fields[1]), []).append(int(entry))
    return out


def descendants(root: int, children: dict[int, list[int]] | None = None) -> list[int]:
    children = children_map() if children is None else children
    found, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(pid)
            todo.append(pid)
    return found


def ns_pid(pid: int) -> int | None:
    """The pid of host process `pid` in its innermost PID namespace."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


def find_in_namespace(root: int, inner_pid: int) -> int | None:
    """The host pid of the descendant of `root` whose pid in its own namespace is `inner_pid`."""
    for pid in descendants(root):
        if ns_pid(pid) == inner_pid:
            return pid
    return None


def process_cpu_ns(pid: int) -> int:
    """CPU time of `pid` (all its threads) and of its reaped children, in nanoseconds."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tasks:
        raw = _read(f"/proc/{pid}/task/{tid}/schedstat")
        try:
            total += int(raw.split()[0]) if raw else 0
        except (ValueError, IndexError):
            pass
    fields = _stat_fields(pid)
    if fields is not None and len(fields) > 14:
        total += (int(fields[13]) + int(fields[14])) * _TICK_NS  # cutime + cstime (reaped children)
    return total


def tree_cpu_ns(root: int) -> int:
    """CPU time of every process below `root` (not `root` itself), in nanoseconds."""
    return sum(process_cpu_ns(pid) for pid in descendants(root))
