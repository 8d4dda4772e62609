"""`seqgrade quiz ...`: validate, lint, take, render, grade, review, key, report and schema.

Each command only reads options, calls the library and prints; problems are
raised as `QuizError` (exit code 6) and printed by `grader.cli.main`.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from ..config import CourseConfig, load_config
from ..errors import QuizError, UsageError

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
DEFAULT_SECRET = CourseConfig.secret

course_option = click.option(
    "--course", "course", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The course config (default: course/course.yaml); gives the languages, the secret and the gradebook.")
lang_option = click.option(
    "--lang", type=click.Choice(["en", "zh"]), default=None,
    help="Language of the questions and messages (default: the course's first language).")
student_option = click.option("--student", "student", required=True, metavar="ID",
                              help="The student's id (letters, digits, _ . @ -): keys their numbers and order.")


def _config(course: Path | None) -> CourseConfig:
    """The course of --course, else the nearest course/course.yaml at or above the current folder (else defaults)."""
    from ..courseroot import course_config

    return load_config(course_config(course, required=False))


def _lang(cfg: CourseConfig, lang: str | None) -> str:
    if lang:
        return lang
    return next((x for x in cfg.languages if x in ("en", "zh")), "en")


def _student(student: str) -> str:
    if not STUDENT_ID.match(student):
        raise UsageError(f"{student!r} is not a usable student id: use letters, digits and _ . @ - "
                         "(it names the answers file)")
    return student


def _warn_secret(cfg: CourseConfig) -> None:
    if cfg.secret == DEFAULT_SECRET:
        click.secho("warning: no course secret is set, so anyone can compute every student's numbers; "
                    "set `secret:` in course.yaml or $SEQGRADE_SECRET", fg="yellow", err=True)


def _find(name: str, cfg: CourseConfig) -> Path:
    """The quiz file `name` (a file or an id); outside any course, the error says how to find one."""
    from ..courseroot import NOT_FOUND
    from .loader import find_quiz_file

    try:
        return find_quiz_file(name, cfg.quizzes_dir)
    except QuizError as exc:
        if cfg.source is None:  # no course/course.yaml here or above: that is the thing to fix
            raise QuizError(f"no quiz {name!r} found: " + NOT_FOUND.format(where=Path.cwd())) from None
        raise


def _quiz(name: str, cfg: CourseConfig):
    """The instructor's quiz (with its key); a bundle's question file is refused with what to do."""
    from .loader import load_quiz
    from .public import is_question_file

    path = _find(name, cfg)
    if is_question_file(path):
        raise QuizError(f"{path} is a student bundle's question file, without answers: grading, keys, reviews "
                        "and reports need the instructor's quiz file (course/quizzes/ in the course repository)")
    return load_quiz(path, cfg.languages)


def _for_student(name: str, cfg: CourseConfig, student: str):
    """(quiz, the student's version, whether it came from a bundle's question file) for take and render."""
    from .public import is_question_file, load_question_file
    from .variants import student_version

    path = _find(name, cfg)
    if is_question_file(path):
        public = load_question_file(path)
        return public.quiz, public.version(student), True
    q = _quiz(str(path), cfg)
    _warn_secret(cfg)
    return q, student_version(q, student, cfg.secret), False


def _question_files(paths: list[Path]) -> list[Path]:
    """`paths` without a bundle's question files (said on stderr: they hold no key to check)."""
    from .public import is_question_file

    kept = []
    for p in paths:
        if is_question_file(p):
            click.echo(f"{p}: a student bundle's question file (no answers): nothing to check", err=True)
        else:
            kept.append(p)
    return kept


@click.group()
def quiz() -> None:
    """Q&A quizzes written in YAML: check, take, render and grade them.

    \b
    Examples:
      seqgrade quiz validate course/quizzes/*.yaml
      seqgrade quiz lint                       # can a student who knows nothing pass?
      seqgrade quiz take q2_gated --student alice
      seqgrade quiz render q2_gated --student alice --out handouts/
      seqgrade quiz grade q2_gated answers/q2_gated/
      seqgrade quiz review q2_gated            # grade the free answers by hand
    A quiz is named by its file or by its id (found in course/quizzes/).
    The format is described in docs/quizzes.md.
    """


