"""The bubblewrap command line: what the sandbox sees, in an order that keeps it visible."""

from __future__ import annotations

import sys

from grader.sandbox import launcher


def _mount_targets(cmd: list[str]) -> list[tuple[int, str, str]]:
    """(position, option, destination) of every mount-like option."""
    out = []
    for i, arg in enumerate(cmd):
        if arg in ("--ro-bind", "--bind", "--symlink"):
            out.append((i, arg, cmd[i + 2]))
        elif arg in ("--tmpfs", "--dir", "--proc", "--dev"):
            out.append((i, arg, cmd[i + 1]))
    return out


def test_private_tmp_is_mounted_before_a_venv_that_lives_under_tmp(monkeypatch, tmp_path):
    """A CI checkout under /tmp: a tmpfs mounted after the venv's bind would hide it (bwrap: execvp ... No such file)."""
    venv = tmp_path / "checkout" / ".venv"
    monkeypatch.setattr(sys, "prefix", str(venv))
    cmd = launcher.bwrap_command("/usr/bin/python3", 3)
    mounts = _mount_targets(cmd)
    tmpfs = [i for i, opt, dest in mounts if opt == "--tmpfs" and dest == "/tmp"]
    venv_bind = [i for i, opt, dest in mounts if opt == "--ro-bind" and dest == str(venv.resolve())]
    assert tmpfs and venv_bind
    assert tmpfs[0] < venv_bind[0]


def test_the_sandbox_sees_neither_the_repository_nor_the_grader(monkeypatch):
    cmd = launcher.bwrap_command(sys.executable, 3)
    binds = {dest for _, opt, dest in _mount_targets(cmd) if opt in ("--ro-bind", "--bind")}
    repo = str(launcher.HARNESS_DIR.parents[1])
    assert repo not in binds and f"{repo}/solutions" not in binds and f"{repo}/grader" not in binds
    assert "--unshare-net" in cmd and "--unshare-pid" in cmd and "--bind" not in cmd
