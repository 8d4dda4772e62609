"""The pieces of ``seqgrade nbgrader`` without a kernel: bundles, source notebooks, the in-kernel runner, config."""

from __future__ import annotations

import ast
import copy
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

from grader.catalog import get_assignment
from tests.course import ASSIGNMENTS
from grader.config import load_config
from grader.errors import ConfigError
from grader.nbgrader import bundle, cells
from grader.nbgrader.checklist import collect_checks, item_function, select
from grader.nbgrader.config import load_nbgrader_config, read_manifest, render_config
from grader.nbgrader.inkernel import CheckNotPassed, KernelChecks, KernelQuiz, Outcome, _quiet_stderr
from grader.nbgrader.notebooks import assignment_notebook, split_module

REPO = Path(__file__).resolve().parents[2]
CFG = load_config(REPO / "course" / "course.yaml")
RELU = 'return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)'


# --------------------------------------------------------------------------- bundles
def test_bundle_round_trips_files_and_meta():
    files = {"hidden/test_a.py": b"def test_a(sub): pass\n", "hidden/data/x.bin": bytes(range(256))}
    text = bundle.pack(files, {"seed": 3})
    assert max(len(line) for line in text.splitlines()) <= 76
    assert bundle.unpack(text) == (files, {"seed": 3})


def test_a_damaged_bundle_says_what_to_do():
    text = bundle.pack({"a.py": b"x = 1\n"})
    with pytest.raises(bundle.BundleError, match="ask your instructor"):
        bundle.unpack(text[:-10])


@pytest.mark.parametrize("name", ["../evil.py", "/etc/passwd", "a/../../b"], ids=["parent", "absolute", "nested"])
def test_bundle_refuses_paths_outside_itself(name):
    with pytest.raises(ValueError, match="inside the bundle"):
        bundle.pack({name: b""})


# --------------------------------------------------------------------------- the reference in cells
@pytest.mark.parametrize("assignment_id", list(ASSIGNMENTS))
def test_split_module_keeps_every_statement(assignment_id):
    """Do the cells, run one after another, hold exactly the reference's code?"""
    source = get_assignment(assignment_id).reference.read_text(encoding="utf-8")
    chunks = split_module(source, assignment_id)
    joined = "\n\n".join(c.code for c in chunks)
    assert ast.dump(ast.parse(joined)) == ast.dump(ast.parse(source))
    for c in chunks:  # regions never straddle two cells
        assert c.code.count("### BEGIN SOLUTION") == c.code.count("### END SOLUTION")
        assert c.solution == ("### BEGIN SOLUTION" in c.code)


def test_split_module_gives_each_definition_to_write_its_own_cell():
    source = ("import torch\n\n\n# -- section\n\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n"
              "    ### END SOLUTION\n\n\nX = 2\n")
    chunks = split_module(source, "m.py")
    assert [(c.solution, c.names) for c in chunks] == [(False, ()), (True, ("f",)), (False, ())]
    assert chunks[1].code.startswith("# -- section")


# --------------------------------------------------------------------------- the source notebook
@pytest.fixture(scope="module")
def a1():
    a = get_assignment("a1_rnn")
    checks = select(collect_checks(a, CFG), ("*rnncell*",))
    return a, checks, assignment_notebook(a, CFG, checks, seed=7)


def _test_cells(nb):
    return [c for c in nb.cells if cells.is_test_cell(c)]


def test_source_notebook_passes_nbgraders_validation(a1):
    from nbgrader.nbgraderformat import MetadataValidator

    MetadataValidator().validate_nb(copy.deepcopy(a1[2]))
    nbformat.validate(a1[2])


def test_one_test_cell_per_check_named_and_scored_like_it(a1):
    """After a 0-point setup cell per kind of check, is each check one locked test cell with its points?"""
    _, checks, nb = a1
    got = [(c.metadata.nbgrader.grade_id, c.metadata.nbgrader.points, c.metadata.nbgrader.locked)
           for c in _test_cells(nb)]
    public = [(c.name, c.points, True) for c in checks if c.visibility == "public"]
    hidden = [(c.name, c.points, True) for c in checks if c.visibility == "hidden"]
    assert public and hidden
    assert got == [(cells.SETUP_PUBLIC, 0, True), *public, (cells.SETUP_HIDDEN, 0, True), *hidden]


