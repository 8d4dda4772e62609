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
@click.option("--verbose", "-v", is_flag=True, help="Also show what your code printed.")
@course_option
def check(assignment, path, sandbox, verbose, course_path):
    """Run the public checks of ASSIGNMENT on your file (default: its starter file).

    Prints one row per check with what to fix, and exits with 0 only when every
    check passes. The hidden checks your instructor runs are more thorough.

    \b
    Example:
      seqgrade check a3_attention assignments/a3_attention/attention.py
    """
    import warnings

    from ..catalog import get_assignment
    from ..errors import UsageError
    from ..sandbox import launcher

    a = get_assignment(assignment)
    cfg = open_course(course_path)
    path = path or a.starter_dir(cfg) / a.filename
    if path.is_dir():
        if (path / a.filename).is_file():
            path = path / a.filename
        else:
            raise UsageError(f"{path} is a folder without {a.filename}: give the path of your {a.filename}")
    if not path.is_file():
        raise UsageError(f"{path} does not exist: give the path of your {a.filename}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    if path.suffix == ".ipynb":
        from ..engine.submissions import notebook_to_module

        try:
            text = notebook_to_module(text, str(path))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        policy = launcher.resolve_policy(sandbox)
        launched = launcher.launch(policy)  # the sandbox imports torch while this process does too
        from ..checks.plugin import Job
        from ..engine.session import run_session
        from ..sandbox.client import Sandbox

        sb = Sandbox(policy)
        sb.adopt(launched)
        try:
            run_session(a, [Job("you", a.module, text, filename=str(path))], results.append, cfg=cfg,
                        hidden=False, sandbox=sb)
        finally:
            sb.close()
    for w in caught:
        click.secho(f"warning: {w.message}", fg="yellow", err=True)
    r = results[0]
    rows = []
    for c in r.checks:
        mark = click.style("PASS", fg="green") if c.passed else click.style(c.status.upper(), fg="red")
        rows.append([c.name, mark, f"{fmt_points(c.score)}/{fmt_points(c.max_score)}",
                     c.message if not c.passed else c.description])
    click.echo(table(rows, ["check", "result", "points", "what to fix"]))
    if verbose and r.output:
        click.echo("\nYour code printed:\n" + r.output)
    n_pass = sum(c.passed for c in r.checks)
    click.echo(f"\n{n_pass}/{len(r.checks)} public checks pass ({fmt_points(r.raw_score)}/"
               f"{fmt_points(r.max_score)} points).")
    sys.exit(0 if n_pass == len(r.checks) and r.checks else 1)
