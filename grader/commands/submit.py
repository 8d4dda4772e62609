"""`seqgrade submit`: a student writes the archive to hand in (their file, id, and public-check result)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import course_option, fmt_points, open_course


@click.command()
@click.argument("assignment")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--student", required=True, metavar="ID",
              help="Your student id, as your instructor knows you (letters, digits and _ . @ -).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the archive (default: ASSIGNMENT-ID.zip in the current folder).")
@click.option("--no-check", is_flag=True, help="Do not run the public checks first (the archive records none).")
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "none"]), default="auto", show_default=True,
              help="Run your code in bubblewrap when available (auto), always (bwrap) or never (none).")
@course_option
def submit(assignment, path, student, out, no_check, sandbox, course_path):
    """Write the archive to hand in for ASSIGNMENT: your file PATH (.py or a notebook) and your id.

    Runs the public checks first (as `seqgrade check` does) and records their
    result; the archive is written whether they pass or not. The archive holds
    your file, your id, the assignment, the file's sha256, and the seqgrade and
    checks versions. Your instructor grades the file itself, with every check.
    Submitting again writes a new archive: hand in the latest.

    \b
    Example:
      seqgrade submit a2_gated gated.py --student alice     # writes a2_gated-alice.zip
    """
    import hashlib
    import importlib.metadata

    from .. import escape
    from ..archive import STUDENT_ID, Manifest, PublicResult, archive_name, write_archive
    from ..checks.collection import version_of_checks
    from ..errors import UsageError
    from ..submissions import Refusal, module_from_bytes, read_regular_file
    from .check import run_public_checks, student_file

    if not STUDENT_ID.match(student):
        raise UsageError(f"{student!r} is not a usable student id: use letters, digits and _ . @ - (the one your "
                         "instructor knows you by)")
    cfg = open_course(course_path, path)
    a = cfg.assignment(assignment)
    path = student_file(a, path)
    if path.suffix not in (".py", ".ipynb"):
        raise UsageError(f"{escape.name(path)}: submit your {a.filename} or a notebook (.ipynb)")
    try:
        raw = read_regular_file(path.parent if str(path.parent) else Path("."), [path.name], what=str(path))
    except Refusal as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot read {escape.name(path)}: {exc.strerror}") from None
    inside = f"{a.module}{path.suffix}"  # the name the contract fixes, whatever the file is called here
    read = module_from_bytes(raw, inside, escape.name(path))
    if read.source is None:
        raise UsageError(read.error)
    public = None
    if not no_check:
        r, seed, caught = run_public_checks(cfg, a, path, None, sandbox)
        for w in caught:
            click.secho(f"warning: {w}", fg="yellow", err=True)
        passed = sum(c.passed for c in r.checks)
        public = PublicResult(passed=passed, total=len(r.checks), score=r.raw_score, max_score=r.max_score,
                              seed=seed)
        colour = "green" if passed == len(r.checks) and r.checks else "yellow"
        hint = "" if colour == "green" else f": `seqgrade check {a.id} {escape.name(path, 400)}` says what to fix"
        click.secho(f"{passed}/{len(r.checks)} public checks pass ({fmt_points(r.raw_score)}/"
                    f"{fmt_points(r.max_score)} points){hint}", fg=colour)
    try:
        version = importlib.metadata.version("seqgrade")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    manifest = Manifest(student=student, assignment=a.id, file=inside, sha256=hashlib.sha256(raw).hexdigest(),
                        seqgrade=version, checks_version=version_of_checks(a, hidden=False) if
                        a.public_checks.is_dir() else "", public_checks=public)
    target = out or Path(archive_name(a.id, student))
    write_archive(target, manifest, raw)
    click.echo(f"wrote {escape.name(target, 400)}: {inside} ({len(raw)} bytes, sha256 {manifest.sha256[:12]}...) "
               f"for {student}. Hand in this file.")
    sys.exit(0)
