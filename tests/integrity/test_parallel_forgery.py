"""A parallelism verdict the child cannot forge silently, on `grade` and `check`.

Two forgeries of a position loop on a correct a3 reference: running the loop with Python
dispatch modes switched off (the counting mode sees nothing), and also patching the grading
harness inside the child so it reports constant counts. The first is caught by the
independent C++ profiler count, the second by the CPU time measured from outside the child;
both are flagged as tampering (never a pass), and void every verdict that rests on counts.
"""

from __future__ import annotations

import pytest

from tests.cli._support import REPO, load_json, seqgrade
from tests.integrity.attacks import MODES_OFF_LOOP, PATCHED_HARNESS

REFERENCE_A3 = (REPO / "solutions" / "attention.py").read_text(encoding="utf-8")
STUDENTS = {"a_modes_off": REFERENCE_A3 + MODES_OFF_LOOP, "b_honest": REFERENCE_A3,
            "c_patched_harness": REFERENCE_A3 + PATCHED_HARNESS, "d_honest": REFERENCE_A3}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("forgery")
    subs = root / "subs"
    for name, src in STUDENTS.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "attention.py").write_text(src, encoding="utf-8")
    out = root / "out.json"
    r = seqgrade("grade", "a3_attention", subs, "--course", REPO / "course" / "course.yaml", "--gradebook",
                 root / "gb.db", "--jobs", "1", "--json", out, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return {s["student"]: s for s in load_json(out)["results"]}, r


def parallel_checks(result):
    return [c for c in result["checks"] if "parallel" in c["name"]]


@pytest.mark.parametrize("student", ["a_modes_off", "c_patched_harness"])
def test_a_forged_parallelism_earns_no_parallelism_point_and_is_flagged(graded, student):
    results, run = graded
    r = results[student]
    checks = parallel_checks(r)
    assert checks and all(c["score"] == 0 for c in checks), [(c["name"], c["status"]) for c in checks]
    assert any(f["kind"] == "tampering" for f in r["flags"]), r["flags"]
    assert f"tampering: {student}" in run.stdout


def test_its_other_checks_are_graded_as_usual(graded):
    results, _ = graded
    r = results["a_modes_off"]
    others = [c for c in r["checks"] if "parallel" not in c["name"]]
    assert all(c["status"] == "passed" for c in others), [c["name"] for c in others if c["status"] != "passed"]


@pytest.mark.parametrize("student", ["b_honest", "d_honest"])
def test_honest_students_around_them_get_full_marks(graded, student):
    results, _ = graded
    r = results[student]
    assert r["score"] == r["max_score"] and not r["flags"], [c for c in r["checks"] if c["status"] != "passed"]


def test_check_flags_the_forgery_to_the_student_too(tmp_path):
    f = tmp_path / "attention.py"
    f.write_text(REFERENCE_A3 + MODES_OFF_LOOP, encoding="utf-8")
    r = seqgrade("check", "a3_attention", f, "--course", REPO / "course" / "course.yaml")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "tampering" in r.stdout and "test_public_parallelism" in r.stdout


@pytest.mark.parametrize("assignment,attack,check", [
    ("a4_seq2seq", "A4_KEY_LOOP_PATCHED", "test_attention_decoder_parallel_measured"),
    ("a5_transformer", "A5_BATCH_LOOP_PATCHED", "test_encoder_layer_parallel_measured"),
])
def test_a_loop_behind_a_patched_harness_is_caught_from_outside(assignment, attack, check):
    """The child reports constant counts; the CPU time measured from outside tells, on a4 and a5 too."""
    from grader.config import load_config
    from tests.checks.grading import grade_sources
    from tests.integrity import attacks

    ref = load_config(REPO / "course" / "course.yaml").assignment(assignment).reference.read_text(encoding="utf-8")
    results = grade_sources(assignment, {"forger": ref + getattr(attacks, attack), "honest": ref})
    forged = {c.name: c for c in results["forger"].checks}
    assert forged[check].status == "error" and "measured from outside" in forged[check].message
    assert any(f.kind == "tampering" for f in results["forger"].flags)
    honest = results["honest"]
    assert honest.score == honest.max_score, [c.name for c in honest.checks if not c.passed]
