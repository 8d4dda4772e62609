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

from .. import escape
from ..config import CourseConfig, load_config
from ..errors import ConfigError, SeqgradeError, SubmissionsError
from ..reporting.numbers import points
from ..results import CheckResult, Flag, SubmissionResult
from . import cells as nbcells
from . import config as nbconfig
from .checklist import CellResult, cell_results

NOTE = ("**Graded by seqgrade**, out of the kernel: your code ran in a sandbox, apart from the checks. "
        "Each test cell below shows its check's result; hidden checks show their name and message only.\n\n"
        "**由 seqgrade 评分**（在内核之外）：你的代码在沙箱中运行，与检查代码相互隔离。下面每个测试单元格显示对应检查的结果；"
        "隐藏检查只显示名称和提示信息。")


@dataclass
class StudentGrade:
    """One student's autograded submission."""

    student: str
    cells: dict[str, CellResult] = field(default_factory=dict)  # grade_id -> result
    error: str = ""  # a submission-level problem (import error, unreadable notebook)
    flags: list[Flag] = field(default_factory=list)  # refusals, detected tampering, resource limits
    isolation: str = ""
    submitted_at: str | None = None
    time_source: str = ""
    causes: str = ""  # the feedback's root-cause section (Markdown, escaped), shown at the top of the notebook

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.cells.values()), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.cells.values()), 6)

    def as_result(self, item: str, kind: str) -> SubmissionResult:
        """This grade in the shape of every other result (one check per test cell)."""
        statuses = {"passed", "failed", "error", "timeout"}
        return SubmissionResult(
            student=self.student, item=item, kind=kind, max_score=self.max_score, error=self.error,
            flags=list(self.flags), isolation=self.isolation, submitted_at=self.submitted_at,
            time_source=self.time_source,
            checks=[CheckResult(gid, c.score, c.max_score, c.status if c.status in statuses else "error",
                                "hidden", c.message) for gid, c in self.cells.items()])


@dataclass
class AutogradeRun:
    """What `autograde` did."""

    assignment: str
    graded: list[StudentGrade] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already autograded and unchanged (use force)
    failed: list[str] = field(default_factory=list)  # "bob: why nbgrader could not record it"
    seed: int | None = None

    kind: str = "assignment"  # assignment | quiz
    refused: list[StudentGrade] = field(default_factory=list)  # not handed to nbgrader at all (see flags)

    def to_json(self) -> dict:
        from ..results_schema import run_document

        isolation = next((g.isolation for g in self.graded if g.isolation), None)
        return run_document(self.assignment, self.kind, [g.as_result(self.assignment, self.kind)
                                                         for g in self.graded + self.refused],
                            seed=self.seed, isolation=isolation, skipped=self.skipped, failed=self.failed)


# --------------------------------------------------------------------------- nbgrader's side
class SeqgradeResults(NbGraderPreprocessor):
    """Autograde's step in place of `Execute`: each test cell's output is seqgrade's result for it."""

    results_file = Unicode("", help="JSON file of seqgrade's results, by student and grade_id").tag(config=True)

    def preprocess(self, nb, resources):
        data = json.loads(Path(self.results_file).read_text(encoding="utf-8"))
        self._student = data.get(resources["nbgrader"]["student"], {})
        nb, resources = super().preprocess(nb, resources)
        note = nbformat.v4.new_markdown_cell(NOTE, id="seqgrade-graded-note")
        if self._student.get("error"):  # the submission's own text: shown verbatim, never as Markdown or HTML
            note.source += "\n\n**Problem / 问题:**\n\n" + escape.markdown_code(self._student["error"])
        if self._student.get("causes"):  # written by grader.reporting.feedback, every student string escaped
            note.source += "\n\n" + self._student["causes"]
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
    message = escape.terminal(r.message)  # Jupyter interprets ANSI codes in outputs: make them visible
    if r.score >= r.max_score:
        return [new("stream", name="stdout", text=f"{grade_id}: passed ({points(r.score)} of {points(r.max_score)} points)\n")]
    if r.score <= 0:
        return [new("error", ename="CheckNotPassed", evalue=message,
                    traceback=[f"CheckNotPassed: {grade_id}: {message}"])]
    return [new("stream", name="stdout", text=f"{grade_id}: {points(r.score)} of {points(r.max_score)} points\n{message}\n"),
            new("execute_result", data={"text/plain": repr(float(r.score))}, metadata={}, execution_count=None)]


def _not_run(grade_id: str) -> str:
    return (f"seqgrade ran no check named {grade_id}: the checks changed since this notebook was generated "
            "(run `seqgrade nbgrader init --force`, then `nbgrader generate_assignment` again)")


