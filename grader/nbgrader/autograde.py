"""``seqgrade nbgrader autograde``: grade nbgrader submissions out of the kernel, into nbgrader's gradebook.

Plain ``nbgrader autograde`` runs each submitted notebook, tests included, in
one kernel, so the student's code can patch what the tests call, rewrite the
test cells, or exit the kernel. Here nothing of the student's runs next to the
checks:

1. each submitted notebook is sanitized as nbgrader would (`OverwriteCells`
   restores the read-only cells from the gradebook); its code cells except the
   test cells become the module (`notebook_to_module`), or, for a quiz, its
   answer cells are read as literals;
2. seqgrade grades the modules with its checks in the sandbox (`WorkerPool`),
   quizzes with the quiz key;
3. nbgrader's own `Autograde` converter writes ``autograded/<student>/...``
   and the submission's gradebook records, with `SeqgradeResults` in place of
   its `Execute` step: each test cell gets its check's result as output, and
   its hidden tests are removed (so ``generate_feedback`` cannot show them);
4. each test cell's score goes into the gradebook through `nbgrader.api`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..config import CourseConfig, load_config
from ..errors import ConfigError, SeqgradeError, SubmissionsError
from ..results import SubmissionResult
from . import cells as nbcells
from . import config as nbconfig
from .checklist import item_function

STATUS_ORDER = ("passed", "failed", "timeout", "error")
NOTE = ("**Graded by seqgrade**, out of the kernel: your code ran in a sandbox, apart from the checks. "
        "Each test cell below shows its check's result; hidden checks show their name and message only.\n\n"
        "**由 seqgrade 评分**（在内核之外）：你的代码在沙箱中运行，与检查代码相互隔离。下面每个测试单元格显示对应检查的结果；"
        "隐藏检查只显示名称和提示信息。")


@dataclass
class CellResult:
    """One test cell's result: the check (all its parameter sets) or the quiz question."""

    score: float
    max_score: float
    status: str
    message: str = ""


@dataclass
class StudentGrade:
    """One student's autograded submission."""

    student: str
    cells: dict[str, CellResult] = field(default_factory=dict)  # grade_id -> result
    error: str = ""  # a submission-level problem (import error, unreadable notebook)

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.cells.values()), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.cells.values()), 6)


@dataclass
class AutogradeRun:
    """What `autograde` did."""

    assignment: str
    graded: list[StudentGrade] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already autograded and unchanged (use force)
    failed: list[str] = field(default_factory=list)  # "bob: why nbgrader could not record it"
    seed: int | None = None

    def to_json(self) -> dict:
        return {"assignment": self.assignment, "seed": self.seed, "skipped": self.skipped, "failed": self.failed,
                "students": [{"student": g.student, "score": g.score, "max_score": g.max_score, "error": g.error,
                              "cells": {k: vars(v) for k, v in g.cells.items()}} for g in self.graded]}


# --------------------------------------------------------------------------- nbgrader's side
class SeqgradeResults(NbGraderPreprocessor):
    """Autograde's step in place of `Execute`: each test cell's output is seqgrade's result for it."""

    results_file = Unicode("", help="JSON file of seqgrade's results, by student and grade_id").tag(config=True)

    def preprocess(self, nb, resources):
        data = json.loads(Path(self.results_file).read_text(encoding="utf-8"))
        self._student = data.get(resources["nbgrader"]["student"], {})
        nb, resources = super().preprocess(nb, resources)
        note = nbformat.v4.new_markdown_cell(NOTE, id="seqgrade-graded-note")
        if self._student.get("error"):
            note.source += f"\n\n**Problem / 问题:** {self._student['error']}"
        nb.cells.insert(0, note)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and nbcells.is_test_cell(cell):
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            found = self._student.get("cells", {}).get(grade_id)
            cell.outputs = cell_outputs(grade_id, CellResult(**found) if found else None)
        return cell, resources


def cell_outputs(grade_id: str, r: CellResult | None) -> list:
    """The outputs nbgrader turns into the cell's score: none failing = full, an error = 0, a number = partial."""
    new = nbformat.v4.new_output
    if r is None:
        r = CellResult(0.0, 1.0, "error", _not_run(grade_id))
    if r.max_score == 0:  # a setup cell: it unpacks what the checks run, and is worth nothing
        return []
    if r.score >= r.max_score:
        return [new("stream", name="stdout", text=f"{grade_id}: passed ({r.score:g} of {r.max_score:g} points)\n")]
    if r.score <= 0:
        return [new("error", ename="CheckNotPassed", evalue=r.message,
                    traceback=[f"CheckNotPassed: {grade_id}: {r.message}"])]
    return [new("stream", name="stdout", text=f"{grade_id}: {r.score:g} of {r.max_score:g} points\n{r.message}\n"),
            new("execute_result", data={"text/plain": repr(float(r.score))}, metadata={}, execution_count=None)]


