"""Grading on a real Dask LocalCluster gives local grading's results, and dying workers lose nothing.

One class of a1_rnn (correct, buggy, hostile) is graded twice with the same
seed: by the local worker pool, and on a LocalCluster of three worker
processes while, mid-run, one Dask worker is SIGKILLed and the grading process
of another is SIGKILLed. Every score and message must match, and the cluster's
gradebook must hold every student.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time

import pytest
from click.testing import CliRunner

from grader.catalog import get_assignment
from grader.cli import cli
from grader.config import load_config
from grader.engine.grading import GradeOptions, grade_class
from grader.gradebook import Gradebook

from .conftest import SEED, grading_processes, is_alive, worker_pids

A1 = get_assignment("a1_rnn")


# One pytest-xdist process runs them all (with --dist loadgroup): they share one LocalCluster.
pytestmark = pytest.mark.xdist_group("dask_cluster")


def _options(**kw) -> GradeOptions:
    return GradeOptions(seed=SEED, **kw)


def _comparable(r) -> dict:
    """What must not depend on where a submission was graded."""
    return {"raw_score": r.raw_score, "max_score": r.max_score, "error": r.error,
            "content_hash": r.content_hash, "checks_version": r.checks_version,
            "checks": [(c.name, c.status, c.score, c.max_score, c.visibility, c.message) for c in r.checks]}


@pytest.fixture(scope="module")
def local_started(mixed_class, course, tmp_path_factory):
    """Local grading (the worker pool), run in a thread so that it overlaps the cluster's run."""
    gb_path = tmp_path_factory.mktemp("local") / "gradebook.db"
    box = {}

    def grade():
        try:
            with Gradebook(gb_path) as gb:
                box["run"] = grade_class(A1, mixed_class, load_config(course), gb, _options(workers=2))
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    t = threading.Thread(target=grade, daemon=True)
    t.start()
    return t, box


@pytest.fixture(scope="module")
def local_run(local_started):
    t, box = local_started
    t.join(timeout=600)
    assert not t.is_alive(), "local grading did not finish in 10 minutes"
    if "error" in box:
        raise box["error"]
    return {r.student: r for r in box["run"].results}


@pytest.fixture(scope="module")
def cluster_run(local_started, mixed_class, course, cluster, client, tmp_path_factory):
    """Grade on the cluster; at the first result, kill one busy Dask worker and another's grading process."""
    gb_path = tmp_path_factory.mktemp("cluster") / "gradebook.db"
    events = {"order": [], "killed_worker": None, "killed_grader": None}

    def kill_two(result) -> None:
        events["order"].append(result.student)
        if len(events["order"]) != 1:
            return
        busy = {addr: keys for addr, keys in client.processing().items() if keys}
        assert busy, "no task in flight after the first result: nothing to kill"
        pids = worker_pids(cluster)
        # the busiest worker dies outright (as if out of memory); its tasks must run elsewhere
        victim = max(busy, key=lambda a: len(busy[a]))
        events["killed_worker"] = (victim, list(busy[victim]), pids[victim])
        os.kill(pids[victim], signal.SIGKILL)
        # on another busy worker, only the grading process dies: its task is retried
        for addr in busy:
            graders = grading_processes(pids[addr]) if addr != victim else []
            if graders:
                graders[0].send_signal(signal.SIGKILL)
                events["killed_grader"] = (addr, list(busy[addr]), graders[0].pid)
                break

    with Gradebook(gb_path) as gb:
        run = grade_class(A1, mixed_class, load_config(course), gb,
                          _options(scheduler=cluster.scheduler_address), on_result=kill_two)
    with Gradebook(gb_path) as gb:
        stored = {r.student: r for r in gb.results("a1_rnn")}
    return {"results": {r.student: r for r in run.results}, "stored": stored, "gradebook": gb_path, **events}


def test_the_class_is_really_mixed(cluster_run, local_run):
    """Does the class hold full marks, lost points, import errors and a stopped loop, as intended?"""
    ref = local_run["correct"]
    assert ref.max_score > 0 and ref.raw_score == ref.max_score and not ref.error, \
        [(c.name, c.message) for c in ref.checks if not c.passed]
    assert 0 < local_run["buggy_detached"].raw_score < ref.max_score
    assert "SyntaxError" in local_run["buggy_syntax"].error and local_run["buggy_syntax"].raw_score == 0
    hostile_exit = local_run["hostile_exit"]
    assert hostile_exit.raw_score == 0 and hostile_exit.checks
    assert all(not c.passed and "exit code 3" in c.message for c in hostile_exit.checks)
    loop = local_run["hostile_loop"]
    assert any(c.status == "timeout" for c in loop.checks) and 0 < loop.raw_score < ref.max_score


def test_cluster_gives_the_same_scores_and_messages_as_local(local_run, cluster_run, mixed):
    got = cluster_run["results"]
    assert sorted(got) == sorted(local_run) == sorted(mixed)
    for student, local in local_run.items():
        here, there = _comparable(local), _comparable(got[student])
        assert here.pop("checks") == there.pop("checks"), student
        assert here == there, student


