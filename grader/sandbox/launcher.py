"""How the zygote is started: inside bubblewrap, or bare only when asked for by name.

Inside bubblewrap the zygote sees the operating system read-only, Python and
the virtual environment read-only, this folder (the harness) read-only, a
private /tmp, its own /proc and a minimal /dev, and no network. The grader's
files, `solutions/` and other submissions are simply not there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import SandboxError

HARNESS_DIR = Path(__file__).resolve().parent
SANDBOX_HARNESS_DIR = "/opt/seqgrade-sandbox"
POLICIES = ("auto", "bwrap", "none")


class SandboxWarning(UserWarning):
    """Submissions run without filesystem and network isolation."""


@dataclass(frozen=True)
class Limits:
    """Per-child resource limits."""

    cpu_s: int = 120  # CPU seconds for a whole submission (all its checks)
    mem_mb: int = 3072  # address space beyond what the forked zygote already maps
    nproc: int = 256  # processes and threads of the sandbox user, all children together
    fsize_mb: int = 64  # largest file a child may write
    tmp_mb: int = 256  # its working folder (a tmpfs: memory), on top of mem_mb

    def as_dict(self) -> dict:
        return {"cpu_s": self.cpu_s, "mem_mb": self.mem_mb, "nproc": self.nproc,
                "fsize_mb": self.fsize_mb, "tmp_mb": self.tmp_mb}


@dataclass
class Launched:
    """A zygote that was started but not yet waited for."""

    proc: subprocess.Popen
    control: socket.socket


def launch(policy: str, limits: "Limits | None" = None) -> Launched:
    """Start a zygote under `policy` ("bwrap" or "none") without waiting for it.

    Needs no torch in the caller: a command can start its sandbox first, so the
    zygote's own `import torch` overlaps the caller's.
    """
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fd = child.fileno()
    limits = limits or Limits()
    if policy == "bwrap":
        cmd = bwrap_command(sys.executable, fd, tmp_mb=limits.tmp_mb)
        env = {"PATH": "/usr/bin:/bin"}
    else:
        cmd = bare_command(sys.executable, fd)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_NUM_THREADS": "1",
               "HOME": os.environ.get("HOME", "/tmp")}
    try:
        proc = subprocess.Popen(cmd, pass_fds=(fd,), env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        parent.close()
        raise SandboxError(f"cannot start the sandbox ({cmd[0]}): {exc}") from exc
    finally:
        child.close()
    return Launched(proc, parent)


BWRAP_ENV = "SEQGRADE_BWRAP"  # the bubblewrap program to use (tests point it at a missing or broken one)


def bwrap_path() -> str | None:
    forced = os.environ.get(BWRAP_ENV)
    if forced is not None:
        return forced if os.path.isfile(forced) and os.access(forced, os.X_OK) else None
    return shutil.which("bwrap")


def _ancestors(path: Path) -> list[Path]:
    return [p for p in reversed(path.parents) if str(p) != "/"]


# Each child runs under a uid of its own (no passwd entry needed): no other submission, of this
# sandbox or another, shares it, so no process of one student can signal, trace or share files
# with another's, and RLIMIT_NPROC (counted per uid) is per submission. A sandbox takes the uids
# uid_base+1 .. uid_base+9999 (the harness's UID_SPAN), reusing one only after checking that no
# process of it is left.
SANDBOX_UID_BASE = 1_900_000_000
UID_SPAN = 10_000


def sandbox_uid() -> int:
    """The first uid of this process's sandbox (every uid below 2**32 - 1)."""
    return SANDBOX_UID_BASE + (os.getpid() % 200_000) * UID_SPAN


def bwrap_command(python: str, control_fd: int, tmp_mb: int = Limits.tmp_mb) -> list[str]:
    """The bubblewrap command line that starts the zygote."""
    prefix = Path(sys.prefix).resolve()  # the virtual environment
    base = Path(sys.base_prefix).resolve()  # the Python installation
    cmd = [bwrap_path() or "bwrap", "--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin", "lib32", "libx32"):
        p = Path("/") / link
        if p.is_symlink():
            cmd += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            cmd += ["--ro-bind", str(p), str(p)]
    # The private /tmp first: Python or the venv may live under /tmp (a CI checkout), and a
    # tmpfs mounted after their binds would hide them.
    # Its size bounds what a child may write when it cannot have a tmpfs of its own (the harness
    # gives each child one of tmp_mb when it can).
    cmd += ["--ro-bind", "/etc", "/etc", "--size", str((tmp_mb + 16) * 1024 * 1024), "--tmpfs", "/tmp"]
    made: set[Path] = {Path("/tmp")}
    for tree in (base, prefix):
        if str(tree).startswith("/usr/"):
            continue
        for anc in _ancestors(tree):
            if anc not in made and not str(anc).startswith("/usr"):
                cmd += ["--perms", "0755", "--dir", str(anc)]
                made.add(anc)
        cmd += ["--ro-bind", str(tree), str(tree)]
        made.add(tree)
    cmd += [
        "--perms", "0755", "--dir", "/opt",
        "--ro-bind", str(HARNESS_DIR), SANDBOX_HARNESS_DIR,
        "--proc", "/proc", "--dev", "/dev",
        "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--die-with-parent", "--new-session",
        "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp",
        "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MKL_NUM_THREADS", "1",
        "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--chdir", "/tmp",
    ]
    if os.geteuid() != 0:
        cmd += ["--unshare-user"]
    cmd += [python, "-I", f"{SANDBOX_HARNESS_DIR}/harness.py", str(control_fd), str(sandbox_uid())]
    return cmd


def bare_command(python: str, control_fd: int) -> list[str]:
    return [python, "-I", str(HARNESS_DIR / "harness.py"), str(control_fd), str(sandbox_uid())]


def _bwrap_works() -> bool:
    try:
        r = subprocess.run([bwrap_path(), "--ro-bind", "/", "/", "--unshare-net", "true"],
                           capture_output=True, timeout=20)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


_BWRAP_OK: dict[str, bool] = {}


def resolve_policy(policy: str, *, untrusted: bool = True) -> str:
    """'bwrap' or 'none'.

    Untrusted code (grading a class) runs without isolation only when asked for by name
    (``none``): ``auto`` and ``bwrap`` then fail closed when bubblewrap cannot run. For
    one's own code (``seqgrade check``, ``untrusted=False``), ``auto`` falls back to
    ``none`` with a warning, so a student without bubblewrap can still check their work.
    """
    if policy not in POLICIES:
        raise SandboxError(f"unknown sandbox policy {policy!r}; use one of {', '.join(POLICIES)}")
    if policy == "none":
        return "none"
    ok = _BWRAP_OK.get("ok")
    if ok is None:
        ok = _BWRAP_OK["ok"] = bool(bwrap_path()) and _bwrap_works()
    if ok:
        return "bwrap"
    if policy == "bwrap" or untrusted:
        raise SandboxError(
            "bubblewrap (bwrap) is not installed or cannot create namespaces here, so student code "
            "cannot be isolated. Install it (`sudo apt-get install bubblewrap`, or `make system-deps`; "
            "see docs/security.md for what the kernel must allow). To grade without isolation anyway, "
            "ask for it by name: --sandbox none (only for code you trust)."
        )
    warnings.warn(
        "bubblewrap is not available: your code runs WITHOUT filesystem and network "
        "isolation (only resource limits and a separate process apply).",
        SandboxWarning,
        stacklevel=2,
    )
    return "none"
