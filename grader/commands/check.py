"""`seqgrade check`: a student runs the public checks on their own file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import course_option, fmt_points, open_course, table


@click.command()
@click.argument("assignment")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "none"]), default="auto", show_default=True,
              help="Run your code in bubblewrap when available (auto), always (bwrap) or never (none).")
@click.option("--seed", type=int, help="Draw the checks' sizes from this seed (to compare runs).")
@click.option("--verbose", "-v", is_flag=True, help="Also show what your code printed.")
@course_option
def check(assignment, path, sandbox, seed, verbose, course_path):
    """Run the public checks of ASSIGNMENT on your file (default: its starter file).

    Prints one row per check with what to fix, and exits with 0 only when every
    check passes. The hidden checks your instructor runs are more thorough.

    \b
    Example:
      seqgrade check a3_attention assignments/a3_attention/attention.py
    """
    import warnings

    from .. import escape
    from ..engine.core import grade_jobs
    from ..engine.settings import GradeSettings
    from ..errors import UsageError
    from ..jobs import Job
    from ..submissions import read_student_file

    cfg = open_course(course_path)
    a = cfg.assignment(assignment)
    path = path or a.starter_dir / a.filename
    if path.is_dir() and not path.is_symlink():
        if (path / a.filename).exists() or (path / a.filename).is_symlink():
            path = path / a.filename
        else:
            raise UsageError(f"{escape.name(path)} is a folder without {a.filename}: give the path of your "
                             f"{a.filename}")
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{escape.name(path)} does not exist: give the path of your {a.filename}")
    read = read_student_file(path)
    if read.source is None:
        raise UsageError(read.error)
    if seed is None:
        from ..checks.draw import derive_seed

        seed = derive_seed("seqgrade check", a.id, path.name)  # the same draw each time for this file
    results = []
    settings = GradeSettings(assignment=a.id, seed=seed, course=str(cfg.source) if cfg.source else None,
                             sandbox=sandbox, hidden=False, untrusted=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grade_jobs(settings, [Job("you", a.module, read.source, filename=escape.name(path),
                                  content_hash=read.content_hash)], results.append, inline=True)
    for w in caught:
        click.secho(f"warning: {w.message}", fg="yellow", err=True)
    r = results[0]
    rows = []
    for c in r.checks:
        mark = click.style("PASS", fg="green") if c.passed else click.style(c.status.upper(), fg="red")
        rows.append([c.name, mark, f"{fmt_points(c.score)}/{fmt_points(c.max_score)}",
                     escape.terminal(c.message) if not c.passed else c.description])
    click.echo(table(rows, ["check", "result", "points", "what to fix"]))
    if verbose and r.output:
        click.echo("\nYour code printed:\n" + escape.terminal(r.output))
    for f in r.flags:
        click.secho(f"note: {f.kind} ({escape.one_line(f.where, 80)}): {escape.terminal(f.detail)}", fg="yellow")
    n_pass = sum(c.passed for c in r.checks)
    click.echo(f"\n{n_pass}/{len(r.checks)} public checks pass ({fmt_points(r.raw_score)}/"
               f"{fmt_points(r.max_score)} points). Seed {seed} (--seed to draw others); "
               f"isolation: {r.isolation or 'none'}.")
    sys.exit(0 if n_pass == len(r.checks) and r.checks else 1)
