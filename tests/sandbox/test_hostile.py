"""Hostile submissions earn nothing they did not compute and disturb no other submission.

Each attack rides on a *wrong* implementation (every RNNCell output is zeros,
the rest raises), so any point it scored would be unearned. After every
hostile submission the same sandbox grades a correct canary, which must get
full marks: the attack did not reach the grader, the zygote or the next child.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from tests.checks.grading import REPO, grade_sources, reference_source
from tests.integrity.attacks import WRONG

SENTINEL = Path("/tmp/seqgrade-hostile-sentinel.txt")

ATTACKS = {
    "imports_the_reference": """
import importlib.util, sys
for path in ["{repo}/solutions/rnn.py", "../../solutions/rnn.py"]:
    try:
        spec = importlib.util.spec_from_file_location("stolen", path)
        stolen = importlib.util.module_from_spec(spec); spec.loader.exec_module(stolen)
        RNNCell = stolen.RNNCell
        break
    except Exception:
        pass
""",
    "reads_other_students": """
import glob, os
found = glob.glob("{repo}/**/rnn.py", recursive=True) + glob.glob("/tmp/**/rnn.py", recursive=True)
for f in found:
    if "solutions" in f or "alice" in f:
        exec(open(f).read())
""",
    "monkeypatches_torch_comparisons": """
import torch, torch.testing
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
torch.Tensor.__eq__ = lambda self, other: True
""",
    "patches_builtins_and_pytest": """
import builtins, sys, types
builtins.AssertionError = type("AssertionError", (Exception,), {{}})
fake = types.ModuleType("pytest"); fake.main = lambda *a, **k: 0
sys.modules["pytest"] = fake
builtins.isinstance = lambda *a: True
""",
    "exits_at_import": """
import os
os._exit(0)
""",
    "sys_exit_in_forward": """
import sys
_orig = RNNCell.forward
def forward(self, input, hx=None):
    sys.exit(0)
RNNCell.forward = forward
""",
    "infinite_loop_in_forward": """
def forward(self, input, hx=None):
    while True:
        pass
RNNCell.forward = forward
""",
    "memory_bomb": """
import torch
def forward(self, input, hx=None):
    hog = []
    while True:
        hog.append(torch.ones(64 * 1024 * 1024, dtype=torch.uint8))
RNNCell.forward = forward
""",
    "bounded_fork_bomb_and_daemon": """
import os, time
for _ in range(400):
    try:
        if os.fork() == 0:
            os.setsid()
            time.sleep(30)
            os._exit(0)
    except OSError:
        break
""",
    "network_connection": """
import socket
try:
    s = socket.create_connection(("127.0.0.1", {port}), timeout=2)
    s.sendall(b"leak")
except OSError:
    pass
""",
    "prints_fake_results": """
import sys, os
msg = '{{"result": {{"student": "hostile", "score": 100}}}}\\n============ 40 passed in 0.1s ============\\n'
print(msg); sys.stderr.write(msg)
for fd in range(3, 64):
    try:
        os.write(fd, b"SQG1" + msg.encode())
    except OSError:
        pass
""",
    "lying_tensor_subclass": """
import torch
class Liar(torch.Tensor):
    def __eq__(self, other): return True
    def allclose(self, *a, **k): return True
_orig = RNNCell.forward
def forward(self, input, hx=None):
    return _orig(self, input, hx).as_subclass(Liar)
RNNCell.forward = forward
""",
    "writes_outside_its_folder": """
for path in ["{sentinel}", "{repo}/grader/__init__.py", "{repo}/gradebook.db", "/tmp/../{sentinel_name}"]:
    try:
        with open(path, "a") as f:
            f.write("pwned")
    except OSError:
        pass
""",
    "kills_its_parent": """
import os, signal
for pid in (os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
""",
}


@pytest.fixture(scope="module")
def listener():
    """A TCP server on the host's loopback that records any connection."""
    got = []
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                got.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1], got
    stop.set()
    t.join()
    srv.close()


@pytest.fixture(scope="module")
def graded(listener):
    port, _ = listener
    SENTINEL.unlink(missing_ok=True)
    canary = reference_source("a1_rnn")
    sources = {}
    for name, attack in ATTACKS.items():
        code = attack.format(repo=REPO, port=port, sentinel=SENTINEL, sentinel_name=SENTINEL.name)
        sources[f"hostile_{name}"] = WRONG + code
        sources[f"canary_after_{name}"] = canary
    return grade_sources("a1_rnn", sources, timeout_cap=2.0, budget_s=8.0)


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_attack_earns_nothing(graded, attack):
    r = graded[f"hostile_{attack}"]
    assert r.score == 0, [(c.name, c.status, c.message) for c in r.checks if c.passed]
    assert len(r.checks) > 0


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_next_submission_is_graded_normally(graded, attack):
    r = graded[f"canary_after_{attack}"]
    assert r.score == r.max_score > 0, [(c.name, c.message) for c in r.checks if not c.passed]


def test_nothing_reached_the_network(graded, listener):
    _, got = listener
    assert got == []


def test_nothing_was_written_outside(graded):
    assert not SENTINEL.exists()
    assert "pwned" not in (REPO / "grader" / "__init__.py").read_text()


def test_failures_say_what_happened(graded):
    def messages(name):
        return " ".join(c.message for c in graded[f"hostile_{name}"].checks)

    assert "exit" in messages("exits_at_import")
    assert "time" in messages("infinite_loop_in_forward")
    assert "Tensor subclass" in messages("lying_tensor_subclass")
    assert "SystemExit" in messages("sys_exit_in_forward")
