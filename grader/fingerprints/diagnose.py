"""What the grading plugin asks after each check: does a failure match a known bug?

`Fingerprinter` lives for one grading run. The plugin makes each submission's
`sub` with `submission()`, calls `begin()` before every check and `verdict()`
after it. A failed check's transcript is compared with the answers of each
known-bug variant (`AnswerSource`: the variants' code in the grader, or
numbers shipped with the public checks): the first variant that gave every
answer the student's code gave, on a check where the student's code differs
from the reference, names the bug. A check that stopped because a function is
not written yet says so once per submission, by name (`missing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol

from .answers import recorded, request_digests, same
from .missing import MissingFunctions
from .transcript import RecordingSubmission, Transcript

UNKNOWN = object()  # an answer a source cannot give (the variant cannot replay the call, no shipped number)
REFERENCE = ""  # the key of the reference among the variants


@dataclass(frozen=True)
class KnownBug:
    id: str
    says: str


class AnswerSource(Protocol):
    """Where the answers of the reference and of the known-bug variants come from."""

    def bugs(self) -> list[KnownBug]: ...

    def relevant(self, bug_id: str, transcript: Transcript) -> bool: ...

    def answers(self, key: str, transcript: Transcript, digests: list[str]) -> Iterator[object]:
        """The answers of variant `key` (REFERENCE for the reference) to the transcript's calls, in order."""
        ...


@dataclass
class Verdict:
    """A check's outcome after the fingerprint: status and message for the student, and the bug's id."""

    status: str
    message: str
    bug: str = ""


@dataclass
class Fingerprinter:
    """Names known bugs in failed checks, for one grading run (see the module docstring)."""

    source: AnswerSource | None = None
    missing: MissingFunctions = field(default_factory=MissingFunctions)
    _seen: list[str] = field(default_factory=list)  # bugs already named for the current submission

    # -- hooks of the grading plugin ---------------------------------------
    def submission(self, sandbox, source: str, module: str, filename: str) -> RecordingSubmission:
        self.missing.reset()
        self._seen = []
        return RecordingSubmission(sandbox, source, module, filename)

    def begin(self, check: str, sub) -> None:
        if isinstance(sub, RecordingSubmission):
            sub.begin(check)

    def verdict(self, check: str, sub, status: str, message: str) -> Verdict:
        transcript = sub.transcript if isinstance(sub, RecordingSubmission) else Transcript(check)
        if status == "error":
            note = self.missing.explain(check, transcript)
            return Verdict(status, note or message)
        if status != "failed" or self.source is None:
            return Verdict(status, message)
        bug = self.diagnose(transcript)
        if bug is None:
            return Verdict(status, message)
        if bug.id not in self._seen:
            self._seen.append(bug.id)
        return Verdict(status, f"Known bug: {bug.says}. Details: {message}", bug.id)

    # -- the fingerprint ---------------------------------------------------
    def diagnose(self, transcript: Transcript) -> KnownBug | None:
        """The known bug whose variant answered every call as the student's code did, if one did."""
        calls = transcript.calls
        if not calls or not all(c.done for c in calls):
            return None
        digests = request_digests(transcript)
        if digests is None:
            return None
        student = [recorded(c) for c in calls]
        if self._agrees(REFERENCE, transcript, digests, student):
            return None  # the answers are the reference's: the check judged something else (speed, counts)
        bugs = self.source.bugs()
        order = sorted(bugs, key=lambda b: (b.id not in self._seen,))  # this submission's bugs first
        for bug in order:
            if not self.source.relevant(bug.id, transcript):
                continue
            if self._agrees(bug.id, transcript, digests, student):
                return bug
        return None

    def _agrees(self, key: str, transcript: Transcript, digests: list[str], student: list) -> bool:
        answers = self.source.answers(key, transcript, digests)
        try:
            for mine in student:
                theirs = next(answers, UNKNOWN)
                if theirs is UNKNOWN or not same(mine, theirs):
                    return False
            return True
        finally:
            answers.close()
