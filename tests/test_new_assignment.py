"""An instructor adds an assignment without touching the package: a bidirectional GRU encoder, end to end.

In a temporary course outside the repository: `seqgrade new assignment` scaffolds it,
the instructor writes their reference and checks, then `release` (starter code and the
student bundle), `check`, `grade` (with a per-student extension), `feedback`, `export`,
`report` and `nbgrader init` all work on it.
"""

from __future__ import annotations

import csv
import json

import pytest

from grader.results_schema import validate
from tests.cli._support import seqgrade

REFERENCE = '''"""A bidirectional GRU encoder (the reference)."""

import torch
from torch import nn


class BiGRUEncoder(nn.Module):
    """Embedding (padding_idx=0) then a bidirectional GRU. ``forward(src [B,S]) -> outputs [B,S,2H]``."""

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.rnn = nn.GRU(embed_size, hidden_size, batch_first=True, bidirectional=True)

    def forward(self, src: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        outputs, _ = self.rnn(self.embedding(src))  # (B, S, 2H)
        return outputs
        ### END SOLUTION
'''

FORWARD_ONLY = REFERENCE.replace("outputs, _ = self.rnn(self.embedding(src))  # (B, S, 2H)\n        return outputs",
                                 "outputs, _ = self.rnn(self.embedding(src))  # (B, S, 2H)\n"
                                 "        half = outputs.size(-1) // 2\n"
                                 "        return torch.cat([outputs[..., :half], torch.zeros_like(outputs[..., half:])], -1)")

HIDDEN = '''import torch

from grader.checks import assert_close, check


def _case(d, ref):
    V, E, H = d.distinct(3, 3, 8)
    B, S = d.distinct(2, 2, 6)
    m = ref.BiGRUEncoder(V, E, H).double()
    state = d.perturb_state(m)
    state["embedding.weight"][0] = 0
    m.load_state_dict(state)
    src = d.randint(1, V, (B, S))
    return dict(vocab_size=V, embed_size=E, hidden_size=H), state, src, m(src)


@check(points=3, description="both directions of the encoder give the reference's outputs", kind="values",
       targets=("BiGRUEncoder",))
def test_bigru_values(sub, ref, once):
    kwargs, state, src, expected = once(lambda d: _case(d, ref))
    m = sub.build("BiGRUEncoder", state, **kwargs, dtype=torch.float64)
    assert_close(sub.call(m, src).value, expected, "BiGRUEncoder(src)")
'''

PUBLIC = '''import torch

from grader.checks import check, expect_tensor


@check(points=1, description="outputs are [B, S, 2H]", kind="shapes", targets=("BiGRUEncoder",))
def test_public_bigru_shape(sub, draw):
    V, E, H = draw.distinct(3, 3, 8)
    m = sub.new("BiGRUEncoder", vocab_size=V, embed_size=E, hidden_size=H, dtype=torch.float64)
    expect_tensor(sub.call(m, draw.randint(1, V, (2, 5))).value, "outputs", (2, 5, 2 * H), torch.float64)
'''


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("newcourse")
    (root / "course").mkdir()
    cfg = root / "course" / "course.yaml"
    cfg.write_text("name: extended course\nroot: ..\ngradebook: ../gradebook.db\nsecret: a-long-test-secret-2026\n"
                   "assignments: {}\n"
                   "late_policy: {kind: per_day, penalty: 0.1, cap: 0.5}\n"
                   "extensions:\n"
                   "  - {student: bob, item: a6_bigru, due: 2031-01-01T00:00:00+00:00, reason: medical note}\n",
                   encoding="utf-8")
    made = seqgrade("new", "assignment", "a6_bigru", "--module", "bigru", "--title", "A bidirectional GRU encoder",
                    "--title-zh", "双向 GRU 编码器", "--due", "2030-01-01T00:00:00+00:00", "--course", cfg, cwd=root)
    assert made.returncode == 0, made.stdout + made.stderr
    # the instructor replaces the scaffold's example with their own assignment
    (root / "solutions" / "bigru.py").write_text(REFERENCE, encoding="utf-8")
    (root / "solutions" / "checks" / "a6_bigru" / "test_examples.py").unlink()
    (root / "solutions" / "checks" / "a6_bigru" / "test_bigru.py").write_text(HIDDEN, encoding="utf-8")
    (root / "assignments" / "a6_bigru" / "checks" / "test_public_bigru.py").write_text(PUBLIC, encoding="utf-8")
    rel = seqgrade("release", root / "dist", "--course", cfg, cwd=root)
    assert rel.returncode == 0, rel.stdout + rel.stderr
    return root, cfg


