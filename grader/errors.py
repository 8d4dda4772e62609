"""One error family for seqgrade. Library code raises; only the CLI prints.

Each class carries the exit code the CLI uses, so a script can tell a usage
mistake from a broken gradebook. Messages say what to do next.
"""


class SeqgradeError(Exception):
    """Base of every error seqgrade reports to a user."""

    exit_code = 1


class UsageError(SeqgradeError):
    """The command was called wrongly (unknown assignment, bad option value)."""

    exit_code = 2


class ConfigError(SeqgradeError):
    """The course configuration is missing or malformed."""

    exit_code = 3


class SubmissionsError(SeqgradeError):
    """The submissions folder cannot be graded at all (missing, empty, duplicates)."""

    exit_code = 4


class GradebookError(SeqgradeError):
    """The gradebook cannot be opened or written."""

    exit_code = 5


class QuizError(SeqgradeError):
    """A quiz file or an answers file is invalid."""

    exit_code = 6


class SandboxError(SeqgradeError):
    """The sandbox that runs student code could not be started."""

    exit_code = 7