@quiz.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@course_option
def validate(files: tuple[Path, ...], course: Path | None) -> None:
    """Check quiz files; list every problem as file:line:column: message.

    Without FILES, checks every quiz in the course's quizzes folder; a folder
    given as FILE means its *.yaml files. Exits with 0 only when every file is
    valid (6 otherwise).

    \b
    Example:
      seqgrade quiz validate course/quizzes/q1_rnn_basics.yaml
    """
    from .loader import check_quiz_files

    cfg = _config(course)
    paths = []
    for f in files or (cfg.quizzes_dir,):
        paths += sorted(f.glob("*.yaml")) if f.is_dir() else [f]
    if not paths:
        raise QuizError(f"no quiz files in {cfg.quizzes_dir}; name the files to check")
    paths = _question_files(paths)
    if not paths:
        return
    from .lint import lint_quiz
    from .loader import check_quiz_file

    results = check_quiz_files(paths, cfg.languages)
    bad = 0
    for path, problems in results.items():
        for p in problems:
            click.echo(str(p))
        if problems:
            bad += 1
        else:
            click.echo(f"{path}: ok", err=True)
            quiz, _ = check_quiz_file(path, cfg.languages)
            for w in lint_quiz(quiz, cfg.languages).problems:
                click.echo(f"{w.file}:{w.line}:{w.column}: warning: {w.message}", err=True)
    total = sum(len(p) for p in results.values())
    if bad:
        raise QuizError(f"{total} problem(s) in {bad} of {len(paths)} quiz file(s)")
    click.echo(f"{len(paths)} quiz file(s) valid", err=True)


@quiz.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@course_option
def lint(files: tuple[Path, ...], course: Path | None) -> None:
    """Measure how far test-taking strategies get a student who knows nothing.

    For each quiz: the score of picking the longest option, the shortest, the
    one sharing most words with the prompt, a fixed position, always true,
    always false, and all options of a multiple-choice question, against
    chance (each may beat it by 10 percentage points at most); option lengths
    balanced per question; 40-60% of true/false answers true; no question
    showing another's answer; short answers proven by at least 6 accept and 6
    reject examples per language; at least one free question. Without FILES,
    lints every quiz of the course. Exits with 6 when a problem is found.

    \b
    Example:
      seqgrade quiz lint
      seqgrade quiz lint course/quizzes/q3_attention.yaml
    """
    from .lint import format_report, lint_quiz
    from .loader import check_quiz_file

    cfg = _config(course)
    paths = []
    for f in files or (cfg.quizzes_dir,):
        paths += sorted(f.glob("*.yaml")) if f.is_dir() else [f]
    if not paths:
        raise QuizError(f"no quiz files in {cfg.quizzes_dir}; name the files to lint")
    paths = _question_files(paths)
    problems = 0
    for path in paths:
        quiz, invalid = check_quiz_file(path, cfg.languages)
        if quiz is None:
            for p in invalid:
                click.echo(str(p))
            problems += len(invalid)
            continue
        report = lint_quiz(quiz, cfg.languages)
        click.echo(f"{path}")
        for line in format_report(report):
            click.echo(line)
        for p in report.problems:
            click.echo(f"  {p}")
        click.echo(f"  {'ok' if report.ok else f'{len(report.problems)} problem(s)'}\n")
        problems += len(report.problems)
    if problems:
        raise QuizError(f"{problems} lint problem(s) in {len(paths)} quiz file(s)")
    click.echo(f"{len(paths)} quiz file(s) pass the lint", err=True)