def test_the_scaffold_declares_the_assignment_in_course_yaml(course):
    root, cfg = course
    text = cfg.read_text(encoding="utf-8")
    assert "a6_bigru:" in text and "module: bigru" in text and "extensions:" in text
    listed = seqgrade("list", "--course", cfg, cwd=root)
    assert listed.returncode == 0 and "a6_bigru" in listed.stdout and "test_bigru_values" in listed.stdout


def test_release_generates_the_starter_and_a_bundle_without_the_solution(course):
    root, _ = course
    starter = (root / "assignments" / "a6_bigru" / "bigru.py").read_text(encoding="utf-8")
    assert "NotImplementedError" in starter and "self.rnn(self.embedding(src))" not in starter
    bundle = root / "dist" / "seqgrade-student"
    assert (bundle / "assignments" / "a6_bigru" / "checks" / "test_public_bigru.py").is_file()
    shipped = "".join(p.read_text(encoding="utf-8", errors="replace") for p in bundle.rglob("*") if p.is_file())
    assert "test_bigru_values" not in shipped and "BEGIN SOLUTION" not in shipped


def test_check_passes_the_reference_and_fails_the_starter(course):
    root, cfg = course
    ok = seqgrade("check", "a6_bigru", root / "solutions" / "bigru.py", "--course", cfg, cwd=root)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    starter = seqgrade("check", "a6_bigru", "--course", cfg, cwd=root)
    assert starter.returncode == 1 and "NotImplementedError" in starter.stdout


@pytest.fixture(scope="module")
def graded(course):
    root, cfg = course
    subs = root / "subs"
    for name, src in {"alice": REFERENCE, "bob": FORWARD_ONLY}.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "bigru.py").write_text(src, encoding="utf-8")
    times = root / "times.csv"  # both handed in a year after the class's due date; bob has an extension
    times.write_text("student,item,submitted_at\nalice,a6_bigru,2031-01-01T00:00:00+00:00\n"
                     "bob,a6_bigru,2030-12-31T00:00:00+00:00\n", encoding="utf-8")
    out = root / "a6.json"
    run = seqgrade("grade", "a6_bigru", subs, "--course", cfg, "--json", out, "--times", times, cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate(doc)
    return root, cfg, {r["student"]: r for r in doc["results"]}


def test_grade_scores_the_reference_fully_and_the_bug_partly(graded):
    _, _, by = graded
    assert by["alice"]["raw_score"] == by["alice"]["max_score"] == 4
    assert 0 < by["bob"]["raw_score"] < by["bob"]["max_score"]


def test_the_extension_moves_the_due_date_for_that_student_only(graded):
    _, _, by = graded
    assert by["alice"]["late_penalty"] == pytest.approx(0.5) and by["alice"]["extension"] == ""
    assert by["bob"]["late_penalty"] == 0 and "medical note" in by["bob"]["extension"]
    assert by["bob"]["due_at"].startswith("2031-01-01")


def test_feedback_export_and_report_work_on_it(graded):
    root, cfg, _ = graded
    fb = seqgrade("feedback", "--out", root / "fb", "--course", cfg, cwd=root)
    assert fb.returncode == 0, fb.stdout + fb.stderr
    assert "test_bigru_values" in (root / "fb" / "bob" / "a6_bigru.md").read_text(encoding="utf-8")
    ex = seqgrade("export", "--format", "csv", "--out", root / "ex", "--course", cfg, cwd=root)
    assert ex.returncode == 0, ex.stdout + ex.stderr
    rows = {r["student"]: r for r in csv.DictReader((root / "ex" / "grades.csv").open(encoding="utf-8"))}
    assert "medical note" in rows["bob"]["extension"]
    rep = seqgrade("report", "--course", cfg, cwd=root)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert "a6_bigru" in rep.stdout and "medical note" in rep.stdout


def test_nbgrader_init_builds_its_notebook(course, tmp_path):
    root, cfg = course
    r = seqgrade("nbgrader", "init", tmp_path / "nb", "--course", cfg, "--assignment", "a6_bigru", cwd=root)
    assert r.returncode == 0, r.stdout + r.stderr
    nb = json.loads((tmp_path / "nb" / "source" / "a6_bigru" / "bigru.ipynb").read_text(encoding="utf-8"))
    ids = {c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]}
    assert {"test_bigru_values", "test_public_bigru_shape"} <= ids
