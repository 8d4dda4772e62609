"""Interrupted grading: kill -9 of the grader, or of one of its workers, loses (almost) nothing.

The grader commits each result as it arrives; a killed grader's next run
grades only what was not recorded yet, and a killed worker costs at most the
one submission it was grading.
"""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from tests.cli._support import REFERENCE, integrity, load_json, rows, seqgrade, start_seqgrade, write_class, \
    write_course

N_STUDENTS = 10
WAIT_S = 400


def reference_class(folder, n):
    # each file differs (a comment), as real submissions do
    return write_class(folder, {f"s{i:02d}": REFERENCE + f"\n# student {i}\n" for i in range(n)})


def wait_for(predicate, proc, what: str, timeout: float = WAIT_S, poll: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"seqgrade ended (exit {proc.returncode}) before {what}:\n{out}\n{err}")
        time.sleep(poll)
    pytest.fail(f"timed out waiting for {what}")


def kill_group(proc) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    proc.stderr.close()


# -- the grader killed ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def killed_run(tmp_path_factory):
    """A class of 10 whose grading is killed (SIGKILL, whole process group) after the first results."""
    root = tmp_path_factory.mktemp("killed")
    course = write_course(root / "course")
    gradebook = root / "course" / "gradebook.db"
    subs = reference_class(root / "subs", N_STUDENTS)
    proc = start_seqgrade("grade", "a1_rnn", subs, "--course", course, "-j", "1")
    wait_for(lambda: len(rows(gradebook)) >= 1, proc, "the first result was recorded")
    kill_group(proc)
    before = rows(gradebook)  # the grader is dead: this is what it left
    sound_after_kill = integrity(gradebook)
    again = seqgrade("grade", "a1_rnn", subs, "--course", course, "-j", "2", "--json", root / "again.json")
    return {"before": before, "sound": sound_after_kill, "again": again, "after": rows(gradebook),
            "json": load_json(root / "again.json") if (root / "again.json").exists() else None,
            "gradebook": gradebook}


def test_grader_was_killed_mid_run(killed_run):
    assert 1 <= len(killed_run["before"]) < N_STUDENTS, "the kill must land while the class is being graded"


def test_gradebook_is_not_corrupt_after_kill(killed_run):
    assert killed_run["sound"] == "ok"


def test_results_recorded_before_the_kill_are_whole(killed_run):
    for student, (_, _, score, error) in killed_run["before"].items():
        assert error == "" and score > 0, student


def test_next_run_after_kill_succeeds(killed_run):
    assert killed_run["again"].returncode == 0, killed_run["again"].stderr


def test_next_run_after_kill_grades_everyone(killed_run):
    data = killed_run["json"]
    assert len(data["results"]) == N_STUDENTS
    assert all(s["score"] == s["max_score"] == data["max_score"] > 0 for s in data["results"])
    assert len(killed_run["after"]) == N_STUDENTS


def test_next_run_after_kill_grades_nothing_twice(killed_run):
    before, after = killed_run["before"], killed_run["after"]
    for student, row in before.items():
        assert after[student] == row, f"{student} was graded again after the kill"
    n = len(before)
    assert f"{N_STUDENTS - n} graded, {n} unchanged" in killed_run["again"].stdout


def test_gradebook_is_sound_after_the_resumed_run(killed_run):
    assert integrity(killed_run["gradebook"]) == "ok"


# -- one worker killed ---------------------------------------------------------------------

N_WORKER_CLASS = 8


def workers_of(proc) -> list[psutil.Process]:
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for c in children:
        try:
            if "grader.engine.worker" in " ".join(c.cmdline()):
                found.append(c)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def is_python(p: psutil.Process) -> bool:
    return "python" in p.name()


def grading(worker: psutil.Process) -> bool:
    """Whether the worker's sandbox holds a submission child: a python process forked by the zygote.

    worker -> [bwrap -> bwrap] -> zygote (python) -> child (python): a python
    process whose parent is a python process below the worker.
    """
    try:
        below = worker.children(recursive=True)
        pids = {p.pid for p in below}
        return any(is_python(p) and p.ppid() in pids and is_python(psutil.Process(p.ppid())) for p in below)
    except psutil.NoSuchProcess:
        return False


def a_grading_worker(proc) -> psutil.Process | None:
    return next((w for w in workers_of(proc) if grading(w)), None)


@pytest.fixture(scope="module")
def worker_killed(tmp_path_factory):
    root = tmp_path_factory.mktemp("worker")
    course = write_course(root / "course")
    gradebook = root / "course" / "gradebook.db"
    subs = reference_class(root / "subs", N_WORKER_CLASS)
    out = root / "results.json"
    proc = start_seqgrade("grade", "a1_rnn", subs, "--course", course, "-j", "2", "--json", out)
    wait_for(lambda: len(rows(gradebook)) >= 1, proc, "the first result was recorded")
    victim = wait_for(lambda: a_grading_worker(proc), proc, "a worker was grading", poll=0.02)
    victim_pid = victim.pid
    victim.send_signal(signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=WAIT_S)
    first = {"code": proc.returncode, "stdout": stdout, "stderr": stderr, "json": load_json(out),
             "rows": rows(gradebook), "victim": victim_pid}
    again = seqgrade("grade", "a1_rnn", subs, "--course", course, "-j", "2")
    return first, again, rows(gradebook)


def crashed(data) -> list[dict]:
    return [s for s in data["results"] if "worker crashed" in s["error"]]


def test_grading_finishes_after_a_worker_is_killed(worker_killed):
    first, _, _ = worker_killed
    assert first["code"] == 0, first["stderr"]
    assert len(first["json"]["results"]) == N_WORKER_CLASS


def test_killed_worker_costs_exactly_the_submission_it_was_grading(worker_killed):
    first, _, _ = worker_killed
    lost = crashed(first["json"])
    assert len(lost) == 1, [s["error"] for s in first["json"]["results"]]
    assert lost[0]["score"] == 0
    assert "the grading worker crashed while grading this submission" in lost[0]["error"]


def test_every_other_submission_is_graded_in_full(worker_killed):
    first, _, _ = worker_killed
    data = first["json"]
    others = [s for s in data["results"] if "worker crashed" not in s["error"]]
    assert len(others) == N_WORKER_CLASS - 1
    assert all(s["score"] == s["max_score"] == data["max_score"] > 0 for s in others)


def test_killed_worker_is_gone_and_replaced(worker_killed):
    first, _, _ = worker_killed
    assert not psutil.pid_exists(first["victim"]) or \
        psutil.Process(first["victim"]).status() == psutil.STATUS_ZOMBIE


def test_submission_lost_to_a_worker_crash_is_graded_on_the_next_run(worker_killed):
    """A crash of the grader's own worker says nothing about the submission: the next run grades it."""
    first, again, after = worker_killed
    assert again.returncode == 0, again.stderr
    (lost,) = [s["student"] for s in crashed(first["json"])]
    assert after[lost][3] == "" and after[lost][2] > 0, after[lost]
    for student, row in first["rows"].items():
        if student != lost:
            assert after[student] == row, f"{student} was graded again"