@quiz.command()
@click.argument("quiz_file", metavar="FILE")
@student_option
@lang_option
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the answers (default: ./<ID>.yaml). Existing answers there are kept as a start.")
@course_option
def take(quiz_file: str, student: str, lang: str | None, output: Path | None, course: Path | None) -> None:
    """Take a quiz in the terminal; writes the answers file after every answer.

    Press Enter on an empty line to skip a question. In a student bundle the
    quiz is its question file (course/quizzes/<id>.yaml, no answers); your
    numbers come from your student id, so always give your own.

    \b
    Example:
      seqgrade quiz take q1_rnn_basics --student alice --lang zh
    """
    import yaml

    from .take import save_answers, take_quiz

    cfg = _config(course)
    student = _student(student)
    q, version, _ = _for_student(quiz_file, cfg, student)
    out = output or Path(f"{student}.yaml")
    start = {}
    if out.exists():
        try:
            loaded = yaml.safe_load(out.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise QuizError(f"{out} exists and is not valid YAML ({exc}); move it aside first") from exc
        start = loaded if isinstance(loaded, dict) else {}
    answers = take_quiz(q, student, cfg.secret, _lang(cfg, lang),
                        ask=lambda prompt: click.prompt(prompt, default="", show_default=False),
                        say=click.echo, answers=start, save=lambda a: save_answers(out, a), version=version)
    save_answers(out, answers)
    click.echo(f"{len(answers)} answer(s) saved to {out}")


@quiz.command()
@click.argument("quiz_file", metavar="FILE")
@click.option("--student", "students", required=True, multiple=True, metavar="ID",
              help="The student's id; repeat for several students.")
@lang_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder for <quiz>-<ID>.md and <quiz>-<ID>.ipynb.")
@course_option
def render(quiz_file: str, students: tuple[str, ...], lang: str | None, out_dir: Path, course: Path | None) -> None:
    """Write a student's version (their numbers and option order) as Markdown and as a notebook.

    Holds no answers, explanations or keys: safe to hand out. Works in a
    student bundle too (from the quiz's question file).

    \b
    Example:
      seqgrade quiz render q3_attention --student alice --student bob --out handouts/
    """
    from .render import write_rendered

    cfg = _config(course)
    for s in students:
        q, version, _ = _for_student(quiz_file, cfg, _student(s))
        for path in write_rendered(q, s, cfg.secret, _lang(cfg, lang), out_dir, version):
            click.echo(str(path))


@quiz.command()
@click.argument("quiz_file", metavar="FILE")
@click.argument("answers_dir", metavar="ANSWERS_DIR", type=click.Path(path_type=Path))
@click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The gradebook to record into (default: the course's).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
              help="Language of the feedback (default: the course's first language).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every result as JSON to this file.")
@click.option("--times", "times_file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Submission times exported from your platform (CSV student,item,submitted_at) for the late "
                   "policy, instead of course.yaml's submission_time.")
@course_option
def grade(quiz_file: str, answers_dir: Path, gradebook: Path | None, lang: str | None, json_out: Path | None,
          times_file: Path | None, course: Path | None) -> None:
    """Grade a folder of answers files (<student_id>.yaml) into the gradebook.

    Each file maps question ids to answers. A file with problems (unknown ids,
    answers of the wrong type, not YAML) gives that student an error; the rest
    of the class is graded. Points and options come from the quiz only. When
    course.yaml gives the quiz a due date, the late policy applies to each
    file's submission time from course.yaml's submission_time (by default the
    first time seqgrade saw that answers file; never its modification time
    unless asked for).

    \b
    Example:
      seqgrade quiz grade q1_rnn_basics course/examples/quiz_answers/q1_rnn_basics/
    """
    from .. import escape
    from ..gradebook import Gradebook
    from .answers import collect_answers
    from .review import grade_with_reviews, pending
    from .reviewstore import ReviewStore

    cfg = _config(course)
    q = _quiz(quiz_file, cfg)
    _warn_secret(cfg)
    from .recording import record_quiz_results

    answers = collect_answers(answers_dir)
    import warnings

    from ..times import SubmissionClock

    with Gradebook(gradebook or cfg.gradebook) as gb, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = grade_with_reviews(q, answers, cfg.secret, _lang(cfg, lang), gb.path)
        record_quiz_results(answers, results, cfg, gb, SubmissionClock(cfg, gb, times_file=times_file))
        with ReviewStore(gb.path) as store:
            waiting = len(pending(q, store))
    for w in caught:
        click.secho(f"warning: {w.message}", fg="yellow", err=True)
    names = {r.student: escape.one_line(r.student, 40) for r in results}
    width = max(len(n) for n in names.values())
    for r in results:
        line = f"{names[r.student]:<{width}}  {r.score:g}/{r.max_score:g}"
        click.echo(line + ("  (problems, see below)" if r.error else ""))
    errors = [r for r in results if r.error]
    for r in errors:
        click.secho(f"{names[r.student]}:", fg="yellow", err=True)
        for msg in r.error.splitlines():
            click.echo(f"  {escape.terminal(msg)}", err=True)
    if json_out:
        from ..results_schema import run_document

        json_out.write_text(json.dumps(run_document(q.id, "quiz", results, checks_version=q.sha256),
                                       ensure_ascii=False, indent=1), encoding="utf-8")
    click.echo(f"graded {len(results)} student(s) into {gradebook or cfg.gradebook}"
               + (f"; {len(errors)} with problems" if errors else ""), err=True)
    if waiting:
        click.echo(f"{waiting} free answer(s) await review by a grader: seqgrade quiz review {q.id}", err=True)


@quiz.command()
@click.argument("quiz_file", metavar="FILE")
@click.option("--student", "students", multiple=True, metavar="ID", help="Review only this student's answers (repeatable).")
@click.option("--question", "questions", multiple=True, metavar="QID",
              help="Review only this free question (repeatable).")
@click.option("--again", is_flag=True, help="Also show answers already reviewed (to change a decision).")
@click.option("--reviewer", default=None, metavar="NAME", help="Your name, kept with each decision (default: $USER).")
@click.option("--from", "from_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Record decisions written in a YAML file instead of asking (see docs/quizzes.md).")
@click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The gradebook (default: the course's).")
@lang_option
@course_option
def review(quiz_file: str, students: tuple[str, ...], questions: tuple[str, ...], again: bool,
           reviewer: str | None, from_file: Path | None, gradebook: Path | None, lang: str | None,
           course: Path | None) -> None:
    """Grade the free answers by hand, one at a time, with the rubric.

    Shows each answer that awaits review (student, question, the answer, the
    rubric with items suggested by keyword hints, the model answer), asks
    which rubric items it meets and for a comment, and records the score in
    the gradebook at once. Stop any time (q, or Ctrl-D): the next run resumes
    with the answers not yet reviewed. Run `seqgrade quiz grade` first: it
    files the answers.

    \b
    Examples:
      seqgrade quiz review q1_rnn_basics
      seqgrade quiz review q1_rnn_basics --student bob --again
      seqgrade quiz review q1_rnn_basics --from reviews.yaml
    """
    from ..gradebook import Gradebook
    from .review import apply, default_reviewer, import_reviews, pending, queue, review_session, session_input
    from .reviewstore import ReviewStore

    cfg = _config(course)
    q = _quiz(quiz_file, cfg)
    language = _lang(cfg, lang)
    who = reviewer or default_reviewer()
    path = gradebook or cfg.gradebook
    if not Path(path).exists():
        raise QuizError(f"no gradebook at {path}; grade the quiz first (seqgrade quiz grade {q.id} ANSWERS_DIR)")
    with Gradebook(path) as gb, ReviewStore(gb.path) as store:
        if from_file is not None:
            done = import_reviews(q, from_file, store, who)
            for r in done.saved:
                apply(gb, q, r, language)
            click.echo(f"recorded {len(done.saved)} review(s) from {from_file}")
            if done.problems:
                for msg in done.problems:
                    click.echo(f"  {msg}", err=True)
                raise QuizError(f"{len(done.problems)} decision(s) in {from_file} could not be recorded")
            return
        items = queue(q, store, students, questions, again)
        if not items:
            left = len(pending(q, store))
            click.echo(f"nothing to review in {q.id}" + (" with these filters" if left else "")
                       + ("" if store.for_quiz(q.id) else f"; grade the answers first (seqgrade quiz grade {q.id} "
                                                           "ANSWERS_DIR)"))
            return
        click.echo(f"{q.id}: {len(items)} answer(s) to review\n")

        def save(r, met, comment):
            saved = store.save(r, met, comment, who)
            apply(gb, q, saved, language)
            return saved

        summary = review_session(q, items, ask=session_input(lambda p: click.prompt(p, default="", show_default=False)),
                                 say=click.echo, save=save, lang=language)
        left = len(pending(q, store))
    click.echo(f"reviewed {len(summary.reviewed)}, skipped {summary.skipped}; {left} answer(s) of {q.id} await review"
               + (" (run the same command to resume)" if left else ""))


@quiz.command()
@click.argument("quiz_file", metavar="FILE")
@student_option
@course_option
def key(quiz_file: str, student: str, course: Path | None) -> None:
    """Print the answers that earn a student full marks (for instructors; keep it private).

    \b
    Example:
      seqgrade quiz key q2_gated --student alice > alice.yaml
    """
    import yaml

    from .grading import answer_key

    cfg = _config(course)
    q = _quiz(quiz_file, cfg)
    _warn_secret(cfg)
    click.echo(yaml.safe_dump(answer_key(q, _student(student), cfg.secret), allow_unicode=True, sort_keys=False),
               nl=False)


@quiz.command()
@click.argument("quiz_file", metavar="FILE")
@click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The gradebook to read (default: the course's).")
@course_option
def report(quiz_file: str, gradebook: Path | None, course: Path | None) -> None:
    """Show how the class did per concept tag (weakest first) and per question.

    \b
    Example:
      seqgrade quiz report q3_attention
    """
    from ..gradebook import Gradebook
    from .report import concept_report, question_report

    cfg = _config(course)
    q = _quiz(quiz_file, cfg)
    path = gradebook or cfg.gradebook
    if not Path(path).exists():
        raise QuizError(f"no gradebook at {path}; grade the quiz first (seqgrade quiz grade ...)")
    with Gradebook(path) as gb:
        results = gb.results(item=q.id, kind="quiz")
    if not results:
        raise QuizError(f"no graded answers for {q.id} in {path}; grade the quiz first")
    click.echo(f"{q.id}: {len(results)} student(s)")
    click.echo("concept                 mean  questions")
    for s in concept_report(q, results):
        click.echo(f"{s.tag:<22} {s.mean:>5.0%}  {', '.join(s.questions)}")
    click.echo("")
    click.echo("question                mean  errors")
    for s in question_report(q, results):
        click.echo(f"{s.question:<22} {s.mean:>5.0%}  {s.errors}")


@quiz.command()
def schema() -> None:
    """Print the quiz JSON Schema (for editors: save it and point yaml.schemas at it).

    \b
    Example:
      seqgrade quiz schema > quiz.schema.json
    """
    from .schema import schema_text

    sys.stdout.write(schema_text())
