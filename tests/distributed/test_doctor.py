"""`seqgrade doctor` on this machine and on every worker of a real LocalCluster."""

from __future__ import annotations

import json

from click.testing import CliRunner

from grader.cli import cli
from grader.commands.doctor import compare

from .conftest import N_WORKERS


def test_doctor_runs_the_sandbox_and_reads_the_checks_on_every_worker(cluster, client, course):
    client.wait_for_workers(N_WORKERS, timeout=120)  # earlier tests killed some; the nannies restart them
    res = CliRunner().invoke(cli, ["doctor", "--course", str(course), "--json"])  # the course names the cluster
    assert res.exit_code == 0, res.output + repr(res.exception)
    machines = json.loads(res.output)
    assert len(machines) == N_WORKERS + 1 and "this machine" in machines
    here = {f["check"]: f for f in machines["this machine"]}
    for name, findings in machines.items():
        got = {f["check"]: f for f in findings}
        assert got["sandbox"]["status"] == here["sandbox"]["status"] != "fail", name
        assert got["sandbox"]["value"].split(",")[0] == here["sandbox"]["value"].split(",")[0], name
        assert got["checks a1_rnn"] == here["checks a1_rnn"] and got["checks a1_rnn"]["status"] == "ok", name
        assert got["course"]["value"] == str(course.parent.parent), name


def test_doctor_table_names_each_worker(cluster, course):
    res = CliRunner().invoke(cli, ["doctor", "--course", str(course), "--scheduler", cluster.scheduler_address])
    assert res.exit_code == 0, res.output + repr(res.exception)
    header = res.output.splitlines()[0].split()
    assert header[0] == "check" and sum(h.startswith("tcp://") for h in header) == N_WORKERS
    assert f"ready to grade on {N_WORKERS + 1} machine(s)" in res.output


def test_doctor_fails_with_the_reason_when_the_course_is_missing(tmp_path):
    missing = tmp_path / "nowhere" / "course.yaml"
    res = CliRunner().invoke(cli, ["doctor", "--local", "--course", str(missing)])
    assert res.exit_code != 0
    assert "course" in res.output and f"course config {missing} does not exist" in res.output
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
