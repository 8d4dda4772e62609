"""`seqgrade feedback`: a Markdown and an HTML feedback file per student and item."""

from __future__ import annotations

from pathlib import Path

import click

from .common import course_option, gradebook_option, open_course, open_gradebook


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("feedback"),
              show_default=True, help="Writes OUT/<student>/<item>.md and .html.")
@click.option("--item", "items", multiple=True, help="Only these assignments or quizzes (repeatable).")
@click.option("--student", "students", multiple=True, help="Only these students (repeatable).")
@course_option
@gradebook_option
def feedback(out, items, students, course_path, gradebook_path):
    """Write feedback for every graded submission in the gradebook.

    Each page opens with the one to three most likely root causes of the
    failed checks (a diagnosed known bug, or one function failing checks of
    several kinds alike), each with how many checks it explains, then every
    check with its points and message. Hidden checks are named but their
    code and inputs are never shown.

    \b
    Example:
      seqgrade feedback --out feedback/ --item a3_attention
    """
    from ..reporting.facts import CourseFacts
    from ..reporting.feedback import write_feedback

    cfg = open_course(course_path)
    with open_gradebook(cfg, gradebook_path) as gb:
        results = [r for r in gb.results() if (not items or r.item in items)
                   and (not students or r.student in students)]
    titles = {a.id: f"{a.id} — {a.title_en}" for a in cfg.assignments.values()}
    facts = CourseFacts(cfg)
    written = write_feedback(results, out, titles, facts)
    click.echo(f"{len(written)} files for {len(results)} results under {out}/")
    for problem in facts.problems:
        click.echo(f"note: could not read the course's facts for {problem}", err=True)
