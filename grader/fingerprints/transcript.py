"""A transcript of one check's remote calls: what the check sent and what came back.

`RecordingSubmission` is the `sub` fixture's object with a recorder: every
remote operation appends a `Call`. Recording keeps references to the
arguments the check passed (no copies, no hashing), so a check that passes
pays next to nothing for it; digests are computed only when a failed check is
diagnosed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..checks.submission import CALL_OPTIONS, Submission
from ..sandbox.client import SubmissionRaised
from ..sandbox.wire import Ref



@dataclass
class Call:
    """One remote operation of a check."""

    op: str  # new | load_state_dict | parameters | set_mode | call
    target: Any  # a class name (new), a function name or a Ref (call), a Ref (the others)
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)  # for `call`, CALL_OPTIONS included
    answer: Any = None  # what came back: a Ref, a dict, a list, None or a CallResult
    raised: str = ""  # the exception's type name when the student's code raised
    where: str = ""  # file:line in function, when it raised
    message: str = ""  # the exception's message, when it raised
    done: bool = False  # the call returned or raised (False: it timed out or the child died)

    def option(self, name: str, default=None):
        return self.kwargs.get(name, default)

    def arguments(self) -> dict:
        """The keyword arguments that reach the student's code."""
        return {k: v for k, v in self.kwargs.items() if k not in CALL_OPTIONS}


@dataclass
class Transcript:
    """The calls of one check on one submission, in order."""

    check: str = ""  # the check's node id
    calls: list[Call] = field(default_factory=list)

    def names(self) -> set[str]:
        """The contract's classes and functions these calls reached (by name)."""
        out = set()
        for c in self.calls:
            if c.op == "new" or (c.op == "call" and isinstance(c.target, str)):
                out.add(str(c.target))
        return out


class RecordingSubmission(Submission):
    """A `Submission` that records a `Transcript` of the current check's calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.transcript = Transcript()

    def begin(self, check: str) -> None:
        """Start the transcript of a new check."""
        self.transcript = Transcript(check)

    def _record(self, op: str, target, args: tuple, kwargs: dict, run):
        call = Call(op, target, tuple(args), dict(kwargs))
        self.transcript.calls.append(call)
        try:
            call.answer = run()
        except SubmissionRaised as exc:
            call.raised, call.where, call.message, call.done = exc.type_name, exc.where, exc.message, True
            raise
        call.done = True
        return call.answer

    def new(self, name: str, *args, dtype=None, **kwargs) -> Ref:
        opts = dict(kwargs, dtype=dtype)
        return self._record("new", name, args, opts, lambda: super(RecordingSubmission, self).new(
            name, *args, dtype=dtype, **kwargs))

    def load_state_dict(self, ref: Ref, state, strict: bool = True) -> dict:
        return self._record("load_state_dict", ref, (state,), {"strict": strict},
                            lambda: super(RecordingSubmission, self).load_state_dict(ref, state, strict))

    def parameters(self, ref: Ref):
        return self._record("parameters", ref, (), {}, lambda: super(RecordingSubmission, self).parameters(ref))

    def set_mode(self, ref: Ref, train: bool) -> None:
        return self._record("set_mode", ref, (), {"train": train},
                            lambda: super(RecordingSubmission, self).set_mode(ref, train))

    def call(self, target, *args, **kwargs):
        return self._record("call", target, args, kwargs,
                            lambda: super(RecordingSubmission, self).call(target, *args, **kwargs))