def autograde_preprocessors() -> list:
    """nbgrader's autograde steps, with seqgrade's results instead of executing the notebook."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, IgnorePattern,
                                        LimitOutput, SaveAutoGrades)

    from .sanitize import StudentCellsAsText

    return [StudentCellsAsText, SeqgradeResults, ClearHiddenTests, IgnorePattern, ClearMetadataPreprocessor,
            LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]


# --------------------------------------------------------------------------- reading submissions
@dataclass
class _Submission:
    student: str
    path: Path  # the submitted notebook
    raw: bytes = b""
    notebook: object = None  # sanitized, or None when it could not be read
    error: str = ""
    submitted_at: str | None = None
    time_source: str = ""
    flags: list[Flag] = field(default_factory=list)  # refusals: such a submission never reaches nbgrader


def _read(sub: _Submission, submitted_root: Path, item_id: str, nb_name: str, db_url: str) -> None:
    """Read the submitted notebook under the rules of `grader.submissions`, then restore its read-only
    cells from the gradebook as nbgrader does. Problems become the student's error (and refusals flags)."""
    from nbgrader.preprocessors import OverwriteCells

    from ..submissions import Refusal, list_folder, notebook_module, parse_notebook, read_regular_file, refusals_in

    student_dir = submitted_root / sub.student
    where = f"{escape.name(sub.student)}/{item_id}/{nb_name}.ipynb"
    try:
        top = {e.name: e for e in list_folder(submitted_root)}
        entry = top.get(sub.student)
        if entry is not None and entry.kind != "dir":
            raise Refusal(f"{escape.name(sub.student)}/ is not a real folder (a link?): submit files", where)
        refused = refusals_in(student_dir, escape.name(sub.student))
        if refused:
            sub.flags = [r.flag() for r in refused]
            sub.error = "; ".join(str(r) for r in refused[:3])
            return
        sub.raw = read_regular_file(submitted_root, [sub.student, item_id, f"{nb_name}.ipynb"], what=where)
    except Refusal as exc:
        sub.flags, sub.error = [exc.flag()], str(exc)
        return
    except FileNotFoundError:
        sub.error = f"{where} was not submitted"
        return
    except OSError as exc:
        sub.error = f"cannot read {where}: {exc.strerror}"
        return
    try:
        text = sub.raw.decode("utf-8")
        notebook_module(parse_notebook(text, where), where)  # size, nesting, structure first: nbformat trusts it
        nb = nbformat.reads(text, as_version=4)
        resources = {"nbgrader": {"notebook": nb_name, "assignment": item_id, "student": sub.student,
                                  "db_url": db_url}}
        nb, _ = OverwriteCells().preprocess(nb, resources)
    except UnicodeDecodeError as exc:
        sub.error = f"{where} is not UTF-8 text (byte {exc.start})"
        return
    except ValueError as exc:
        sub.error = str(exc) if "not a valid notebook" in str(exc) else \
            f"{where} is not a valid notebook ({type(exc).__name__}: {escape.one_line(exc, 200)})"
        return
    except Exception as exc:  # noqa: BLE001 - a malformed notebook is this student's problem, whatever it raises
        sub.error = f"{where} is not a valid notebook ({type(exc).__name__}: {escape.one_line(exc, 200)})"
        return
    sub.notebook = nb


def module_source(nb, name: str) -> str:
    """The notebook's code cells, test cells left out, as one module (magics commented out)."""
    from ..submissions import notebook_module

    return notebook_module({"cells": [dict(c) for c in nb.cells]}, name)


