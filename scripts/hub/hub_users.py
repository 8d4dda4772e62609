"""The Unix users of a hub instance, and commands run as one of them."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from hub_instance import MARK, HubError, Instance

def marker(inst: Instance) -> str:
    return f"{MARK} {inst.name}"


def ensure_user(inst: Instance, name: str) -> None:
    """Create the Unix user `name` with its home in the instance (or keep the one this instance made)."""
    home = inst.home(name)
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        pw = None
    if pw is not None:
        if pw.pw_gecos != marker(inst):
            raise HubError(f"the Unix user {name!r} already exists and was not made by this hub ({pw.pw_gecos!r}); "
                           "choose other names with --prefix")
    else:
        home.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(home.parent, 0o755)
        run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", "--user-group",
              "--comment", marker(inst), name])
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
    run(["userdel", name])


# --------------------------------------------------------------------------- running commands
def run(cmd: list, **kw) -> str:
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
    return run(cmd, cwd=cwd, env=user_env(inst, user, role), user=pw.pw_uid, group=pw.pw_gid,
                extra_groups=[], timeout=timeout)
