"""`seqgrade list`: the assignments, their checks, points and visibility."""

from __future__ import annotations

import click

from .common import course_option, fmt_points, open_course, table


@click.command("list")
@click.option("--checks/--no-checks", default=True, show_default=True, help="List each assignment's checks.")
@course_option
def list_command(checks, course_path):
    """List the assignments and quizzes, with every check's points and visibility.

    In a student bundle (no hidden checks), lists the public checks.

    \b
    Example:
      seqgrade list
    """
    from ..checks.inventory import list_checks

    cfg = open_course(course_path)
    for a in cfg.assignments.values():
        hidden = a.hidden_checks.is_dir()  # a student bundle has the public checks only
        found = list_checks(a, cfg, hidden=hidden) if checks else []
        total = sum(c.points for c in found)
        click.secho(f"{a.id}  ({a.filename})  {a.title_en} / {a.title_zh}", bold=True)
        if checks:
            rows = [[c.name, c.visibility, fmt_points(c.points), c.description] for c in found]
            click.echo(table(rows, ["check", "visibility", "points", "what it checks"]))
            what = "" if hidden else " (public checks; your instructor also runs hidden ones)"
            click.echo(f"total: {fmt_points(total)} points{what}\n")
    quizzes = sorted(cfg.quizzes_dir.glob("*.yaml")) if cfg.quizzes_dir.is_dir() else []
    if quizzes:
        click.secho("quizzes", bold=True)
        for q in quizzes:
            click.echo(f"  {q.stem}  ({q.relative_to(cfg.root) if q.is_relative_to(cfg.root) else q})")
