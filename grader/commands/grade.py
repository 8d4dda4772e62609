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
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "none"]), default="auto", show_default=True,
              help="Isolation for student code: bwrap (bubblewrap), none, or auto (bwrap when it works).")
@click.option("--scheduler", help="Grade on this Dask cluster (tcp://host:8786) instead of locally.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or table; errors only.")
@course_option
@gradebook_option
def grade(assignment, submissions_dir, json_path, workers, regrade, seed, sandbox, scheduler, quiet,
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
    from ..catalog import get_assignment
    from ..engine.grading import GradeOptions, grade_class

    a = get_assignment(assignment)
    cfg = open_course(course_path)
    options = GradeOptions(workers=workers, regrade=regrade, seed=seed, sandbox=sandbox,
                           scheduler=scheduler or cfg.scheduler)
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

    with open_gradebook(cfg, gradebook_path) as gb:
        try:
            run = grade_class(a, submissions_dir, cfg, gb, options, on_start, on_result)
        finally:
            if state["bar"] is not None:
                state["bar"].__exit__(None, None, None)
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
            rows.append([r.student, f"{fmt_points(r.score)}/{fmt_points(r.max_score)}", late, note[:70]])
        click.echo(table(rows, ["student", "score", "late", "failed checks / error"]))
        click.echo(f"\n{run.graded} graded, {run.skipped} unchanged; {state['failed']} lost points, "
                   f"{state['errors']} had errors or timeouts. Seed {run.seed}.")
        if json_path:
            click.echo(f"JSON written to {json_path}")


def _status(state) -> str:
    return f"failed {state['failed']}  errors {state['errors']}"