def _not_run(grade_id: str) -> str:
    return (f"seqgrade ran no check named {grade_id}: the checks changed since this notebook was generated "
            "(run `seqgrade nbgrader init --force`, then `nbgrader generate_assignment` again)")


def autograde_preprocessors() -> list:
    """nbgrader's autograde steps, with seqgrade's results instead of executing the notebook."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, IgnorePattern,
                                        LimitOutput, SaveAutoGrades)

    return [SeqgradeResults, ClearHiddenTests, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
            SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]


# --------------------------------------------------------------------------- reading submissions
@dataclass
class _Submission:
    student: str
    path: Path  # the submitted notebook
    raw: bytes = b""
    notebook: object = None  # sanitized, or None when it could not be read
    error: str = ""
    submitted_at: str | None = None


def _sanitized(sub: _Submission, item_id: str, nb_name: str, db_url: str) -> None:
    """Read the submitted notebook and restore its read-only cells from the gradebook, as nbgrader does."""
    from nbgrader.preprocessors import OverwriteCells

    where = f"{sub.student}/{item_id}/{nb_name}.ipynb"
    if not sub.path.is_file():
        sub.error = f"{where} was not submitted"
        return
    sub.raw = sub.path.read_bytes()
    try:
        nb = nbformat.reads(sub.raw.decode("utf-8"), as_version=4)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:  # nbformat's read errors are ValueErrors
        sub.error = f"{where} is not a readable notebook ({type(exc).__name__}: {str(exc)[:200]})"
        return
    resources = {"nbgrader": {"notebook": nb_name, "assignment": item_id, "student": sub.student, "db_url": db_url}}
    nb, _ = OverwriteCells().preprocess(nb, resources)
    sub.notebook = nb


def module_source(nb, name: str) -> str:
    """The notebook's code cells, test cells left out, as one module (magics commented out)."""
    from ..engine.submissions import notebook_to_module

    kept = nbformat.from_dict(dict(nb))
    kept.cells = [c for c in nb.cells if not nbcells.is_test_cell(c)]
    return notebook_to_module(nbformat.writes(kept), name)


def _cell_results(result: SubmissionResult) -> dict[str, CellResult]:
    """Item results (test_x[a], test_x[b]) summed into their check function's cell."""
    out: dict[str, CellResult] = {}
    for c in result.checks:
        gid = item_function(c.name)
        label = c.name[len(gid):]
        r = out.setdefault(gid, CellResult(0.0, 0.0, "passed"))
        r.score = round(r.score + c.score, 6)
        r.max_score = round(r.max_score + c.max_score, 6)
        if STATUS_ORDER.index(c.status) > STATUS_ORDER.index(r.status):
            r.status = c.status
        if c.status != "passed":
            msg = f"{label} {c.message}".strip()
            r.message = f"{r.message}\n{msg}" if r.message else msg
    return out


