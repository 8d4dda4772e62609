"""What the gradebook turns into: Gradescope results, a Canvas import, CSV/JSON, feedback, the report plot.

The gradebook is filled by really grading a small a1_rnn class (the reference,
a submission with wrong values, one that crashes, one that could not be read)
with the real checks, plus a quiz result; exports are written from it.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from grader.catalog import get_assignment
from grader.checks.plugin import Job
from grader.config import load_config
from grader.engine.session import run_session
from grader.gradebook import Gradebook
from grader.reporting.export import export, export_canvas, export_csv, export_json, gradescope_results
from grader.reporting.feedback import feedback_html, feedback_markdown, write_feedback
from grader.reporting.numbers import points
from grader.results_schema import validate
from grader.results import CheckResult, SubmissionResult

REPO = Path(__file__).resolve().parents[1]
A1 = get_assignment("a1_rnn")
REFERENCE = (REPO / "solutions" / "rnn.py").read_text(encoding="utf-8")
# Wrong values whatever the reference's internals: every RNN output is shifted.
OFF_BY_A_BIT = REFERENCE + '''

_seqgrade_test_forward = RNN.forward


def _shifted_forward(self, *args, **kwargs):
    output, h_n = _seqgrade_test_forward(self, *args, **kwargs)
    return output + 0.01, h_n


RNN.forward = _shifted_forward
'''
CRASHES = REFERENCE + '''

def _crash(self, *args, **kwargs):
    raise ZeroDivisionError("division by zero in my cell")


RNNCell.forward = _crash
'''

# Gradescope's autograder results format (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
# only these fields, with these types and values (a top-level max_score is tolerated and shown).
GRADESCOPE_SCHEMA = {
    "type": "object",
    "required": ["tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]},
        "stdout_visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]},
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "status", "output", "visibility"],
                "additionalProperties": False,
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]},
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """A gradebook holding a really graded a1_rnn class and one quiz result."""
    cfg = load_config(REPO / "course" / "course.yaml")
    jobs = [
        Job("alice", "rnn", REFERENCE, "alice/rnn.py", content_hash="a", submitted_at="2026-09-01T00:00:00+00:00"),
        Job("bob", "rnn", OFF_BY_A_BIT, "bob/rnn.py", content_hash="b", submitted_at="2026-09-01T00:00:00+00:00"),
        Job("carol", "rnn", CRASHES, "carol/rnn.py", content_hash="c", submitted_at="2026-09-01T00:00:00+00:00"),
        Job("dave", "rnn", None, "dave", error="no rnn.py or notebook in dave/ (the folder has no Python file)"),
    ]
    results: list[SubmissionResult] = []
    run_session(A1, jobs, results.append, cfg=cfg, hidden=True, seed=20261130)
    path = tmp_path_factory.mktemp("gb") / "gradebook.db"
    with Gradebook(path) as gb:
        for r in results:
            if r.student == "bob":
                r.late_penalty = 0.2
            gb.record(r)
        gb.record(SubmissionResult(
            student="alice", item="q1_rnn_basics", kind="quiz", max_score=3.0,
            checks=[CheckResult("encoder_role", 1.0, 1.0, "passed", "public"),
                    CheckResult("context_vector", 0.0, 2.0, "failed", "public", "expected another option")]))
    return path


@pytest.fixture
def gb(graded):
    with Gradebook(graded) as g:
        yield g


def by_student(gb, item="a1_rnn") -> dict[str, SubmissionResult]:
    return {r.student: r for r in gb.results(item=item)}


def test_the_class_was_really_graded(gb):
    rs = by_student(gb)
    assert rs["alice"].raw_score == rs["alice"].max_score > 0
    assert 0 < rs["bob"].raw_score < rs["bob"].max_score
    assert any(c.status == "error" for c in rs["carol"].checks)
    assert rs["dave"].error and rs["dave"].raw_score == 0
    assert {c.visibility for c in rs["alice"].checks} == {"public", "hidden"}


# -- Gradescope ------------------------------------------------------------------------------

def test_gradescope_results_follow_gradescopes_schema(gb):
    for r in gb.results():
        jsonschema.validate(gradescope_results(r), GRADESCOPE_SCHEMA)


def test_gradescope_score_is_the_score_after_late_penalty(gb):
    bob = by_student(gb)["bob"]
    out = gradescope_results(bob)
    assert out["score"] == pytest.approx(bob.raw_score * 0.8)
    assert out["max_score"] == bob.max_score
    assert sum(t["score"] for t in out["tests"]) == pytest.approx(bob.raw_score)
    assert "late penalty: 20%" in out["output"]


def test_gradescope_has_one_test_per_check_with_its_points(gb):
    for r in gb.results():
        out = gradescope_results(r)
        assert [(t["name"], t["score"], t["max_score"]) for t in out["tests"]] == \
            [(c.name, c.score, c.max_score) for c in r.checks]


def test_gradescope_maps_errors_and_timeouts_to_failed_with_the_message(gb):
    carol = gradescope_results(by_student(gb)["carol"])
    crashed = [t for t in carol["tests"] if "ZeroDivisionError" in t["output"]]
    assert crashed and all(t["status"] == "failed" and t["score"] == 0 for t in crashed)


def test_gradescope_hides_hidden_checks_until_published(gb):
    alice = by_student(gb)["alice"]
    out = gradescope_results(alice)
    for c, t in zip(alice.checks, out["tests"]):
        assert t["visibility"] == ("visible" if c.visibility == "public" else "after_published")


def test_gradescope_reports_a_submission_error(gb):
    assert "no rnn.py" in gradescope_results(by_student(gb)["dave"])["output"]


def test_gradescope_export_writes_one_results_json_per_student_and_item(gb, tmp_path):
    folder = export(gb, "gradescope", tmp_path)
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("results.json"))
    assert written == sorted(f"{r.item}/{r.student}/results.json" for r in gb.results())
    data = json.loads((folder / "a1_rnn" / "alice" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    assert data["score"] == by_student(gb)["alice"].score


# -- Canvas ----------------------------------------------------------------------------------

def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_header_is_canvas_columns_then_one_per_item(gb, tmp_path):
    rows = read_csv(export_canvas(gb, tmp_path / "canvas.csv"))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a1_rnn", "q1_rnn_basics"]


def test_canvas_second_row_gives_points_possible(gb, tmp_path):
    rows = read_csv(export_canvas(gb, tmp_path / "canvas.csv"))
    assert rows[1][0] == "Points Possible"
    assert float(rows[1][5]) == by_student(gb)["alice"].max_score
    assert float(rows[1][6]) == 3.0


def test_canvas_has_one_row_per_student_with_scores(gb, tmp_path):
    rows = read_csv(export_canvas(gb, tmp_path / "canvas.csv"))[2:]
    assert [r[0] for r in rows] == ["alice", "bob", "carol", "dave"]
    scores = {r[0]: r for r in rows}
    rs = by_student(gb)
    for s, r in rs.items():
        assert float(scores[s][5]) == r.score, "full precision"
    assert float(scores["alice"][6]) == 1.0
    assert scores["bob"][6] == ""  # no quiz result: left empty, not zero
    assert all(len(r) == 7 for r in rows)


# -- CSV and JSON ----------------------------------------------------------------------------

def test_csv_round_trips_every_result(gb, tmp_path):
    rows = read_csv(export_csv(gb, tmp_path / "grades.csv"))
    header, body = rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]
    assert header[:5] == ["student", "kind", "item", "score", "max_score"]
    results = gb.results()
    assert len(body) == len(results)
    for row, r in zip(body, results):
        assert (row["student"], row["kind"], row["item"]) == (r.student, r.kind, r.item)
        assert float(row["score"]) == r.score, "full precision"
        assert float(row["max_score"]) == r.max_score
        assert float(row["raw_score"]) == pytest.approx(r.raw_score)
        assert float(row["late_penalty"]) == r.late_penalty
        assert row["error"] == r.error and row["graded_at"] == r.graded_at


def test_json_round_trips_every_result(gb, tmp_path):
    data = json.loads(export_json(gb, tmp_path / "grades.json").read_text(encoding="utf-8"))
    validate(data)  # the one results schema
    assert data["schema"] == "seqgrade-results/1" and data["kind"] == "export"
    assert [SubmissionResult.from_dict(d) for d in data["results"]] == gb.results()


def test_json_carries_scores_as_computed(gb, tmp_path):
    data = json.loads(export_json(gb, tmp_path / "grades.json").read_text(encoding="utf-8"))
    for d, r in zip(data["results"], gb.results()):
        assert d["score"] == r.score and d["raw_score"] == r.raw_score


def test_export_cli_writes_every_format(graded, tmp_path):
    r = subprocess.run([sys.executable, "-m", "grader.cli", "export", "--format", "all", "--out", str(tmp_path),
                        "--gradebook", str(graded), "--course", str(REPO / "course" / "course.yaml")],
                       capture_output=True, text=True, cwd=REPO, timeout=300,
                       env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO)))
    assert r.returncode == 0, r.stderr
    for rel in ("grades.csv", "grades.json", "canvas_import.csv", "gradescope/a1_rnn/alice/results.json"):
        assert (tmp_path / rel).is_file(), rel


# -- feedback --------------------------------------------------------------------------------

def _hidden_check_code_lines() -> set[str]:
    """Lines of code (not docstrings or decorators) of every hidden a1_rnn check file."""
    lines: set[str] = set()
    for f in sorted((REPO / "solutions" / "checks" / "a1_rnn").glob("*.py")):
        source = f.read_text(encoding="utf-8")
        text_lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                for stmt in body:
                    for ln in range(stmt.lineno, stmt.end_lineno + 1):
                        code = text_lines[ln - 1].strip()
                        if len(code) >= 20 and not code.startswith(("#", '"', "'")):
                            lines.add(code)
    assert len(lines) > 20
    return lines


def test_feedback_names_every_check_hidden_ones_included(gb):
    for r in by_student(gb).values():
        md, ht = feedback_markdown(r), feedback_html(r)
        for c in r.checks:
            assert f"`{c.name}`" in md and f"<code>{c.name}</code>" in ht
        assert "hidden" in md or not any(c.visibility == "hidden" for c in r.checks)


def test_feedback_contains_no_check_source_code(gb):
    code = _hidden_check_code_lines()
    for r in by_student(gb).values():
        for text in (feedback_markdown(r), feedback_html(r)):
            leaked = sorted(line for line in code if line in text)
            assert not leaked, f"feedback for {r.student} shows check code: {leaked[:3]}"


def test_feedback_explains_failures_with_the_message(gb):
    carol = by_student(gb)["carol"]
    md = feedback_markdown(carol)
    assert "## Most likely causes" in md and "ZeroDivisionError" in md and "seqgrade check" in md
    assert md.index("## Most likely causes") < md.index("## Every check")
    assert "## Most likely causes" not in feedback_markdown(by_student(gb)["alice"])


def test_feedback_shows_score_and_late_penalty(gb):
    bob = by_student(gb)["bob"]
    md = feedback_markdown(bob)
    assert f"**Score: {points(bob.score)} / {points(bob.max_score)}**" in md and "late penalty 20%" in md
    assert "late penalty 20%" in feedback_html(bob)


def test_feedback_html_escapes_student_text():
    r = SubmissionResult(student="<img src=x onerror=alert(1)>", item="a1_rnn", max_score=1.0,
                         error="<script>alert('e')</script>",
                         checks=[CheckResult("test_x", 0.0, 1.0, "failed", "hidden", "got <b>3</b> & 4")],
                         output="<script>printed</script>")
    ht = feedback_html(r)
    assert "<script>" not in ht and "<img" not in ht and "<b>3</b>" not in ht
    assert "&lt;script&gt;" in ht and "got &lt;b&gt;3&lt;/b&gt; &amp; 4" in ht


def test_feedback_markdown_keeps_a_pipe_in_a_message_inside_its_cell():
    r = SubmissionResult(student="s", item="a1_rnn", max_score=1.0,
                         checks=[CheckResult("test_x", 0.0, 1.0, "failed", "public", "a | b\nc")])
    row = [line for line in feedback_markdown(r).splitlines() if line.startswith("| `test_x`")][0]
    assert row.count(" | ") == 6 and "a \\| b c" in row


def test_write_feedback_writes_markdown_and_html_per_student_and_item(gb, tmp_path):
    written = write_feedback(gb.results(), tmp_path)
    expected = {f"{r.student}/{r.item}.{ext}" for r in gb.results() for ext in ("md", "html")}
    assert {str(p.relative_to(tmp_path)) for p in written} == expected
    assert all(p.stat().st_size > 0 for p in written)


# -- report ----------------------------------------------------------------------------------

def test_report_plot_writes_a_png(graded, tmp_path):
    png = tmp_path / "plots" / "report.png"
    r = subprocess.run([sys.executable, "-m", "grader.cli", "report", "--plot", str(png), "--gradebook", str(graded),
                        "--course", str(REPO / "course" / "course.yaml")],
                       capture_output=True, text=True, cwd=REPO, timeout=300,
                       env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), MPLBACKEND="Agg"))
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert "alice" in r.stdout and "(max)" in r.stdout
    assert "Most common bugs" in r.stdout


def test_report_on_an_empty_gradebook_says_so(tmp_path):
    r = subprocess.run([sys.executable, "-m", "grader.cli", "report", "--gradebook", str(tmp_path / "gb.db"),
                        "--course", str(REPO / "course" / "course.yaml")],
                       capture_output=True, text=True, cwd=REPO, timeout=300,
                       env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO)))
    assert r.returncode == 0 and "is empty: grade something first" in r.stdout
