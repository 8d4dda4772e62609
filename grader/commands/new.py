"""`seqgrade new`: scaffold course content (an assignment) from outside the package."""

from __future__ import annotations

import click

from .common import course_option, open_course


@click.group()
def new() -> None:
    """Add content to the course: `seqgrade new assignment ID --module NAME`."""


@new.command("assignment")
@click.argument("assignment_id", metavar="ID")
@click.option("--module", required=True, help="The file students submit, without .py (e.g. bigru).")
@click.option("--title", default="", help="The title in English.")
@click.option("--title-zh", default="", help="The title in Chinese (default: the English one).")
@click.option("--due", default=None, help="The due date, ISO 8601 (e.g. 2026-12-20T23:59:00+00:00).")
@click.option("--force", is_flag=True, help="Replace the scaffold's files if they exist.")
@course_option
def assignment(assignment_id, module, title, title_zh, due, force, course_path):
    """Scaffold assignment ID: a reference with solution markers, example checks of each kind, READMEs,
    the generated starter code, and its entry in course.yaml.

    The reference passes its checks at once; replace the example (a `Scale`
    module) with your own and run `seqgrade release` to regenerate the starter.

    \b
    Example:
      seqgrade new assignment a6_bigru --module bigru --title "A bidirectional GRU encoder"
    """
    from ..release.scaffold import new_assignment

    cfg = open_course(course_path)
    made = new_assignment(cfg, assignment_id, module, title=title, title_zh=title_zh, due=due, force=force)
    for p in made.written:
        click.echo(f"wrote {p.relative_to(cfg.root) if p.is_relative_to(cfg.root) else p}")
    click.echo(f"next: edit solutions/{module}.py and solutions/checks/{assignment_id}/, then `seqgrade release`, "
               f"`seqgrade check {assignment_id} solutions/{module}.py`")
