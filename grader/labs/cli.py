"""``seqgrade lab NAME``: run one lab and say where its plot and numbers are.

torch and matplotlib are imported inside the command, so ``seqgrade --help``
stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import LABS

_LAB_LIST = "\n".join(f"  {name:<10} {claim}" for name, (_, claim) in LABS.items())


@click.command(
    "lab",
    help=f"""Run a lab: measure one of the lessons' claims and write NAME.png and NAME.csv.

\b
Labs:
{_LAB_LIST}

\b
The lab measures the reference modules of the course (solutions/*.py), or
torch's own where the course has none; --impl swaps in your own file.

\b
Examples:
  seqgrade lab vanishing
  seqgrade lab vanishing --impl gated.py --out my-plots
  seqgrade lab memory --impl rnn.py --impl gated.py --quick
""",
)
@click.argument("name", type=click.Choice(list(LABS)), metavar="NAME")
@click.option(
    "--impl",
    "impls",
    multiple=True,
    metavar="PATH",
    help="Your module to measure instead of the reference: a file named after it (rnn.py, gated.py, "
    "attention.py, seq2seq.py) or MODULE=PATH. Repeat for several.",
)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("lab-out"),
              show_default=True, help="Folder for NAME.png and NAME.csv.")
@click.option("--course", "course", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The course config (default: the nearest course/course.yaml at or above your file or the current "
                   "folder); its root holds solutions/.")
@click.option("--quick", is_flag=True, help="Tiny sizes and budgets: seconds instead of a minute (for tests).")
@click.option("--seed", type=int, default=None, help="Random seed (default: the lab's own, 0).")
def lab(name: str, impls: tuple[str, ...], out: Path, course: Path | None, quick: bool, seed: int | None) -> None:
    from ..config import load_config
    from ..courseroot import course_config
    from . import run_lab

    # the course above your files or the current folder (its solutions/ when it has them); none: torch's modules
    starts = [Path(i.split("=", 1)[-1]) for i in impls]
    config = load_config(course_config(course, *starts, required=False))
    result = run_lab(name, solutions_dir=config.solutions_dir, out=out, impls=impls, quick=quick, seed=seed)
    click.echo(f"lab {result.name} ({result.seconds:.1f} s) measured " +
               "; ".join(f"{m}: {s}" for m, s in result.sources.items()))
    for line in result.summary:
        click.echo(f"  {line}")
    click.echo(f"plot:    {result.png}")
    click.echo(f"numbers: {result.csv}")
    for path in result.extra:
        click.echo(f"         {path}")
