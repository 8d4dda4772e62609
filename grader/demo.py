"""The end-to-end demo: grade the bundled example class, quizzes included, and write everything.

Copies `course/examples/submissions/<assignment>/<student>/` into OUT,
stamps each file with a submission time (one student late), grades every
assignment with the real sandboxed checks and every quiz, then writes the
gradebook, per-student feedback, every export, the class report with its
plot, and one lab's plot, all under OUT.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable

from .catalog import ASSIGNMENTS
from .config import CourseConfig
from .gradebook import Gradebook

LATE_STUDENT = "erin"  # submits two days after every due date, to show the late policy


@dataclass
class DemoReport:
    out: Path
    gradebook: Path
    graded: dict[str, int] = field(default_factory=dict)  # item -> submissions graded
    files: dict[str, Path] = field(default_factory=dict)  # what -> where


def _stamp(folder: Path, cfg: CourseConfig, assignment: str) -> None:
    due = cfg.due.get(assignment)
    if due is None:
        return
    for student in folder.iterdir():
        when = due + (timedelta(days=2) if student.name == LATE_STUDENT else -timedelta(days=1))
        for f in student.rglob("*"):
            os.utime(f, (when.timestamp(), when.timestamp()))


def run_demo(cfg: CourseConfig, out: Path, say: Callable[[str], None] = print, workers: int = 0,
             sandbox: str = "auto", with_lab: bool = True) -> DemoReport:
    from .engine.grading import GradeOptions, grade_class

    examples = cfg.root / "course" / "examples"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    report = DemoReport(out=out, gradebook=out / "gradebook.db")
    with Gradebook(report.gradebook) as gb:
        for a in ASSIGNMENTS.values():
            src = examples / "submissions" / a.id
            if not src.is_dir():
                continue
            dest = out / "submissions" / a.id
            shutil.copytree(src, dest)
            _stamp(dest, cfg, a.id)
            run = grade_class(a, dest, cfg, gb, GradeOptions(workers=workers, sandbox=sandbox, regrade=True))
            report.graded[a.id] = run.graded
            best = max(run.results, key=lambda r: r.score)
            say(f"  {a.id}: graded {run.graded} submissions (max {run.max_score:g} points; "
                f"best {best.student} {best.score:g})")
        _grade_quizzes(cfg, examples / "quiz_answers", gb, report, say)
    _write_outputs(cfg, report, say, with_lab)
    return report


def _grade_quizzes(cfg: CourseConfig, answers_root: Path, gb: Gradebook, report: DemoReport, say) -> None:
    if not answers_root.is_dir():
        return
    from .quiz.answers import collect_answers
    from .quiz.loader import find_quiz_file, load_quiz
    from .quiz.review import apply, grade_and_record, import_reviews
    from .quiz.reviewstore import ReviewStore

    reviews_root = answers_root.parent / "quiz_reviews"  # a grader's decisions on the free answers
    for folder in sorted(p for p in answers_root.iterdir() if p.is_dir()):
        quiz = load_quiz(find_quiz_file(folder.name, cfg.quizzes_dir), cfg.languages)
        results = grade_and_record(quiz, collect_answers(folder), cfg.secret, cfg.languages[0], gb)
        reviews = reviews_root / f"{quiz.id}.yaml"
        if reviews.is_file():
            with ReviewStore(gb.path) as store:
                for r in import_reviews(quiz, reviews, store, "demo grader").saved:
                    apply(gb, quiz, r, cfg.languages[0])
        report.graded[quiz.id] = len(results)
        problems = sum(1 for r in results if r.error)
        say(f"  quiz {quiz.id}: graded {len(results)} answers files" +
            (f" ({problems} with problems, reported per student)" if problems else ""))


def _write_outputs(cfg: CourseConfig, report: DemoReport, say, with_lab: bool) -> None:
    from .reporting.classreport import plot_report
    from .reporting.export import FORMATS, export
    from .reporting.feedback import write_feedback

    out = report.out
    with Gradebook(report.gradebook) as gb:
        titles = {a.id: f"{a.id} — {a.title_en}" for a in ASSIGNMENTS.values()}
        write_feedback(gb.results(), out / "feedback", titles)
        report.files["feedback"] = out / "feedback"
        for fmt in FORMATS:
            report.files[f"export {fmt}"] = export(gb, fmt, out / "exports")
        report.files["report plot"] = plot_report(gb, out / "report.png")
    if with_lab:
        from .labs import run_lab

        run_lab("vanishing", solutions_dir=cfg.solutions_dir, out=out / "labs", quick=False)
        report.files["lab: vanishing gradients"] = out / "labs"