# --------------------------------------------------------------------------- the run
def autograde(course_dir: Path, item_id: str, *, students: tuple[str, ...] = (), force: bool = False,
              workers: int = 0, sandbox: str = "auto", seed: int | None = None,
              on_graded=None) -> AutogradeRun:
    """Grade the submissions of nbgrader assignment `item_id` in `course_dir` with seqgrade; see the module doc."""
    from nbgrader.api import MissingEntry
    from nbgrader.coursedir import CourseDirectory

    course_dir = Path(course_dir).resolve()
    manifest = nbconfig.read_manifest(course_dir)
    item = manifest.item(item_id)
    cfg = load_config(manifest.course_config)
    nb_cfg = nbconfig.load_nbgrader_config(course_dir)
    coursedir = CourseDirectory(config=nb_cfg)
    if "root" not in nb_cfg.get("CourseDirectory", {}):
        coursedir.root = str(course_dir)
    with nbconfig.open_gradebook(coursedir.db_url, coursedir.course_id) as gb:
        try:
            source_nb = gb.find_notebook(item.notebook, item_id)
        except MissingEntry:
            raise ConfigError(f"nbgrader's gradebook has no notebook {item.notebook!r} in {item_id!r}: run "
                              f"`nbgrader generate_assignment {item_id}` in {course_dir} first") from None
        answers = {c.name for c in source_nb.solution_cells}
        points = {c.name: float(c.max_score) for c in source_nb.grade_cells if c.name not in answers}

    subs = _find_submissions(coursedir, item_id, item.notebook, students)
    run = AutogradeRun(item_id)
    todo = []
    for sub in subs:
        dest = Path(coursedir.format_path(coursedir.autograded_directory, sub.student, item_id))
        if not force and (dest / f"{item.notebook}.ipynb").exists() and not _newer(coursedir, sub.path.parent, dest):
            run.skipped.append(sub.student)
            continue
        ts = coursedir.get_existing_timestamp(str(sub.path.parent))
        sub.submitted_at = ts.isoformat() if ts else None
        _sanitized(sub, item_id, item.notebook, coursedir.db_url)
        todo.append(sub)
    if not todo:
        return run

    if item.kind == "quiz":
        grades = _grade_quiz(item, todo, list(points))
    else:
        grades, run.seed = _grade_assignment(item_id, item.notebook, cfg, todo, workers, sandbox, seed)
    for g in grades.values():  # only the notebook's test cells count; one without a result scores 0
        g.cells = {gid: g.cells.get(gid) or (CellResult(0.0, 0.0, "passed") if pts == 0 else
                                             CellResult(0.0, pts, "error", g.error or _not_run(gid)))
                   for gid, pts in points.items()}

    with tempfile.TemporaryDirectory(prefix="seqgrade-nbgrader-") as tmp:
        results_file = Path(tmp) / "results.json"
        results_file.write_text(json.dumps(
            {s: {"error": g.error, "cells": {k: vars(v) for k, v in g.cells.items()}} for s, g in grades.items()}),
            encoding="utf-8")
        for sub in todo:
            if sub.student not in grades:  # cannot happen: the pool answers every job, if only with an error
                run.failed.append(f"{sub.student}: seqgrade returned no result")
                continue
            problem = _run_converter(nb_cfg, coursedir, item_id, sub.student, results_file)
            if problem:
                why = f"{sub.error}; nbgrader cannot read it either" if sub.error else f"nbgrader: {problem}"
                run.failed.append(f"{sub.student}: {why} (fix or resubmit it, then run this again)")
                continue
            g = grades[sub.student]
            _write_scores(coursedir, item_id, item.notebook, g)
            run.graded.append(g)
            if on_graded:
                on_graded(g)
    return run


def _find_submissions(coursedir, item_id: str, nb_name: str, students: tuple[str, ...]) -> list[_Submission]:
    """The collected submissions of `item_id`, by student id (nbgrader's directory layout, whatever it is)."""
    import glob
    import re

    where = coursedir.format_path(coursedir.submitted_directory, "*", item_id)
    pattern = re.compile(coursedir.format_path(coursedir.submitted_directory, "(?P<student>[^/]+)", item_id,
                                               escape=True) + "$")
    found = {}
    for path in sorted(glob.glob(where)):
        m = pattern.match(path)
        if m and os.path.isdir(path):
            found[m.group("student")] = Path(path)
    if students:
        missing = [s for s in students if s not in found]
        if missing:
            raise SubmissionsError(f"no submission of {item_id} from {', '.join(missing)} ({where}): "
                                   f"run `nbgrader collect {item_id}` first")
        found = {s: found[s] for s in students}
    if not found:
        raise SubmissionsError(f"no submissions of {item_id} in {where}: run `nbgrader collect {item_id}` first")
    return [_Submission(s, p / f"{nb_name}.ipynb") for s, p in found.items()]


def _newer(coursedir, src: Path, dest: Path) -> bool:
    new, old = coursedir.get_existing_timestamp(str(src)), coursedir.get_existing_timestamp(str(dest))
    return new is not None and old is not None and new > old


