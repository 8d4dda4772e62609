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

    Prints one row per check with what to fix (a failed check also shows the
    sizes it used), and exits with 0 only when every check passes. The same
    file name draws the same sizes every time (--seed N draws others). Works
    anywhere inside the course: the course is the nearest folder holding
    course/course.yaml above your file or the current folder. The hidden
    checks your instructor runs are more thorough.

    \b
    Examples:
      seqgrade check a2_gated gated.py        # inside assignments/a2_gated/
      seqgrade check a3_attention assignments/a3_attention/attention.py --seed 7
    """
    from .. import escape

    cfg = open_course(course_path, path)
    a = cfg.assignment(assignment)
    path = student_file(a, path)
    r, seed, caught = run_public_checks(cfg, a, path, seed, sandbox)
    for w in caught:
        click.secho(f"warning: {w}", fg="yellow", err=True)
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


def student_file(a, path: Path | None) -> Path:
    """The student's file of assignment `a`: `path` (a file, or a folder holding it), or the starter file."""
    from .. import escape
    from ..errors import UsageError

    path = path or a.starter_dir / a.filename
    if path.is_dir() and not path.is_symlink():
        if (path / a.filename).exists() or (path / a.filename).is_symlink():
            path = path / a.filename
        else:
            raise UsageError(f"{escape.name(path)} is a folder without {a.filename}: give the path of your "
                             f"{a.filename}")
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{escape.name(path)} does not exist: give the path of your {a.filename}")
    return path


def run_public_checks(cfg, a, path: Path, seed: int | None, sandbox: str):
    """(result, seed, warning texts) of `a`'s public checks on the file at `path`; UsageError when unreadable.

    Without `seed`, the draw depends on the assignment and the file's name only
    (never on the instructor's seed): the same file gets the same sizes each run.
    """
    import warnings

    from .. import escape
    from ..engine.core import grade_jobs
    from ..engine.settings import GradeSettings
    from ..errors import UsageError
    from ..jobs import Job
    from ..submissions import read_student_file

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
    return results[0], seed, [str(w.message) for w in caught]
