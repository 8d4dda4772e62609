"""`seqgrade doctor` on this machine and on every worker of a real LocalCluster."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.commands.doctor import compare

from .conftest import N_WORKERS


# One pytest-xdist process runs them all (with --dist loadgroup): they share one LocalCluster.
pytestmark = pytest.mark.xdist_group("dask_cluster")


def _row(lines: list[str], name: str) -> list[str]:
    """The cells after `name` in its row of the doctor's table."""
    (line,) = [ln for ln in lines if ln.startswith(name + " ")]
    return line[len(name):].split()


def test_doctor_runs_the_sandbox_and_reads_the_checks_on_every_worker(cluster, client, course):
    client.wait_for_workers(N_WORKERS, timeout=120)  # earlier tests killed some; the nannies restart them
    res = CliRunner().invoke(cli, ["doctor", "--course", str(course)])  # the course names the cluster
    assert res.exit_code == 0, res.output + repr(res.exception)
    lines = res.output.splitlines()
    header = lines[0].split()
    assert header[:3] == ["check", "this", "machine"]
    assert sum(h.startswith("tcp://") for h in header) == N_WORKERS
    sandbox = [cell for cell in _row(lines, "sandbox") if cell.endswith(",")]  # "bwrap, 0.8 s" per machine
    assert len(sandbox) == N_WORKERS + 1 and len(set(sandbox)) == 1, sandbox
    versions = _row(lines, "checks a1_rnn")
    assert len(versions) == N_WORKERS + 1 and len(set(versions)) == 1, versions
    assert "FAIL" not in res.output
    assert f"ready to grade on {N_WORKERS + 1} machine(s)" in res.output


def test_doctor_fails_with_the_reason_when_the_course_is_missing(tmp_path):
    missing = tmp_path / "nowhere" / "course.yaml"
    res = CliRunner().invoke(cli, ["doctor", "--local", "--json", "--course", str(missing)])
    assert res.exit_code != 0
    findings = {f["check"]: f for f in json.loads(res.output)["this machine"]}
    assert findings["course"]["status"] == "fail"
    assert f"course config {missing} does not exist" in findings["course"]["detail"]
    assert findings["sandbox"]["status"] != "fail"  # the rest was still checked
    assert "1 check(s) failed" in str(res.exception)


def test_a_worker_with_other_checks_is_a_failure():
    """compare() turns a differing checks version into a failure that says what to do."""
    def machine(version, torch="2.13.0"):
        return [{"check": "checks a1_rnn", "status": "ok", "value": version, "detail": ""},
                {"check": "torch", "status": "ok", "value": torch, "detail": ""}]

    machines = {"this machine": machine("aaaa"), "tcp://w1:1": machine("aaaa"),
                "tcp://w2:1": machine("bbbb", torch="2.12.0")}
    compare(machines, "this machine")
    assert [f["status"] for f in machines["tcp://w1:1"]] == ["ok", "ok"]
    checks, torch = machines["tcp://w2:1"]
    assert checks["status"] == "fail" and "same course folder" in checks["detail"]
    assert torch["status"] == "warn" and "2.12.0" in torch["detail"]
