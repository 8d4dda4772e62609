"""A worker that cannot grade (here: no bubblewrap on its PATH) stops the run and doctor names it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from grader.catalog import get_assignment
from grader.cli import cli
from grader.config import load_config
from grader.engine.grading import GradeOptions, grade_class
from grader.errors import SeqgradeError
from grader.gradebook import Gradebook

from .conftest import SEED


# One pytest-xdist process runs them all (with --dist loadgroup): they share one LocalCluster.
pytestmark = pytest.mark.xdist_group("dask_cluster")


@pytest.fixture(scope="module")
def no_bwrap_cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                      env={"PATH": "/nonexistent"}) as c:
        yield c


def test_grading_stops_with_a_message_naming_the_worker(no_bwrap_cluster, course, mixed_class, tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        with pytest.raises(SeqgradeError) as info:
            grade_class(get_assignment("a1_rnn"), mixed_class, load_config(course), gb,
                        GradeOptions(seed=SEED, sandbox="bwrap", scheduler=no_bwrap_cluster.scheduler_address))
        assert gb.results("a1_rnn") == []  # nothing half-graded was recorded as the students' fault
    text = str(info.value)
    worker = next(iter(no_bwrap_cluster.scheduler_info["workers"]))
    assert worker in text and "bubblewrap" in text and "seqgrade doctor" in text


def test_doctor_marks_the_worker_without_bubblewrap(no_bwrap_cluster, course):
    res = CliRunner().invoke(cli, ["doctor", "--course", str(course), "--json",
                                   "--scheduler", no_bwrap_cluster.scheduler_address])
    assert res.exit_code != 0
    machines = json.loads(res.output)
    (worker,) = [m for m in machines if m != "this machine"]
    found = {f["check"]: f for f in machines[worker]}
    assert found["bubblewrap"]["status"] == "fail" and "apt-get install bubblewrap" in found["bubblewrap"]["detail"]
    assert {f["check"]: f for f in machines["this machine"]}["bubblewrap"]["status"] == "ok"
