"""`seqgrade list`: the assignments, their checks, points and visibility; the contract's promises and coverage."""

from __future__ import annotations

import textwrap

import click

from ..errors import UsageError
from .common import course_option, fmt_points, open_course, table


def _traced(cfg, assignments):
    """Every check of every assignment, as the promise and coverage tables need them."""
    from ..checks.inventory import list_checks
    from ..checks.promises import TracedCheck

    return [TracedCheck(a.id, c.name, c.visibility, c.kind, c.promises, c.targets)
            for a in assignments for c in list_checks(a, cfg, hidden=a.hidden_checks.is_dir())]


def _bundle(assignments) -> bool:
    """Whether this is a student bundle: public checks only."""
    return not any(a.hidden_checks.is_dir() for a in assignments)


def _contract(cfg):
    from ..checks.promises import contract_path, parse_contract

    path = contract_path(cfg.root)
    if not path.is_file():
        raise UsageError(f"this course has no contract at {path}: --promises and --coverage read it")
    return parse_contract(path)


def promises_report(cfg, assignments, markdown: bool) -> str:
    """The traceability table: every promise of the contract and the hidden and public checks that test it."""
    from ..checks.promises import promise_table, promises_markdown

    rows = promise_table(_contract(cfg), _traced(cfg, assignments))
    bundle = _bundle(assignments)
    if markdown:
        return promises_markdown(rows)
    lines = []
    for r in rows:
        lines.append(f"{r.promise.id}  ({r.promise.section.split(' ')[0]})")
        for label, names in (() if bundle else (("hidden", r.hidden),)) + (("public", r.public),):
            lines.append(textwrap.fill(", ".join(names) or "-", width=100, initial_indent=f"    {label}: ",
                                       subsequent_indent=" " * 12))
    text = "\n".join(lines)
    if bundle:
        return text + "\n\nthe public checks of each promise; your instructor also runs hidden ones"
    unchecked = [r.promise.id for r in rows if not r.hidden]
    return text + (f"\n\nno hidden check: {', '.join(unchecked)}" if unchecked else
                   f"\n\nevery one of the {len(rows)} promises has a hidden check")


def coverage_report(cfg, assignments, markdown: bool) -> str:
    """Per assignment: each name of the contract x each kind of check -> how many checks."""
    from ..checks.promises import MATRIX_KINDS, coverage_markdown, coverage_matrix, matrix_size

    contract, checks = _contract(cfg), _traced(cfg, assignments)
    matrices = {a.id: coverage_matrix(contract, a.id, checks) for a in assignments}
    if markdown:
        return coverage_markdown(matrices)
    parts = []
    for aid, matrix in matrices.items():
        rows = [[name] + [str(len(c[k].checks)) if c[k].checks else ("MISSING" if c[k].applies else ".")
                          for k in MATRIX_KINDS] for name, c in matrix.items()]
        parts.append(f"{aid}\n" + table(rows, ["name", *MATRIX_KINDS]))
    names, cells, filled = matrix_size(matrices)
    parts.append(f"{names} names; {filled} of {cells} applicable cells have a check"
                 + (" (public checks only: your instructor's hidden checks fill the rest)"
                    if _bundle(assignments) else ""))
    return "\n\n".join(parts)


@click.command("list")
@click.option("--checks/--no-checks", default=True, show_default=True, help="List each assignment's checks.")
@click.option("--promises", is_flag=True,
              help="Instead: every promise of docs/contract.md and the hidden and public checks that test it.")
@click.option("--coverage", is_flag=True,
              help="Instead: per assignment, every name of the contract x every kind of check, with how many "
                   "checks fill each cell.")
@click.option("--markdown", is_flag=True, help="With --promises or --coverage: print a Markdown table.")
@click.option("--assignment", "only", multiple=True, help="With --promises or --coverage: only this assignment "
                                                           "(repeatable).")
@course_option
def list_command(checks, promises, coverage, markdown, only, course_path):
    """List the assignments and quizzes, with every check's points and visibility.

    In a student bundle (no hidden checks), lists the public checks.

    \b
    Examples:
      seqgrade list
      seqgrade list --promises            # promise -> hidden and public checks
      seqgrade list --coverage            # name x kind of check, per assignment
    """
    from ..checks.inventory import list_checks

    cfg = open_course(course_path)
    if promises or coverage:
        chosen = [cfg.assignment(a) for a in only] if only else list(cfg.assignments.values())
        if promises:
            click.echo(promises_report(cfg, chosen, markdown))
        if coverage:
            click.echo(coverage_report(cfg, chosen, markdown))
        return
    for a in cfg.assignments.values():
        hidden = a.hidden_checks.is_dir()  # a student bundle has the public checks only
        found = list_checks(a, cfg, hidden=hidden) if checks else []
        total = sum(c.points for c in found)
        click.secho(f"{a.id}  ({a.filename})  {a.title_en} / {a.title_zh}", bold=True)
        if checks:
            rows = [[c.name, c.visibility, fmt_points(c.points), c.description] for c in found]
            click.echo(table(rows, ["check", "visibility", "points", "what it checks"]))
            what = "" if hidden else " (public checks; your instructor also runs hidden ones)"
            click.echo(f"total: {fmt_points(total)} points{what}\n")
    quizzes = sorted(cfg.quizzes_dir.glob("*.yaml")) if cfg.quizzes_dir.is_dir() else []
    if quizzes:
        click.secho("quizzes", bold=True)
        for q in quizzes:
            click.echo(f"  {q.stem}  ({q.relative_to(cfg.root) if q.is_relative_to(cfg.root) else q})")
