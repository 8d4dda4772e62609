"""What the grading plugin asks after each check: does a failure match a known bug?

`Fingerprinter` lives for one grading run. The plugin makes each submission's
`sub` with `submission()`, calls `begin()` before every check, `end()` after
it, and `finish()` with the submission's results when all have run. A failed
check's transcript is compared with the answers of each known-bug variant
(`AnswerSource`): a variant that gave every answer the student's code gave, on
a check where the student's code differs from the reference, names the bug. A check that stopped because a function is
not written yet says so once per submission, by name (`missing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol

from ..errors import ConfigError
from ..results import SubmissionResult
from .answers import recorded, request_digests, same
from .catalogue import split_key
from .missing import MissingFunctions
from .transcript import RecordingSubmission, Transcript

UNKNOWN = object()  # an answer a source cannot give (the variant cannot replay the call)
REFERENCE = ""  # the key of the reference among the variants


@dataclass(frozen=True)
class KnownBug:
    """A bug of the catalogue, as the fingerprinter names it."""

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
class _Ran:
    """A check that ran on the current submission: its name, status and transcript."""

    name: str
    status: str
    transcript: Transcript


@dataclass
class Fingerprinter:
    """Names known bugs in failed checks, for one grading run (see the module docstring)."""

    source: AnswerSource | None = None
    missing: MissingFunctions = field(default_factory=MissingFunctions)
    _ran: list[_Ran] = field(default_factory=list)  # the current submission's checks
    _named: list[str] = field(default_factory=list)  # bugs already named for the current submission
    _consistency: dict[str, bool] = field(default_factory=dict)  # per bug, for the current submission
    _digests: dict[int, list[str] | None] = field(default_factory=dict)  # per transcript, likewise

    # -- hooks of the grading plugin ---------------------------------------
    def submission(self, sandbox, source: str, module: str, filename: str) -> RecordingSubmission:
        """The `sub` of a new submission (its transcripts start empty)."""
        self.missing.reset()
        self._ran, self._named, self._consistency, self._digests = [], [], {}, {}
        return RecordingSubmission(sandbox, source, module, filename)

    def begin(self, check_id: str, sub) -> None:
        """A check is about to run."""
        if isinstance(sub, RecordingSubmission):
            sub.begin(check_id)

    def end(self, name: str, sub, status: str) -> None:
        """A check has run, with this status."""
        transcript = sub.transcript if isinstance(sub, RecordingSubmission) else Transcript()
        self._ran.append(_Ran(name, status, transcript))

    def finish(self, result: SubmissionResult) -> None:
        """Rewrite the messages of the submission's failed checks: a known bug, or a missing function.

        Nothing is rewritten once tampering was detected: the answers cannot be trusted, and the
        messages that say so stand."""
        ran = {r.name: r for r in self._ran}
        passed = [r.transcript for r in self._ran if r.status == "passed" and r.transcript.calls]
        if any(f.kind == "tampering" for f in result.flags):
            ran = {}
        for c in result.checks:
            r = ran.get(c.name)
            if r is None or c.status not in ("failed", "error"):
                continue
            if c.status == "error":
                note = self.missing.explain(c.name, r.transcript)
                if note:
                    c.message = note
                    continue
            if self.source is None:
                continue
            bug = self.diagnose(r.transcript, passed)
            if bug is not None:
                c.message, c.bug = f"Known bug: {bug.says}. Details: {c.message}", bug.id
                if bug.id not in self._named:
                    self._named.append(bug.id)
        # Two bugs at once: a check the submission fails with none of the known bugs alone may fail with one
        # already named on its other checks together with a second (softmax over the wrong axis, and the mask
        # applied after it: each masked call shows both).
        for c in result.checks if self._named and self.source is not None else ():
            r = ran.get(c.name)
            if r is None or c.status != "failed" or c.bug:
                continue
            pair = self.diagnose_pair(r.transcript, passed)
            if pair is not None:
                first, second = pair
                c.message = f"Known bugs, both at once: {first.says}; and {second.says}. Details: {c.message}"
                c.bug = f"{first.id}+{second.id}"
        self._ran, self._consistency, self._digests = [], {}, {}

    # -- the fingerprint ---------------------------------------------------
    def _wrong_answers(self, transcript: Transcript):
        """(request digests, the student's recorded answers) of a finished transcript whose answers are not
        the reference's; None when there is nothing to diagnose (no catalogue, unfinished calls, or the
        reference's own answers: the check judged something else, speed or counts)."""
        calls = transcript.calls
        if not calls or not all(c.done for c in calls) or self.source is None:
            return None
        digests = self._digests_of(transcript)
        if digests is None:
            return None
        student = [recorded(c) for c in calls]
        if self._agrees(REFERENCE, transcript, digests, student):
            return None
        return digests, student

    def diagnose(self, transcript: Transcript, passed: list[Transcript] = ()) -> KnownBug | None:
        """The known bug whose variant answered every call of `transcript` as the student's code did.

        The student's code must differ from the reference on this transcript. When several variants
        agree, the first that does not contradict a passed check (one the reference and the student
        answered alike) wins: two bugs that look the same on one check rarely do on all.
        """
        answers = self._wrong_answers(transcript)
        if answers is None:
            return None
        digests, student = answers
        order = sorted(self.source.bugs(), key=lambda b: b.id not in self._named)  # this submission's first
        matches = []
        for bug in order:
            if not self.source.relevant(bug.id, transcript):
                continue
            if self._agrees(bug.id, transcript, digests, student):
                if bug.id in self._named:
                    return bug  # named on an earlier check of this submission: the same bug again
                matches.append(bug)
        if len(matches) > 1:
            return next((b for b in matches if self._consistent(b.id, passed)), matches[0])
        return matches[0] if matches else None

    def diagnose_pair(self, transcript: Transcript,
                      passed: list[Transcript] = ()) -> tuple[KnownBug, KnownBug] | None:
        """A bug named on this submission's other checks and a second known bug whose variant with both
        answered every call of `transcript` as the student's code did, and answers every check the student
        passed as the student did (None when no pair does): a second bug that a passed check contradicts is
        not the student's."""
        answers = self._wrong_answers(transcript)
        if answers is None:
            return None
        digests, student = answers
        bugs = {b.id: b for b in self.source.bugs()}
        for first in [b for b in self._named if b in bugs]:
            if not self.source.relevant(first, transcript):
                continue
            for second in bugs.values():
                if second.id == first or not self.source.relevant(second.id, transcript):
                    continue
                try:
                    key = f"{first}+{second.id}"
                    if self._agrees(key, transcript, digests, student) and self._consistent(key, passed):
                        return bugs[first], second
                except ConfigError:  # the two bugs change the same line: no variant has both
                    continue
        return None

    def _digests_of(self, transcript: Transcript) -> list[str] | None:
        if id(transcript) not in self._digests:
            self._digests[id(transcript)] = request_digests(transcript)
        return self._digests[id(transcript)]

    def _consistent(self, key: str, passed: list[Transcript]) -> bool:
        """No passed check that the reference answered as the student did is answered otherwise by `key`."""
        if key not in self._consistency:
            self._consistency[key] = all(self._fits(key, t) for t in passed)
        return self._consistency[key]

    def _fits(self, key: str, t: Transcript) -> bool:
        if not any(self.source.relevant(part, t) for part in split_key(key)):  # no bug of `key` reaches it
            return True
        digests = self._digests_of(t)
        if digests is None:
            return True
        student = [recorded(c) for c in t.calls]
        return not self._agrees(REFERENCE, t, digests, student) or self._agrees(key, t, digests, student)

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