# --------------------------------------------------------------------------- the run
def autograde(course_dir: Path, item_id: str, *, students: tuple[str, ...] = (), force: bool = False,
              workers: int = 0, sandbox: str = "bwrap", seed: int | None = None,
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
    run = AutogradeRun(item_id, kind=item.kind)
    submitted_root = Path(coursedir.format_path(coursedir.submitted_directory, ".", ".")).resolve()
    todo = []
    for sub in subs:
        dest = Path(coursedir.format_path(coursedir.autograded_directory, sub.student, item_id))
        if not force and (dest / f"{item.notebook}.ipynb").exists() and not _newer(sub.path.parent, dest):
            run.skipped.append(sub.student)
            continue
        _read(sub, submitted_root, item_id, item.notebook, coursedir.db_url)
        todo.append(sub)
    if not todo:
        return run
    _stamp_times(todo, item_id, cfg, nb_cfg, coursedir)

    if item.kind == "quiz":
        grades = _grade_quiz(item, todo, list(points))
    else:
        grades, run.seed = _grade_assignment(item_id, item.notebook, cfg, todo, workers, sandbox, seed)
    for g in grades.values():  # only the notebook's test cells count; one without a result scores 0
        g.cells = {gid: g.cells.get(gid) or (CellResult(0.0, 0.0, "passed") if pts == 0 else
                                             CellResult(0.0, pts, "error", g.error or _not_run(gid)))
                   for gid, pts in points.items()}
    for sub in todo:
        if sub.student in grades:
            g = grades[sub.student]
            g.flags = _merge_flags(sub.flags, g.flags)
            g.submitted_at, g.time_source = sub.submitted_at, sub.time_source

    times = {str(Path(s.path.parent).resolve()): s.submitted_at for s in todo if s.submitted_at}
    with tempfile.TemporaryDirectory(prefix="seqgrade-nbgrader-") as tmp:
        results_file = Path(tmp) / "results.json"
        results_file.write_text(json.dumps(
            {s: {"error": g.error, "causes": g.causes, "cells": {k: vars(v) for k, v in g.cells.items()}}
             for s, g in grades.items()}),
            encoding="utf-8")
        trusted = _TrustedTimes(times, config=nb_cfg)
        trusted.root = coursedir.root
        for sub in todo:
            if sub.student not in grades:  # cannot happen: the pool answers every job, if only with an error
                run.failed.append(f"{escape.name(sub.student)}: seqgrade returned no result")
                continue
            if sub.notebook is None:
                # refused (nbgrader itself would follow the link or copy the device) or unreadable (nbgrader
                # would fail on it too): nbgrader never reads it; its zeros and the reason are recorded here
                _record_zeros(coursedir, item_id, sub.student, sub.submitted_at)
                run.refused.append(grades[sub.student])
                if on_graded:
                    on_graded(grades[sub.student])
                continue
            problem = _run_converter(nb_cfg, trusted, item_id, sub.student, results_file, cfg)
            if problem:
                why = f"{sub.error}; nbgrader cannot read it either" if sub.error else f"nbgrader: {problem}"
                run.failed.append(f"{escape.name(sub.student)}: {escape.one_line(why, 300)} (fix or resubmit it, "
                                  "then run this again)")
                continue
            g = grades[sub.student]
            _write_scores(coursedir, item_id, item.notebook, g)
            run.graded.append(g)
            if on_graded:
                on_graded(g)
    return run


def _record_zeros(coursedir, item_id: str, student: str, submitted_at: str | None) -> None:
    """A submission nbgrader must not read: zero for every cell in nbgrader's gradebook (formgrader shows it)."""
    from ..times import parse_time

    with nbconfig.open_gradebook(coursedir.db_url, coursedir.course_id) as gb:
        gb.update_or_create_student(student)
        when = parse_time(submitted_at) if submitted_at else None
        submission = gb.update_or_create_submission(item_id, student,
                                                    **({"timestamp": when.replace(tzinfo=None)} if when else {}))
        for nb in submission.notebooks:
            for grade in nb.grades:
                grade.auto_score = 0.0
                grade.needs_manual_grade = False
        gb.db.commit()


def _merge_flags(a: list[Flag], b: list[Flag]) -> list[Flag]:
    out = list(a)
    for f in b:
        if f not in out:
            out.append(f)
    return out


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


def _newer(src: Path, dest: Path) -> bool:
    """Whether the collected submission's timestamp is newer than the autograded one's (read safely)."""
    from ..times import _timestamp_txt

    new, old = _timestamp_txt(src), _timestamp_txt(dest)
    return new is not None and old is not None and new > old


def _stamp_times(subs: list[_Submission], item_id: str, cfg: CourseConfig, nb_cfg, coursedir) -> None:
    """Each submission's time from a source the grading side trusts (see grader.times)."""
    from ..gradebook import Gradebook
    from ..jobs import Job
    from ..times import SubmissionClock, _timestamp_txt, exchange_time

    source = cfg.submission_time
    exchange_root = nb_cfg.get("Exchange", {}).get("root")
    with Gradebook(cfg.gradebook) as gb:
        clock = SubmissionClock(cfg, gb, source="first_seen")
        for sub in subs:
            digest = hashlib.sha256(sub.raw).hexdigest() if sub.raw else "error:" + sub.error
            if source in ("mtime", "nbgrader_timestamp"):
                at = _timestamp_txt(sub.path.parent)
                if at is not None:
                    sub.submitted_at, sub.time_source = at, "nbgrader_timestamp (student-controlled)"
                    continue
            if source in ("first_seen", "exchange") and exchange_root:
                at = exchange_time(Path(exchange_root), coursedir.course_id, sub.student, item_id,
                                   _timestamp_txt(sub.path.parent))
                if at is not None:
                    sub.submitted_at, sub.time_source = at, "exchange"
                    continue
            stamp = clock.first_seen(Job(sub.student, "", None, content_hash=digest), item_id)
            sub.submitted_at, sub.time_source = stamp.at, stamp.source
        clock.observe(item_id)


def _trusted_times_class():
    from nbgrader.coursedir import CourseDirectory

    class TrustedTimes(CourseDirectory):
        """nbgrader's course directory, answering seqgrade's trusted time instead of timestamp.txt."""

        def __init__(self, times: dict[str, str], **kw):
            super().__init__(**kw)
            self._times = times

        def get_existing_timestamp(self, dest_path):
            from ..times import parse_time

            at = self._times.get(str(Path(dest_path).resolve()))
            if at is not None:
                return parse_time(at)
            return super().get_existing_timestamp(dest_path)

    return TrustedTimes


def _TrustedTimes(times: dict[str, str], **kw):
    return _trusted_times_class()(times, **kw)


def _grade_assignment(item_id: str, nb_name: str, cfg: CourseConfig, subs: list[_Submission], workers: int,
                      sandbox: str, seed: int | None) -> tuple[dict[str, StudentGrade], int]:
    from ..engine.core import grade_jobs
    from ..engine.session import new_seed
    from ..engine.settings import GradeSettings
    from ..jobs import Job

    a = cfg.assignment(item_id)
    seed = new_seed() if seed is None else seed
    jobs = []
    for sub in subs:
        name = f"{escape.name(sub.student)}/{nb_name}.ipynb"
        digest = hashlib.sha256(sub.raw).hexdigest() if sub.raw else ""
        source = None
        if sub.notebook is not None:
            try:
                source = module_source(sub.notebook, name)
            except ValueError as exc:
                sub.error = str(exc)
        jobs.append(Job(sub.student, a.module, source, filename=name, error=sub.error, content_hash=digest,
                        submitted_at=sub.submitted_at, time_source=sub.time_source, flags=list(sub.flags)))
    settings = GradeSettings(assignment=a.id, seed=seed, course=str(cfg.source) if cfg.source else None,
                             sandbox=sandbox, hidden=a.hidden_checks.is_dir())
    grades: dict[str, StudentGrade] = {}
    from ..reporting.facts import CourseFacts
    from ..reporting.feedback import root_causes_markdown

    facts = CourseFacts(cfg).item(a.id)

    def record(result: SubmissionResult) -> None:
        grades[result.student] = StudentGrade(result.student, cell_results(result.checks), result.error,
                                              flags=list(result.flags), isolation=result.isolation,
                                              causes=root_causes_markdown(result, facts, "###"))

    grade_jobs(settings, jobs, record, workers=workers)
    return grades, seed


def _grade_quiz(item, subs: list[_Submission], grade_ids: list[str]) -> dict[str, StudentGrade]:
    """Each answer cell read as a literal (never run), graded with the key the notebook was made with."""
    from ..quiz.answers import parse_answers
    from .inkernel import KernelQuiz

    def nb_name_of(sub: _Submission) -> str:
        return sub.path.name

    if not item.key:
        raise ConfigError(f"the manifest has no key for quiz {item.notebook}: run `seqgrade nbgrader init --force "
                          f"--quiz {item.notebook}` and `nbgrader generate_assignment {item.notebook}` again")
    key = KernelQuiz.unpack(item.key)
    grades = {}
    for sub in subs:
        answers = parse_answers(sub.raw, f"{nb_name_of(sub)}", sub.student) if sub.notebook is not None else None
        values = answers.values if answers is not None and answers.values is not None else {}
        problems = [sub.error] if answers is None else list(answers.problems)
        cells = {}
        for qid in grade_ids:
            try:
                o = key.grade(qid, values)
            except KeyError:  # a test cell the key does not know: left to the "no check" rule
                continue
            cells[qid] = CellResult(o.score, o.points, o.status, o.message)
        grades[sub.student] = StudentGrade(sub.student, cells, "\n".join(p for p in problems if p),
                                           flags=list(sub.flags))
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


def _run_converter(nb_cfg, coursedir, item_id: str, student: str, results_file: Path, course: CourseConfig) -> str:
    """nbgrader's Autograde converter for one student; '' when it recorded the submission, else why not."""
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import NbGraderException
    from sqlalchemy.exc import SAWarning
    from traitlets.config import Config

    cfg = Config(nb_cfg)
    cfg.Autograde.autograde_preprocessors = autograde_preprocessors()
    cfg.Autograde.force = True
    cfg.SeqgradeResults.results_file = str(results_file)
    if course.source is not None:  # the course's one late policy, extensions included
        cfg.AssignLatePenalties.plugin_class = "grader.nbgrader.late.SeqgradeLatePolicy"
        cfg.SeqgradeLatePolicy.course_config = str(course.source)
        cfg.SeqgradeLatePolicy.item = item_id
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

