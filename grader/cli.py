"""The ``seqgrade`` command line: a thin layer over library functions.

Commands live in their own modules and are imported only when called, so
``seqgrade quiz ...`` never pays for ``import torch``. Library code raises
`SeqgradeError`; this module alone prints it and picks the exit code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from .errors import SeqgradeError

# command name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {
    "list": "grader.commands.listing:list_command",
    "check": "grader.commands.check:check",
    "submit": "grader.commands.submit:submit",
    "grade": "grader.commands.grade:grade",
    "report": "grader.commands.report:report",
    "export": "grader.commands.export:export",
    "feedback": "grader.commands.feedback:feedback",
    "release": "grader.commands.release:release",
    "demo": "grader.commands.demo:demo",
    "quiz": "grader.quiz.cli:quiz",
    "lab": "grader.labs.cli:lab",
    "nbgrader": "grader.nbgrader.cli:nbgrader",
    "doctor": "grader.commands.doctor:doctor",
    "new": "grader.commands.new:new",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._available(name))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None or not self._available(name):
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    @staticmethod
    def _available(name: str) -> bool:
        module = COMMANDS[name].split(":")[0]
        try:
            return importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # its package is not there (yet)
            return False


@click.group(cls=LazyGroup)
@click.version_option(package_name="seqgrade")
def cli() -> None:
    """seqgrade: teach and grade RNNs, attention, Seq2Seq and Transformers.

    \b
    Students:     seqgrade check a3_attention attention.py
                  seqgrade submit a3_attention attention.py --student ID
    Instructors:  seqgrade grade a3_attention submissions/ --json results.json
    Try it all:   seqgrade demo
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``seqgrade`` console script."""
    try:
        cli.main(args=argv, prog_name="seqgrade", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except SeqgradeError as exc:
        click.secho(f"Error: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
