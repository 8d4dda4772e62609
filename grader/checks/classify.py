"""What an exception raised while a check ran means for the student: a status and a message.

Used by the grading plugin (out of the kernel) and by the in-kernel runner of
nbgrader notebooks, so both paths word every outcome the same way. Text that
came from the submission (its exception messages) is kept as data here; each
medium escapes it where it is shown (`grader.escape`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ..sandbox.client import (CallTimeout, ChildDied, ProtocolViolation, ResourceLimit, SubmissionFault,
                              SubmissionRaised, Tampering)
from .compare import CheckFailed


@dataclass(frozen=True)
class Outcome:
    """A check's status (passed | failed | error | timeout) and its message for the student."""

    status: str = "passed"
    message: str = ""
    flag: str = ""  # refused | tampering | limit: something the instructor should see, beyond the points


class ImportFailed(SubmissionRaised):
    """The submission could not be imported (syntax error, exception at import)."""


def import_message(exc: SubmissionRaised, module: str) -> str:
    where = f" at {exc.where}" if exc.where else ""
    return f"{module}.py could not be imported: {exc.type_name}{where}: {exc.message}"


def classify(exc: BaseException, module: str) -> Outcome:
    """The outcome of a check that raised `exc` while grading `module` (the contract's module name)."""
    if isinstance(exc, ImportFailed):
        return Outcome("error", import_message(exc, module))
    if isinstance(exc, CallTimeout):
        return Outcome("timeout", f"your code {exc} (an infinite loop, or far too slow)")
    if isinstance(exc, ResourceLimit):
        return Outcome("error", str(exc), flag="limit")
    if isinstance(exc, Tampering):
        return Outcome("error", f"seqgrade detected tampering with the grading machinery: {exc}. This "
                                "check earns no points, and your instructor sees this note.", flag="tampering")
    if isinstance(exc, SubmissionRaised):
        return Outcome("error", f"your code raised {exc}")
    if isinstance(exc, (ChildDied, ProtocolViolation, SubmissionFault)):
        return Outcome("error", str(exc))
    if isinstance(exc, (CheckFailed, AssertionError)):
        text = str(exc).strip() or "the check's assertion failed"
        return Outcome("failed", text.split("\nassert ")[0])
    if isinstance(exc, pytest.skip.Exception):
        return Outcome("error", "the check was skipped")
    return Outcome("error", f"the check could not evaluate your output ({type(exc).__name__}: {str(exc)[:300]}); "
                            "this can be the check's own fault: tell your instructor if your output looks right")
