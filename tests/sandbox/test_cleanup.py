"""After each submission the zygote kills what that submission left behind, and nothing else."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from grader.sandbox.client import Sandbox
from tests.requirements import unavailable

DAEMON = '''
import os, time
def spawn(path):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1.5)
            open(path, "w").write("still alive")
            os._exit(0)
        os._exit(0)
    return True
'''

PROBE = '''
import os
def others():
    """Processes of my own uid other than me: what an earlier submission left behind."""
    me, uid = os.getpid(), os.getuid()
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) != me:
            try:
                if os.stat(f"/proc/{p}").st_uid == uid:
                    found.append(int(p))
            except OSError:
                pass
    return found
'''

@pytest.fixture(autouse=True)
def _as_root():
    if os.geteuid() != 0:
        unavailable("root", "the sandbox drops privileges only as root")


def test_daemon_left_by_a_child_is_killed_under_bwrap():
    with Sandbox("bwrap") as sb:
        p = sb.open(DAEMON, "attack")
        assert p.call("spawn", "/tmp/x").value is True
        p.close()
        probe = sb.open(PROBE, "probe")
        assert probe.call("others").value == []
        probe.close()


def test_daemon_left_by_a_child_is_killed_without_bwrap(tmp_path):
    marker = tmp_path / "daemon-was-here"
    os.chmod(tmp_path, 0o777)
    with Sandbox("none") as sb:
        p = sb.open(DAEMON, "attack")
        p.call("spawn", str(marker))
        p.close()
    time.sleep(2.5)
    assert not marker.exists(), "a daemon started by the submission outlived it"


def test_unsandboxed_cleanup_spares_unrelated_processes_of_the_same_uid():
    bystander = subprocess.Popen(["sleep", "30"], user=65534, group=65534)
    try:
        with Sandbox("none") as sb:
            p = sb.open("def f():\n    return 1\n", "m")
            assert p.call("f").value == 1
            p.close()
        assert bystander.poll() is None, "the grader killed a process that was not its own"
    finally:
        bystander.kill()
        bystander.wait()


def test_bwrap_children_each_run_as_a_uid_of_their_own():
    """Each child drops root for a uid no other submission uses: not the previous child's, not another worker's."""
    from grader.sandbox.launcher import UID_SPAN, sandbox_uid

    seen = []
    with Sandbox("bwrap") as sb:
        for _ in range(3):
            p = sb.open("import os\ndef ids():\n    return os.getuid(), os.getgid(), os.geteuid()\n", "u")
            uid, gid, euid = p.call("ids").value
            p.close()
            assert uid == euid == gid != 0
            seen.append(uid)
    assert len(set(seen)) == 3
    assert all(sandbox_uid() < u < sandbox_uid() + UID_SPAN for u in seen)


def test_a_worker_in_another_process_gets_another_uid():
    import subprocess
    import sys

    code = "from grader.sandbox.launcher import sandbox_uid; print(sandbox_uid())"
    other = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    from grader.sandbox.launcher import sandbox_uid

    assert other != sandbox_uid()