def test_killed_worker_and_grading_process_lose_nothing(cluster_run, mixed):
    """Were tasks in flight on the killed worker, and is every student in the gradebook afterwards?"""
    addr, keys, pid = cluster_run["killed_worker"]
    assert keys, "the killed worker had no task in flight"
    assert not is_alive(pid)
    assert cluster_run["killed_grader"] is not None, "no second busy worker had a grading process to kill"
    assert set(cluster_run["stored"]) == set(mixed)
    # nothing became an error because of the kills: each error is the submission's own doing
    assert all("Dask" not in r.error and "grading process" not in r.error for r in cluster_run["stored"].values())
    for student, r in cluster_run["stored"].items():
        assert _comparable(r) == _comparable(cluster_run["results"][student]), student
    assert sorted(cluster_run["order"]) == sorted(mixed)  # each committed once, as it arrived


def test_rerun_from_the_cli_grades_only_what_changed(cluster_run, course, mixed, reference, mixed_class, tmp_path):
    """A client started again (on the cluster the course config names) keeps what is graded."""
    late = mixed_class.parent / "with_newcomer"
    shutil.copytree(mixed_class, late)
    (late / "newcomer").mkdir()
    (late / "newcomer" / "rnn.py").write_text(reference + "\n# newcomer\n", encoding="utf-8")
    out_json = tmp_path / "results.json"
    res = CliRunner().invoke(cli, ["grade", "a1_rnn", str(late), "--course", str(course), "--seed", str(SEED),
                                   "--gradebook", str(cluster_run["gradebook"]), "--json", str(out_json)])
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert f"{len(mixed)} submission(s) unchanged since graded: kept" in res.output
    assert f"1 graded, {len(mixed)} unchanged; " in res.output
    data = {s["student"]: s for s in json.loads(out_json.read_text())["results"]}
    # graded like the others; it appeared after a run past the due date, so it is provably late
    assert data["newcomer"]["raw_score"] == data["correct"]["raw_score"] and not data["newcomer"]["error"]
    assert data["newcomer"]["time_source"].startswith("first_seen (not there at the run of")


def test_a_submission_whose_workers_keep_dying_is_recorded_as_an_error(cluster, client, course, reference,
                                                                        tmp_path):
    """After the allowed number of dying workers, the submission gets an error saying why; no hang."""
    folder = tmp_path / "subs"
    (folder / "doomed").mkdir(parents=True)
    (folder / "doomed" / "rnn.py").write_text(reference + "\n# doomed\n", encoding="utf-8")
    kills = []
    stop = threading.Event()

    def killer():  # every worker the task lands on dies at once
        while not stop.is_set():
            for addr, keys in client.processing().items():
                if any("doomed" in str(k) for k in keys):
                    pid = worker_pids(cluster).get(addr)
                    if pid and pid not in kills:
                        kills.append(pid)
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    try:
        with Gradebook(tmp_path / "gb.db") as gb:
            # a connected Client works as well as an address (how dask-gateway users pass theirs)
            run = grade_class(A1, folder, load_config(course), gb, _options(scheduler=client))
            stored = gb.result("a1_rnn", "doomed")
    finally:
        stop.set()
        t.join()
    assert len(kills) == 2  # allowed-failures is 1: the second death is one too many
    (r,) = run.results
    assert r.raw_score == 0 and "kept dying" in r.error
    assert stored is not None and stored.error == r.error


def test_hostile_submissions_on_a_dask_worker_earn_nothing_and_reach_no_one(cluster, course, reference, tmp_path):
    """The integrity rules hold on Dask workers too: a link is refused, an undecodable reply stops only its
    child (and the process it left behind), and the honest student graded after them keeps full marks."""
    from tests.integrity.attacks import UNDECODABLE_REPLY_AND_LEFTOVER

    subs = tmp_path / "subs"
    (subs / "a_link").mkdir(parents=True)
    (subs / "a_link" / "rnn.py").symlink_to(course.parent.parent / "solutions" / "rnn.py")
    (subs / "b_undecodable").mkdir()
    (subs / "b_undecodable" / "rnn.py").write_text(UNDECODABLE_REPLY_AND_LEFTOVER, encoding="utf-8")
    (subs / "c_honest").mkdir()
    (subs / "c_honest" / "rnn.py").write_text(reference, encoding="utf-8")
    with Gradebook(tmp_path / "gb.db") as gb:
        run = grade_class(A1, subs, load_config(course), gb, _options(scheduler=cluster.scheduler_address))
    by = {r.student: r for r in run.results}
    assert by["a_link"].score == 0 and [f.kind for f in by["a_link"].flags] == ["refused"]
    assert "symbolic link" in by["a_link"].error
    assert by["b_undecodable"].score == 0
    assert any("invalid reply" in c.message for c in by["b_undecodable"].checks)
    assert by["c_honest"].score == by["c_honest"].max_score > 0
    assert run.isolation == "bwrap"
