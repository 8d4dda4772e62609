"""The end-to-end demo: grade the bundled example class, quizzes included, and write everything.

Copies `course/examples/submissions/<assignment>/<student>/` into OUT,
writes the submission times a platform would export (one student late) to
OUT/submission-times.csv, grades every assignment with the real sandboxed
checks and every quiz against those times, then writes the gradebook,
per-student feedback (root causes first), every export, the class report
(report.html with its CSV files, report.png), screenshots of the report and
of two feedback pages (with a headless Chromium), and one lab's plot, all
under OUT.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable

from .config import CourseConfig
from .gradebook import Gradebook
from .reporting.numbers import points

LATE_STUDENT = "erin"  # submits two days after every due date, to show the late policy


@dataclass
class DemoReport:
    out: Path
    gradebook: Path
    graded: dict[str, int] = field(default_factory=dict)  # item -> submissions graded
    files: dict[str, Path] = field(default_factory=dict)  # what -> where
    class_report: object = None  # the class report's numbers (grader.reporting.classdata.ClassReport)


def _times_file(cfg: CourseConfig, examples: Path, out: Path) -> Path:
    """The submission times a platform would export: a day early, or two days late for LATE_STUDENT."""
    rows = ["student,item,submitted_at"]
    items = [(a.id, examples / "submissions" / a.id) for a in cfg.assignments.values()]
    answers = examples / "quiz_answers"
    if answers.is_dir():
        items += [(p.name, p) for p in sorted(answers.iterdir()) if p.is_dir()]
    for item, folder in items:
        due = cfg.due_date(item)
        if due is None or not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            student = entry.name if entry.is_dir() else entry.stem
            when = due + (timedelta(days=2) if student == LATE_STUDENT else -timedelta(days=1))
            rows.append(f"{student},{item},{when.isoformat()}")
    path = out / "submission-times.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def run_demo(cfg: CourseConfig, out: Path, say: Callable[[str], None] = print, workers: int = 0,
             sandbox: str = "bwrap", with_lab: bool = True) -> DemoReport:
    from .engine.grading import GradeOptions, grade_class

    examples = cfg.root / "course" / "examples"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    report = DemoReport(out=out, gradebook=out / "gradebook.db")
    times = _times_file(cfg, examples, out)
    report.files["submission times"] = times
    with Gradebook(report.gradebook) as gb:
        for a in cfg.assignments.values():
            src = examples / "submissions" / a.id
            if not src.is_dir():
                continue
            dest = out / "submissions" / a.id
            shutil.copytree(src, dest)
            run = grade_class(a, dest, cfg, gb, GradeOptions(workers=workers, sandbox=sandbox, regrade=True,
                                                            times_file=times))
            report.graded[a.id] = run.graded
            best = max(run.results, key=lambda r: r.score)
            say(f"  {a.id}: graded {run.graded} submissions (max {points(run.max_score)} points; "
                f"best {best.student} {points(best.score)}; isolation {run.isolation or 'none'})")
        _grade_quizzes(cfg, examples / "quiz_answers", gb, report, say, times)
    _write_outputs(cfg, report, say, with_lab)
    return report


def _grade_quizzes(cfg: CourseConfig, answers_root: Path, gb: Gradebook, report: DemoReport, say,
                   times: Path) -> None:
    if not answers_root.is_dir():
        return
    from .quiz.answers import collect_answers
    from .quiz.loader import find_quiz_file, load_quiz
    from .quiz.recording import record_quiz_results
    from .quiz.review import apply, grade_with_reviews, import_reviews
    from .quiz.reviewstore import ReviewStore
    from .times import SubmissionClock

    clock = SubmissionClock(cfg, gb, source="times_file", times_file=times)
    reviews_root = answers_root.parent / "quiz_reviews"  # a grader's decisions on the free answers
    for folder in sorted(p for p in answers_root.iterdir() if p.is_dir()):
        quiz = load_quiz(find_quiz_file(folder.name, cfg.quizzes_dir), cfg.languages)
        answers = collect_answers(folder)
        results = grade_with_reviews(quiz, answers, cfg.secret, cfg.languages[0], gb.path)
        record_quiz_results(answers, results, cfg, gb, clock)
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
    from .reporting import classdata
    from .reporting.classreport import plot_report
    from .reporting.dashboard import write_dashboard
    from .reporting.export import FORMATS, export
    from .reporting.facts import CourseFacts
    from .reporting.feedback import write_feedback

    out = report.out
    facts = CourseFacts(cfg)
    with Gradebook(report.gradebook) as gb:
        results = gb.results()
        titles = {a.id: f"{a.id} — {a.title_en}" for a in cfg.assignments.values()}
        write_feedback(results, out / "feedback", titles, facts)
        report.files["feedback"] = out / "feedback"
        for fmt in FORMATS:
            report.files[f"export {fmt}"] = export(gb, fmt, out / "exports")
    rep = report.class_report = classdata.build(results, facts)
    files = write_dashboard(rep, out / "report.html", title=f"{cfg.name}: class report")
    report.files["class report (HTML)"] = files["html"]
    report.files["its numbers (CSV)"] = files["scores"].parent / f"{files['html'].stem}-*.csv"
    report.files["report plot"] = plot_report(rep, out / "report.png")
    _screenshots(report, say)
    if with_lab:
        from .labs import run_lab

        run_lab("vanishing", solutions_dir=cfg.solutions_dir, out=out / "labs", quick=False)
        report.files["lab: vanishing gradients"] = out / "labs"


# What the demo shows as a person sees it: (page under OUT, screenshot name, width, height in CSS pixels).
SCREENSHOTS = [
    ("report.html", "report.png", 1400, 1350),
    ("report.html", "report-full.png", 1400, 4200),
    ("feedback/bob/a3_attention.html", "feedback-bob-a3_attention.png", 1100, 1100),
    ("feedback/erin/a2_gated.html", "feedback-erin-a2_gated.png", 1100, 900),
]


def _screenshots(report: DemoReport, say) -> None:
    """OUT/screenshots/*.png of the class report and two feedback pages, with a headless Chromium when there
    is one (`make demo` installs Debian's); the demo says so and goes on when there is none."""
    from .errors import SeqgradeError
    from .reporting.screenshots import find_browser, screenshot

    if find_browser() is None:
        say("  screenshots skipped: no Chromium (scripts/install-browser.sh installs Debian's chromium)")
        return
    folder = report.out / "screenshots"
    for page, name, width, height in SCREENSHOTS:
        if not (report.out / page).is_file():
            continue
        try:
            screenshot(report.out / page, folder / name, width, height)
        except SeqgradeError as exc:
            say(f"  screenshot {name} skipped: {exc}")
            continue
    if folder.is_dir():
        report.files["screenshots"] = folder
