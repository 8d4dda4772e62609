"""`seqgrade grade`: every check, public and hidden, on every submission of a class."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import course_option, fmt_points, gradebook_option, open_course, open_gradebook, table


@click.command()
@click.argument("assignment")
@click.argument("submissions_dir", type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON to this file.")
@click.option("--jobs", "-j", "workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Grading workers; 0 means one per core.")
@click.option("--regrade", is_flag=True, help="Grade again even what is unchanged since it was graded.")
@click.option("--seed", type=int, help="Draw the checks' random sizes from this seed (to reproduce a run).")
@click.option("--sandbox", type=click.Choice(["bwrap", "none", "auto"]), default="bwrap", show_default=True,
              help="Isolation for student code: bwrap (bubblewrap; fails when it cannot run), or none (no "
                   "isolation: only for code you trust). auto is bwrap.")
@click.option("--times", "times_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Submission times exported from your platform (CSV student,item,submitted_at): the late "
                   "policy uses them instead of course.yaml's submission_time.")
@click.option("--scheduler", help="Grade on this Dask cluster (tcp://host:8786) instead of locally.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or table; errors only.")
@course_option
@gradebook_option
def grade(assignment, submissions_dir, json_path, workers, regrade, seed, sandbox, times_file, scheduler, quiet,
          course_path, gradebook_path):
    """Grade every submission of ASSIGNMENT in SUBMISSIONS_DIR (one folder per student).

    Each student folder holds the assignment's module (e.g. alice/attention.py)
    or one notebook (alice/attention.ipynb: its code cells are the module).
    Results are committed to the gradebook as each submission finishes, so an
    interrupted run loses nothing; running again grades only what changed.

    \b
    Example:
      seqgrade grade a3_attention submissions/ --json results.json
    """
    import warnings

    from .. import escape
    from ..engine.grading import GradeOptions, grade_class

    cfg = open_course(course_path)
    a = cfg.assignment(assignment)
    options = GradeOptions(workers=workers, regrade=regrade, seed=seed, sandbox=sandbox,
                           scheduler=scheduler or cfg.scheduler, times_file=times_file)
    state = {"bar": None, "failed": 0, "errors": 0}

    def on_start(n_todo: int, n_skipped: int) -> None:
        if quiet:
            return
        if n_skipped:
            click.echo(f"{n_skipped} submission(s) unchanged since graded: kept (use --regrade to grade again)")
        if n_todo:
            state["bar"] = click.progressbar(length=n_todo, label=f"grading {a.id}", show_pos=True,
                                             item_show_func=lambda _: _status(state), file=None)
            state["bar"].__enter__()

    def on_result(r) -> None:
        if any(c.status in ("error", "timeout") for c in r.checks) or r.error:
            state["errors"] += 1
        elif r.raw_score < r.max_score:
            state["failed"] += 1
        if state["bar"] is not None:
            state["bar"].update(1, r.student)

    with open_gradebook(cfg, gradebook_path) as gb, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run = grade_class(a, submissions_dir, cfg, gb, options, on_start, on_result)
        finally:
            if state["bar"] is not None:
                state["bar"].__exit__(None, None, None)
            for w in caught:
                click.secho(f"warning: {w.message}", fg="yellow", err=True)
    if json_path:
        try:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(run.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
        except OSError as exc:
            from ..errors import UsageError

            raise UsageError(f"cannot write the JSON results to {json_path}: {exc.strerror}. Every result is "
                             "in the gradebook: run `seqgrade export --format json` or grade again with "
                             "another --json path (unchanged submissions are not graded again).") from exc
    if not quiet:
        rows = []
        for r in run.results:
            failed = [c.name for c in r.checks if c.status != "passed"]
            note = r.error or (", ".join(failed[:3]) + (" ..." if len(failed) > 3 else ""))
            late = f"-{r.late_penalty:.0%}" if r.late_penalty else ""
            flags = ", ".join(sorted({f.kind for f in r.flags}))
            rows.append([escape.one_line(r.student, 40), f"{fmt_points(r.score)}/{fmt_points(r.max_score)}", late,
                         flags.upper(), escape.one_line(note, 70)])
        click.echo(table(rows, ["student", "score", "late", "flags", "failed checks / error"]))
        flagged = [r for r in run.results if r.flags]
        for r in flagged:
            for f in r.flags:
                click.secho(f"  {f.kind}: {escape.one_line(r.student, 40)}: {escape.one_line(f.detail, 160)}",
                            fg="red" if f.kind == "tampering" else "yellow")
        isolation = run.isolation or "(no code ran)"
        click.echo(f"\n{run.graded} graded, {run.skipped} unchanged; {state['failed']} lost points, "
                   f"{state['errors']} had errors or timeouts; {len(flagged)} flagged. Seed {run.seed}. "
                   f"Isolation: {isolation}.")
        if run.isolation == "none":
            click.secho("warning: student code ran WITHOUT isolation (--sandbox none)", fg="red", err=True)
        if json_path:
            click.echo(f"JSON written to {json_path}")


def _status(state) -> str:
    return f"failed {state['failed']}  errors {state['errors']}"
