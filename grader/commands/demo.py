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
    a realistic bug, a hostile submission, a notebook and a late one; plus
    quiz answers. Writes the gradebook, feedback, exports, a report plot and
    a lab plot under OUT.

    \b
    Example:
      seqgrade demo --out demo-out
    """
    from ..demo import run_demo
    from ..reporting.classreport import class_table, failure_rates
    from ..gradebook import Gradebook

    cfg = open_course(course_path)
    click.secho(f"seqgrade demo: grading the example class of {cfg.name!r}", bold=True)
    report = run_demo(cfg, out, say=click.echo, workers=workers, sandbox=sandbox, with_lab=not no_lab)
    with Gradebook(report.gradebook) as gb:
        headers, rows = class_table(gb)
        click.echo("\n" + table(rows, headers))
        rates = [s for s in failure_rates(gb) if s.failures][:8]
    if rates:
        click.echo("\nChecks failed most: " + ", ".join(f"{s.item}:{s.check} ({100 * s.rate:.0f}%)" for s in rates))
    click.secho("\nWhere to look:", bold=True)
    click.echo(f"  gradebook (SQLite)   {report.gradebook}")
    for what, path in report.files.items():
        click.echo(f"  {what:<20} {path}")
    click.echo("Next: `seqgrade report --gradebook " f"{report.gradebook}` or open {out}/feedback/<student>/<item>.html")