def test_hidden_checks_and_the_reference_sit_only_in_hidden_regions(a1):
    _, checks, nb = a1
    hidden = {c.name for c in checks if c.visibility == "hidden"} | {cells.SETUP_HIDDEN}
    for cell in _test_cells(nb):
        src = cell.source
        if cell.metadata.nbgrader.grade_id in hidden:
            head, _, rest = src.partition(cells.BEGIN_HIDDEN)
            assert rest.rstrip().endswith(cells.END_HIDDEN) and "_hidden_checks" not in head
            assert "\n" not in head.strip()  # one comment line, then the hidden region
        else:
            assert cells.BEGIN_HIDDEN not in src and "_hidden_checks" not in src
    one_liners = [c.source for c in _test_cells(nb) if c.metadata.nbgrader.points > 0]
    assert all(len(src.splitlines()) <= 4 for src in one_liners)  # Validate shows a failing cell's source


def test_released_notebook_has_stubs_and_no_solution_or_hidden_code(a1):
    """What students get (nbgrader's own ClearSolutions and ClearHiddenTests) hides the reference."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    nb = copy.deepcopy(a1[2])
    resources = {"language": "python"}
    nb, resources = ClearSolutions().preprocess(nb, resources)
    nb, _ = ClearHiddenTests().preprocess(nb, resources)
    text = nbformat.writes(nb)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN" not in text and "_hidden_checks" not in text
    assert RELU not in text and text.count("raise NotImplementedError()") >= 5
    for c in nb.cells:
        if c.cell_type == "code" and not cells.is_test_cell(c):
            compile(c.source, c.metadata.nbgrader.grade_id, "exec")


def test_explanations_come_in_english_and_chinese(a1):
    texts = [c.source for c in a1[2].cells if c.cell_type == "markdown"]
    assert any("How this notebook works" in t for t in texts)
    assert any("如何使用本笔记本" in t for t in texts)
    assert any(t.startswith("## 学习目标") for t in texts) and any(t.startswith("## What you learn") for t in texts)


# --------------------------------------------------------------------------- in the kernel's shoes
def _namespace(source: str) -> dict:
    ns = {"__name__": "__main__"}
    exec(compile(source, "<notebook>", "exec"), ns)
    return ns


def _packed_checks(nb) -> list[KernelChecks]:
    out = []
    for cell in _test_cells(nb):
        m = re.search(r'KernelChecks\.unpack\("""(.*?)"""\)', cell.source, re.S)
        if m:
            out.append(KernelChecks.unpack(m.group(1)))
    return out


def test_in_kernel_checks_give_the_reference_full_marks(a1):
    _, checks, nb = a1
    ns = _namespace(get_assignment("a1_rnn").reference.read_text(encoding="utf-8"))
    packs = _packed_checks(nb)
    assert len(packs) == 2  # public, hidden
    for c in checks:
        pack = next(p for p in packs if c.name in p.meta["checks"])
        assert pack.run(c.name, ns).verify() == c.points


def test_in_kernel_checks_find_the_bug_and_say_it_in_one_line(a1):
    _, checks, nb = a1
    source = get_assignment("a1_rnn").reference.read_text(encoding="utf-8")
    ns = _namespace(source.replace(RELU, "return torch.tanh(pre)"))
    hidden = next(p for p in _packed_checks(nb) if p.meta.get("reference"))
    outcome = hidden.run("test_rnncell_relu", ns)
    assert outcome.score == 0 and "relu" in outcome.message
    with pytest.raises(CheckNotPassed) as info:
        outcome.verify()
    assert info.value._render_traceback_() == [f"CheckNotPassed: test_rnncell_relu: {outcome.message}"]


def test_in_kernel_checks_keep_stderr_quiet(a1, capfd):
    """nbgrader scores a test cell 0 for any stderr: warnings and fd-2 writes must not get out."""
    import warnings

    source = get_assignment("a1_rnn").reference.read_text(encoding="utf-8")
    noisy = source.replace(
        '        x, h, unbatched = _prepare_cell("RNNCell", input, hx, self.hidden_size)',
        '        import os, warnings; os.write(2, b"C-level noise\\n"); warnings.warn("python noise")\n'
        '        torch.tensor(torch.zeros(1))\n'
        '        x, h, unbatched = _prepare_cell("RNNCell", input, hx, self.hidden_size)')
    assert noisy != source
    ns = _namespace(noisy)
    hidden = next(p for p in _packed_checks(a1[2]) if p.meta.get("reference"))
    capfd.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert hidden.run("test_rnncell_values", ns).passed
    assert capfd.readouterr().err == ""


def test_quiet_stderr_gives_stderr_back(capfd):
    before = sys.stderr
    with _quiet_stderr():
        os.write(2, b"swallowed\n")
        print("swallowed too", file=sys.stderr)
    assert sys.stderr is before
    os.write(2, b"seen\n")
    assert capfd.readouterr().err == "seen\n"


def test_a_partial_outcome_prints_why_and_returns_its_points(capsys):
    o = Outcome("test_x", points=3, score=2, status="failed", messages=["[dt=float32] wrong"])
    assert o.verify() == 2
    assert "2 of 3 points" in capsys.readouterr().out


# --------------------------------------------------------------------------- quizzes
def test_quiz_key_grades_answers_with_partial_credit():
    from grader.quiz.loader import load_quiz
    from grader.quiz.model import MultipleChoice
    from grader.nbgrader.quiz_notebook import packed_key

    path = CFG.quizzes_dir / "q1_rnn_basics.yaml"
    quiz = load_quiz(path, CFG.languages)
    key = KernelQuiz.unpack(packed_key(quiz, path, "secret"))
    q = next(q for q in quiz.questions if isinstance(q, MultipleChoice) and len(q.correct_ids) > 1)
    one_right = sorted(q.correct_ids)[:1]
    partial = key.grade(q.id, {q.id: one_right})
    assert 0 < partial.score < q.points and partial.verify() == partial.score
    assert key.grade(q.id, {q.id: sorted(q.correct_ids)}).passed
    with pytest.raises(CheckNotPassed):
        key.grade(q.id, {}).verify()


def test_quiz_notebook_answers_are_read_as_the_key():
    from grader.quiz.answers import read_answers
    from grader.quiz.grading import answer_key
    from grader.quiz.loader import load_quiz
    from grader.nbgrader.quiz_notebook import VARIANT, packed_key, quiz_notebook

    path = CFG.quizzes_dir / "q1_rnn_basics.yaml"
    quiz = load_quiz(path, CFG.languages)
    nb = quiz_notebook(quiz, packed_key(quiz, path, "secret"), "secret")
    from nbgrader.nbgraderformat import MetadataValidator

    MetadataValidator().validate_nb(copy.deepcopy(nb))
    from grader.quiz.model import FreeAnswer

    free = [q for q in quiz.questions if isinstance(q, FreeAnswer)]
    grade_ids = [c.metadata.nbgrader.grade_id for c in _test_cells(nb)]
    assert grade_ids == [cells.SETUP_QUIZ, *(q.id for q in quiz.questions if q not in free)]
    # free questions are "manually graded task" cells worth their points, graded in formgrader
    tasks = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("task")}
    assert free and tasks == {q.id: q.points for q in free}
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"seqgrade-quiz-{os.getpid()}.ipynb"
    try:
        nbformat.write(nb, tmp)
        key = answer_key(quiz, VARIANT, "secret")
        assert read_answers(tmp).values == {k: (None if quiz.question(k) in free else v) for k, v in key.items()}
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- config
def test_nbgrader_config_is_read_by_nbgraders_loader(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(render_config("ml-101", "/srv/ex", 42), encoding="utf-8")
    cfg = load_nbgrader_config(tmp_path)
    assert cfg.CourseDirectory.course_id == "ml-101"
    assert cfg.CourseDirectory.db_url == f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert cfg.Exchange.root == "/srv/ex" and cfg.Execute.timeout == 42
    assert "ClearHiddenTests" in [p.__name__ for p in cfg.GenerateFeedback.preprocessors]


def test_bad_course_id_and_missing_manifest_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="letters, digits"):
        render_config("my course", "/srv/ex", 10)
    with pytest.raises(ConfigError, match="seqgrade nbgrader init"):
        read_manifest(tmp_path)


def test_parametrized_items_belong_to_their_check_function():
    assert item_function("test_x[float32-2]") == "test_x" and item_function("test_y") == "test_y"
