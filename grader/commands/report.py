"""`seqgrade report`: the class table and the checks the class failed most."""

from __future__ import annotations

from pathlib import Path

import click

from .common import course_option, gradebook_option, open_course, open_gradebook, table


@click.command()
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the score histogram and failure rates into this PNG.")
@click.option("--top", type=int, default=15, show_default=True, help="How many failure rates to list.")
@course_option
@gradebook_option
def report(plot, top, course_path, gradebook_path):
    """Print the class table (students x assignments and quizzes) and per-check failure rates.

    \b
    Example:
      seqgrade report --plot report.png
    """
    from ..reporting.classreport import class_table, failure_rates, notes, plot_report

    cfg = open_course(course_path)
    with open_gradebook(cfg, gradebook_path) as gb:
        headers, rows = class_table(gb)
        if len(rows) <= 1:
            click.echo(f"The gradebook {gb.path} is empty: grade something first (seqgrade grade ...).")
            return
        click.echo(table(rows, headers))
        found = notes(gb)
        if found:
            click.echo("\nExtensions, lateness and flags:")
            click.echo(table(found, ["student", "item", "note"]))
        rates = [s for s in failure_rates(gb) if s.failures][:top]
        if rates:
            click.echo("\nChecks the class failed most (what to teach again):")
            click.echo(table([[s.item, s.check, f"{100 * s.rate:.0f}%", f"{s.failures}/{s.attempts}",
                               s.description[:60]] for s in rates],
                             ["item", "check", "failing", "students", "what it checks"]))
        if plot:
            click.echo(f"\nplot: {plot_report(gb, plot)}")
