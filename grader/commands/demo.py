"""`seqgrade demo`: the whole job end to end on the bundled example class (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import course_option, open_course, table


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-out"),
              show_default=True, help="Where everything is written (replaced if it exists).")
@click.option("--jobs", "-j", "workers", type=click.IntRange(min=0), default=0, help="Grading workers (0: one per core).")
@click.option("--sandbox", type=click.Choice(["bwrap", "none", "auto"]), default="bwrap", show_default=True,
              help="Isolation for student code.")
@click.option("--no-lab", is_flag=True, help="Skip the lab plot.")
@course_option
def demo(out, workers, sandbox, no_lab, course_path):
    """Grade the bundled example class end to end and show where everything went.

    Five example students per assignment: correct code written differently,
    realistic bugs (two at once in a3), a hostile submission, a notebook and
    a late one (with one bug of her own in a2); plus quiz answers. Writes the
    gradebook, feedback (root causes first), exports, the class report
    (report.html, its CSV files, report.png), screenshots of the report and
    of two feedback pages, and a lab plot under OUT.

    \b
    Example:
      seqgrade demo --out demo-out
    """
    from ..demo import run_demo
    from ..reporting.classreport import class_table
    from ..gradebook import Gradebook
    from .report import shared_causes_table

    cfg = open_course(course_path)
    click.secho(f"seqgrade demo: grading the example class of {cfg.name!r}", bold=True)
    report = run_demo(cfg, out, say=click.echo, workers=workers, sandbox=sandbox, with_lab=not no_lab)
    with Gradebook(report.gradebook) as gb:
        headers, rows = class_table(gb)
        click.echo("\n" + table(rows, headers))
    click.echo(shared_causes_table(report.class_report, 8))
    click.secho("\nWhere to look:", bold=True)
    click.echo(f"  gradebook (SQLite)   {report.gradebook}")
    for what, path in report.files.items():
        click.echo(f"  {what:<20} {path}")
    click.echo(f"Next: open {out}/report.html (the class dashboard) or {out}/feedback/<student>/<item>.html")
