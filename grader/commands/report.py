"""`seqgrade report`: the class table, the bugs the class shares; the HTML dashboard and the PNG."""

from __future__ import annotations

from pathlib import Path

import click

from .common import course_option, gradebook_option, open_course, open_gradebook, table


@click.command()
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the class dashboard to this HTML page (self-contained), with its numbers as CSV "
                   "files beside it.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the heatmap, the score distributions and the most common bugs into this PNG.")
@click.option("--top", type=int, default=15, show_default=True, help="How many shared root causes to list.")
@course_option
@gradebook_option
def report(html_out, plot, top, course_path, gradebook_path):
    """Print the class table (students x assignments and quizzes) and the bugs the class shares.

    Each student's failed checks are grouped into root causes (a diagnosed
    known bug, or one function failing checks of several kinds alike);
    the causes the most students share are listed with who has them.

    \b
    Examples:
      seqgrade report --html report.html
      seqgrade report --plot report.png
    """
    from ..reporting import classdata
    from ..reporting.classreport import class_table, notes, plot_report
    from ..reporting.dashboard import write_dashboard
    from ..reporting.facts import CourseFacts

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
        rep = classdata.build(gb.results(), CourseFacts(cfg))
    click.echo(shared_causes_table(rep, top))
    for problem in rep.problems:
        click.echo(f"note: could not read the course's facts for {problem}", err=True)
    if html_out:
        files = write_dashboard(rep, html_out, title=f"{cfg.name}: class report")
        click.echo(f"\ndashboard: {files['html']} (CSV beside it: "
                   + ", ".join(p.name for what, p in files.items() if what != "html") + ")")
    if plot:
        click.echo(f"plot: {plot_report(rep, plot)}")


def shared_causes_table(rep, top: int) -> str:
    """The root causes the most students share, as a terminal table (student text made visible)."""
    from .. import escape

    causes = [c for c in rep.causes if c.kind != "problem"][:top]
    if not causes:
        return "\nNo failed checks: nothing to group."
    rows = [[c.item, escape.one_line(c.key.split(":", 1)[-1] if c.kind == "bug" else c.title, 60),
             escape.one_line(c.title if c.kind == "bug" else c.kind, 60), str(len(c.students)),
             escape.one_line(", ".join(c.students), 50), str(c.checks)] for c in causes]
    return ("\nMost common bugs (each student's failed checks grouped into root causes):\n"
            + table(rows, ["item", "cause", "what", "students", "who", "failed checks"]))
