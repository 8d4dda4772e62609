"""`seqgrade release`: regenerate the starter code, and build the student bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import course_option, open_course


@click.command()
@click.argument("out", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 if assignments/ differs from what would be generated.")
@click.option("--starter-only", is_flag=True, help="Only regenerate assignments/ (no bundle even with OUT).")
@click.option("--roster", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A file with one student id per line: the bundle also holds each student's quiz sheets and "
                   "empty answers file, named after the id (without it, students take quizzes with "
                   "`seqgrade quiz take QUIZ --student ID`).")
@click.option("--torch-index", default=None, metavar="URL",
              help="The index requirements.txt takes torch's CPU build from (default: PyTorch's CPU index, "
                   "https://download.pytorch.org/whl/cpu); 'none' leaves it to the students' pip settings.")
@course_option
def release(out, check_only, starter_only, roster, torch_index, course_path):
    """Regenerate assignments/ from solutions/ and, with OUT, write the student bundle.

    The starter code is the reference with every `### BEGIN SOLUTION` region
    replaced by a TODO; the public checks' expected outputs are recomputed.
    The bundle (OUT/seqgrade-student/ and OUT/seqgrade-student.zip) holds the
    starter code, public checks, READMEs, lessons, each quiz's questions
    without answers, seqgrade's wheel and a requirements.txt pinning the
    grader's torch (CPU build): its README installs it in two commands.

    \b
    Examples:
      seqgrade release                 # refresh assignments/
      seqgrade release --check         # CI: is assignments/ up to date?
      seqgrade release dist/ --roster roster.txt
    """
    from ..release.regenerate import data_files, differs, starter_files, write

    cfg = open_course(course_path)
    generated = starter_files(cfg) + data_files(cfg)
    stale = [g for g in generated if differs(g)]
    if check_only:
        for g in stale:
            click.echo(f"out of date: {g.path.relative_to(cfg.root)}")
        if stale:
            click.echo("Run `seqgrade release` (or `make release`) and commit the result.")
            sys.exit(1)
        click.echo(f"assignments/ is up to date ({len(generated)} generated files).")
        return
    for g in stale:
        write(g)
        click.echo(f"wrote {g.path.relative_to(cfg.root)}")
    click.echo(f"{len(stale)} of {len(generated)} generated files changed.")
    if out and not starter_only:
        from ..release.bundle import TORCH_CPU_INDEX, build_bundle, read_roster

        students = read_roster(roster) if roster else None
        index = TORCH_CPU_INDEX if torch_index is None else (None if torch_index in ("", "none") else torch_index)
        bundle = build_bundle(cfg, out, students, torch_index=index)
        click.echo(f"student bundle: {bundle.folder}  and  {bundle.zip}")
        click.echo(f"  installs seqgrade ({bundle.wheel.name}) and torch=={bundle.torch} (CPU build): see its README")
