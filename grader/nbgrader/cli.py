"""``seqgrade nbgrader ...``: the course as nbgrader notebooks, graded safely.

Only option parsing and printing live here; the work is in `init`, `autograde` and `archives`.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..commands.common import course_option, fmt_points, table
from ..errors import SeqgradeError


@click.group("nbgrader")
def nbgrader() -> None:
    """Run the course on nbgrader (JupyterHub): notebooks in, nbgrader's gradebook out.

    \b
    Example: the instructor workflow (see docs/deployment-jupyterhub.md):
      seqgrade nbgrader init course-nb                 # source notebooks + nbgrader_config.py
      cd course-nb
      nbgrader generate_assignment a1_rnn
      nbgrader release_assignment a1_rnn
      ...students fetch, work, submit...
      nbgrader collect a1_rnn
      seqgrade nbgrader collect-archives a1_rnn DIR    # and/or: `seqgrade submit` archives handed in
      seqgrade nbgrader autograde a1_rnn               # not `nbgrader autograde`: see below
      nbgrader generate_feedback a1_rnn && nbgrader export

    `nbgrader autograde` also works on these notebooks, but it runs the tests in
    the student's own kernel, where the student's code can patch them.
    """


@nbgrader.command("init")
@click.argument("course_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--assignment", "assignments", multiple=True, metavar="ID",
              help="Make this assignment's notebook (repeat for several). Default: every assignment with "
                   "checks and every quiz.")
@click.option("--quiz", "quizzes", multiple=True, metavar="ID",
              help="Make this quiz's notebook (repeat for several).")
@click.option("--checks", "check_patterns", multiple=True, metavar="PATTERN",
              help="Only the checks whose names match this shell pattern, e.g. 'test_rnncell*' (repeat for "
                   "several). Default: every check.")
@click.option("--course-id", default="seqgrade", show_default=True,
              help="nbgrader's course id (students' nbgrader config must name the same).")
@click.option("--exchange", default="/srv/nbgrader/exchange", show_default=True,
              help="nbgrader's exchange root, shared by the instructor and the students.")
@click.option("--timeout", type=click.IntRange(min=1), default=120, show_default=True,
              help="Seconds one cell may run under `nbgrader autograde` (Execute.timeout).")
@click.option("--seed", type=int, help="Seed of the in-kernel checks' random sizes (default: drawn).")
@click.option("--force", is_flag=True, help="Replace existing source notebooks and nbgrader_config.py.")
@course_option
def init(course_dir, assignments, quizzes, check_patterns, course_id, exchange, timeout, seed, force,
         course_path):
    """Make COURSE_DIR an nbgrader course folder with the course's notebooks.

    Writes nbgrader_config.py (SQLite gradebook, exchange root, cell time
    limit), source/<assignment>/<module>.ipynb for each assignment (solution
    cells from solutions/, one test cell per check) and source/<quiz>/<quiz>.ipynb
    for each quiz, and the due dates of course.yaml into the gradebook.

    \b
    Example:
      seqgrade nbgrader init ~/course-nb --assignment a1_rnn --quiz q1_rnn_basics
    """
    from ..config import load_config
    from .init import init_course

    cfg = load_config(course_path)
    report = init_course(course_dir, cfg, assignments=assignments, quizzes=quizzes,
                         check_patterns=check_patterns, course_id=course_id, exchange=exchange, timeout=timeout,
                         force=force, seed=seed)
    for item_id, what in report.items.items():
        click.echo(f"  {item_id:<28} {what}")
    for note in report.skipped:
        click.echo(f"  skipped {note}")
    if report.config_kept:
        click.echo(f"kept the existing {report.course_dir / 'nbgrader_config.py'} (--force replaces it)")
    click.echo(f"wrote {len(report.written)} files under {report.course_dir}")
    click.echo(f"next: cd {report.course_dir} && nbgrader generate_assignment {next(iter(report.items))}")


@nbgrader.command("autograde")
@click.argument("assignment")
@click.option("--student", "students", multiple=True, metavar="ID",
              help="Grade only this student's submission (repeat for several). Default: every collected one.")
@click.option("--course-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              show_default=True, help="The nbgrader course folder made by `seqgrade nbgrader init`.")
@click.option("--force", is_flag=True, help="Grade again submissions that are already autograded.")
@click.option("--jobs", "-j", "workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Grading workers; 0 means one per core.")
@click.option("--sandbox", type=click.Choice(["bwrap", "none", "auto"]), default="bwrap", show_default=True,
              help="Isolation for student code: bwrap (bubblewrap; fails when it cannot run), or none (no "
                   "isolation: only for code you trust). auto is bwrap.")
@click.option("--seed", type=int, help="Draw the checks' random sizes from this seed (to reproduce a run).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON to this file.")
def autograde(assignment, students, course_dir, force, workers, sandbox, seed, json_path):
    """Grade ASSIGNMENT's collected submissions with seqgrade, into nbgrader's gradebook.

    The student's code runs in seqgrade's sandbox, never in the process or
    kernel that runs the checks, so it cannot patch them, rewrite test cells or
    read the hidden tests. Each test cell's score goes into nbgrader's gradebook,
    and autograded/ holds the notebooks with each check's result (hidden tests
    removed), so formgrader, `nbgrader generate_feedback` and `nbgrader export`
    show seqgrade's scores.

    \b
    Example (from the course folder, after `nbgrader collect a1_rnn`):
      seqgrade nbgrader autograde a1_rnn
      seqgrade nbgrader autograde a1_rnn --student alice --force
    """
    import json

    from .autograde import autograde as run_autograde

    click.echo(f"grading {assignment} out of the kernel...")
    run = run_autograde(course_dir, assignment, students=students, force=force, workers=workers,
                        sandbox=sandbox, seed=seed)
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(run.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
    from .. import escape

    rows = []
    for g in run.graded + run.refused:
        lost = [gid for gid, c in g.cells.items() if c.score < c.max_score]
        note = g.error.splitlines()[0] if g.error else ", ".join(lost)
        rows.append([escape.one_line(g.student, 40), f"{fmt_points(g.score)}/{fmt_points(g.max_score)}",
                     ", ".join(sorted({f.kind for f in g.flags})).upper(), escape.one_line(note, 70)])
    if rows:
        click.echo(table(rows, ["student", "score", "flags", "lost points in / error"]))
    for g in run.graded + run.refused:
        for f in g.flags:
            click.secho(f"  {f.kind}: {escape.one_line(g.student, 40)}: {escape.one_line(f.detail, 160)}",
                        fg="red" if f.kind == "tampering" else "yellow")
    if run.refused:
        click.echo(f"{len(run.refused)} submission(s) nbgrader must not read (links, devices, malformed notebooks): "
                   f"recorded as 0 with the reason; {', '.join(escape.one_line(g.student, 40) for g in run.refused)}")
    if run.skipped:
        click.echo(f"{len(run.skipped)} already autograded and unchanged: "
                   f"{', '.join(escape.one_line(s, 40) for s in run.skipped)} (--force grades them again)")
    isolation = next((g.isolation for g in run.graded if g.isolation), "")
    if run.seed is not None:
        click.echo(f"seed {run.seed}; isolation: {isolation or '(no code ran)'}")
    if run.failed:
        raise SeqgradeError("nbgrader could not record these submissions (the others are recorded):\n  "
                            + "\n  ".join(run.failed))


@nbgrader.command("collect-archives")
@click.argument("assignment")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--course-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              show_default=True, help="The nbgrader course folder made by `seqgrade nbgrader init`.")
def collect_archives(assignment, folder, course_dir):
    """Put the `seqgrade submit` archives of FOLDER into submitted/, as `nbgrader collect` would.

    FOLDER holds the archives (each student is the one its manifest names) or
    one folder per student with its archive. Each archive is checked (only the
    manifest and the notebook, its sha256, no links) and its notebook written to
    submitted/STUDENT/ASSIGNMENT/ with the time of collection; a refused one is
    reported with its reason and the others are collected. Exits with 1 when
    some archive was not collected.

    \b
    Example (from the course folder):
      seqgrade nbgrader collect-archives a1_rnn ~/handed-in/a1_rnn/
      seqgrade nbgrader autograde a1_rnn
    """
    from .. import escape
    from .archives import collect_archives as run_collect

    done = run_collect(course_dir, assignment, folder)
    click.echo(f"collected {len(done.collected)} archive(s) of {assignment}"
               + (f": {', '.join(escape.one_line(s, 40) for s in done.collected)}" if done.collected else "")
               + (f"; {len(done.unchanged)} already there and unchanged" if done.unchanged else ""))
    for student, why in done.problems:
        click.secho(f"  not collected: {escape.one_line(student, 40)}: {escape.one_line(why, 300)}", fg="yellow",
                    err=True)
    if done.problems:
        raise SystemExit(1)
