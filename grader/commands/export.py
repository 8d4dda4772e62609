"""`seqgrade export`: the gradebook as CSV, JSON, Gradescope results or a Canvas import."""

from __future__ import annotations

from pathlib import Path

import click

from .common import course_option, gradebook_option, open_course, open_gradebook


@click.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "gradescope", "canvas", "all"]),
              default="csv", show_default=True, help="What to write.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("exports"),
              show_default=True, help="The folder to write into.")
@course_option
@gradebook_option
def export(fmt, out, course_path, gradebook_path):
    """Export the gradebook.

    csv: one row per student and item; json: everything, with every check;
    gradescope: OUT/gradescope/<item>/<student>/results.json; canvas: a
    gradebook import CSV with a Points Possible row.

    \b
    Example:
      seqgrade export --format canvas --out exports/
    """
    from ..reporting.export import FORMATS
    from ..reporting.export import export as do_export

    cfg = open_course(course_path)
    with open_gradebook(cfg, gradebook_path) as gb:
        for f in FORMATS if fmt == "all" else [fmt]:
            click.echo(f"{f}: {do_export(gb, f, out)}")