def _grade_assignment(item_id: str, nb_name: str, cfg: CourseConfig, subs: list[_Submission], workers: int,
                      sandbox: str, seed: int | None) -> tuple[dict[str, StudentGrade], int]:
    from ..catalog import get_assignment
    from ..checks.plugin import Job
    from ..engine.pool import WorkerPool
    from ..engine.session import new_seed
    from ..sandbox.launcher import Limits, resolve_policy

    a = get_assignment(item_id)
    seed = new_seed() if seed is None else seed
    jobs = []
    for sub in subs:
        name = f"{sub.student}/{nb_name}.ipynb"
        digest = hashlib.sha256(sub.raw).hexdigest() if sub.raw else ""
        if sub.notebook is None:
            jobs.append(Job(sub.student, a.module, None, filename=name, error=sub.error, content_hash=digest,
                            submitted_at=sub.submitted_at))
            continue
        try:
            source = module_source(sub.notebook, name)
        except ValueError as exc:
            source, sub.error = None, str(exc)
        jobs.append(Job(sub.student, a.module, source, filename=name, error=sub.error, content_hash=digest,
                        submitted_at=sub.submitted_at))
    settings = {"course": str(cfg.source) if cfg.source else None, "assignment": a.id, "seed": seed,
                "sandbox": resolve_policy(sandbox), "hidden": a.hidden_checks(cfg).is_dir(),
                "limits": Limits().as_dict()}
    grades: dict[str, StudentGrade] = {}

    def record(result: SubmissionResult) -> None:
        grades[result.student] = StudentGrade(result.student, _cell_results(result), result.error)

    n = workers or os.cpu_count() or 1
    WorkerPool(settings, min(n, len(jobs))).run(jobs, a.id, record)
    return grades, seed


def _grade_quiz(item, subs: list[_Submission], grade_ids: list[str]) -> dict[str, StudentGrade]:
    """Each answer cell read as a literal (never run), graded with the key the notebook was made with."""
    from ..quiz.answers import read_answers
    from .inkernel import KernelQuiz

    if not item.key:
        raise ConfigError(f"the manifest has no key for quiz {item.notebook}: run `seqgrade nbgrader init --force "
                          f"--quiz {item.notebook}` and `nbgrader generate_assignment {item.notebook}` again")
    key = KernelQuiz.unpack(item.key)
    grades = {}
    for sub in subs:
        answers = read_answers(sub.path) if sub.notebook is not None else None
        values = answers.values if answers is not None and answers.values is not None else {}
        problems = [sub.error] if answers is None else list(answers.problems)
        cells = {}
        for qid in grade_ids:
            try:
                o = key.grade(qid, values)
            except KeyError:  # a test cell the key does not know: left to the "no check" rule
                continue
            cells[qid] = CellResult(o.score, o.points, o.status, o.message)
        grades[sub.student] = StudentGrade(sub.student, cells, "\n".join(p for p in problems if p))
    return grades


class _ErrorLog(logging.Handler):
    """Keeps the last line of each error nbgrader logs, to say why a submission was not recorded."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record):
        text = record.getMessage().strip()
        if text:
            self.lines.append(text.splitlines()[-1])


def _run_converter(nb_cfg, coursedir, item_id: str, student: str, results_file: Path) -> str:
    """nbgrader's Autograde converter for one student; '' when it recorded the submission, else why not."""
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import NbGraderException
    from sqlalchemy.exc import SAWarning
    from traitlets.config import Config

    cfg = Config(nb_cfg)
    cfg.Autograde.autograde_preprocessors = autograde_preprocessors()
    cfg.Autograde.force = True
    cfg.SeqgradeResults.results_file = str(results_file)
    coursedir.assignment_id = item_id
    coursedir.student_id = student
    converter = Autograde(coursedir=coursedir, config=cfg)
    errors = _ErrorLog()
    converter.log.addHandler(errors)
    try:
        with warnings.catch_warnings():  # SQLAlchemy's notes when nbgrader gives up on a notebook
            warnings.simplefilter("ignore", SAWarning)
            converter.start()
    except NbGraderException as exc:
        return "; ".join(x for x in errors.lines if x) or str(exc)
    except SeqgradeError:
        raise
    except Exception as exc:  # nbgrader's database and file errors
        return f"{type(exc).__name__}: {exc}"
    finally:
        converter.log.removeHandler(errors)
    return ""


def _write_scores(coursedir, item_id: str, nb_name: str, g: StudentGrade) -> None:
    """Every test cell's score into nbgrader's gradebook (what formgrader, feedback and export read)."""
    from nbgrader.api import MissingEntry

    with nbconfig.open_gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for gid, r in g.cells.items():
            try:
                grade = gb.find_grade(gid, nb_name, item_id, g.student)
            except MissingEntry:
                continue
            grade.auto_score = min(r.score, grade.max_score)
            grade.needs_manual_grade = grade.manual_score is not None
        gb.db.commit()

