"""A real `distributed.LocalCluster` (worker processes, nannies) and a mixed class of a1_rnn submissions.

The tests grade with a snapshot of the course (solutions/, assignments/,
course.yaml) copied once per session, so checks being edited in the
repository meanwhile cannot make two gradings of the same class differ.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dask
import pytest

REPO = Path(__file__).resolve().parents[2]
SEED = 20261130
N_WORKERS = 3
ALLOWED_FAILURES = 1  # a task survives one dying worker; the second death makes it an error
PROJECTION = "x_proj = torch.matmul(layer_input, weight_ih.t())  # (T, B, H)"
# Never returns from relu cells: stopped by each call's wall-clock limit. It idles, so the outcome
# is a timeout however loaded the machine is (tests/sandbox covers loops that burn CPU).
LOOP = '''
import time

_forward = RNNCell.forward


def forward(self, input, hx=None):
    while self.nonlinearity == "relu":
        time.sleep(0.05)
    return _forward(self, input, hx)


RNNCell.forward = forward
'''


@pytest.fixture(scope="session")
def course(tmp_path_factory, cluster) -> Path:
    """course.yaml of a frozen copy of the course, naming the cluster as its `scheduler:`.

    `seqgrade grade` then grades on the cluster; `grade_class` only when its
    options say so (the local runs below leave it out).
    """
    root = tmp_path_factory.mktemp("course-root")
    for part in ("solutions", "assignments"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "course").mkdir()
    text = (REPO / "course" / "course.yaml").read_text(encoding="utf-8")
    (root / "course" / "course.yaml").write_text(text + f"\nscheduler: {cluster.scheduler_address}\n",
                                                 encoding="utf-8")
    return root / "course" / "course.yaml"


@pytest.fixture(scope="session")
def reference(course) -> str:
    return (course.parent.parent / "solutions" / "rnn.py").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def mixed(reference) -> dict[str, str]:
    """student -> source: correct, buggy (a realistic bug, a syntax error) and hostile."""
    assert reference.count(PROJECTION) == 1, f"{PROJECTION!r} must occur once in solutions/rnn.py"
    return {
        "correct": reference,
        # the input projection is cut from autograd: values right, gradients wrong
        "buggy_detached": reference.replace(PROJECTION, PROJECTION.replace(".t())", ".t()).detach()")),
        "buggy_syntax": reference + "\n\ndef broken(:\n    pass\n",
        "hostile_exit": reference + "\nimport os\n\nos._exit(3)  # at import, after defining everything\n",
        "hostile_loop": reference + LOOP,
    }


def write_class(folder: Path, sources: dict[str, str]) -> Path:
    for student, src in sources.items():
        (folder / student).mkdir(parents=True, exist_ok=True)
        (folder / student / "rnn.py").write_text(src, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def mixed_class(tmp_path_factory, mixed) -> Path:
    return write_class(tmp_path_factory.mktemp("class") / "submissions", mixed)


@pytest.fixture(scope="session")
def cluster():
    """Three worker processes with one thread each, behind nannies that restart a killed worker."""
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        with LocalCluster(n_workers=N_WORKERS, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as c:
            yield c


@pytest.fixture(scope="session")
def client(cluster):
    """The tests' own connection, for watching and killing workers (grading opens its own)."""
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as c:
        yield c


def worker_pids(cluster) -> dict[str, int]:
    """Worker address -> pid of its process, from the nannies (no round trip to a worker that may be dead)."""
    nannies = list(cluster.workers.values())
    return {n.worker_address: n.pid for n in nannies if n.worker_address and n.pid}


def grading_processes(pid: int) -> list:
    """The `python -m grader.engine.worker` processes a Dask worker process started."""
    import psutil

    out = []
    for p in psutil.Process(pid).children():
        try:
            if "grader.engine.worker" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
