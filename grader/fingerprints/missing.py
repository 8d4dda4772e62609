"""Functions a submission has not written yet, reported once, by name.

A call into a function that still raises `NotImplementedError` (the starter's
TODO) or that does not exist at all stops every check that needs it. The
first such check says which function is missing; later ones point back to it
instead of repeating the traceback. `is_missing` tells a check's
`unless_missing` block (grader.checks.unless_missing) that the part it guards
can be skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..checks.optional import NO_ATTRIBUTE as _NO_ATTRIBUTE
from ..checks.optional import is_missing
from ..sandbox import wire
from .transcript import Call, Transcript

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,60}")


def _class_of(ref, transcript: Transcript) -> str:
    for c in transcript.calls:
        if c.op == "new" and isinstance(c.answer, wire.Ref) and isinstance(ref, wire.Ref) and c.answer.id == ref.id:
            return str(c.target)
    return ""


def missing_name(call: Call, transcript: Transcript) -> str:
    """The name of the function `call` found missing, as the contract spells it (`Seq2Seq.beam_search`)."""
    inner = call.where.rsplit(" in ", 1)[1] if " in " in call.where else ""
    if not _NAME.fullmatch(inner):  # the child says where it raised: keep only a plain function name
        inner = ""
    if call.op == "new":
        name = str(call.target)
        return f"{name}.{inner}" if inner and inner != name else f"{name}.__init__"
    if isinstance(call.target, str):
        called = call.target
    else:
        method = call.option("method", "__call__")
        method = "forward" if method == "__call__" else method
        owner = _class_of(call.target, transcript)
        called = f"{owner}.{method}" if owner else method
    if call.raised == "AttributeError":
        m = _NO_ATTRIBUTE.search(call.message)
        return m.group(1) if m and "." not in called else called
    if inner and inner != called.rsplit(".", 1)[-1] and inner != "<module>":
        return f"{inner} (called by {called})"
    return called


@dataclass
class MissingFunctions:
    """Per submission: which missing functions were reported, and by which check."""

    reported: dict[str, str] = field(default_factory=dict)  # function -> the check that reported it

    def reset(self) -> None:
        self.reported = {}

    def explain(self, check: str, transcript: Transcript) -> str:
        """A message for a check stopped by a missing function ("" when something else stopped it)."""
        last = transcript.calls[-1] if transcript.calls else None
        if last is None or not last.raised or not is_missing(last.raised, last.message, last.where):
            return ""
        name = missing_name(last, transcript)
        if name in self.reported:
            return (f"needs {name}, which is not written yet (reported in {self.reported[name]}); this check "
                    "scores 0 until it is")
        self.reported[name] = check.split("::")[-1]
        how = ("raises NotImplementedError (the starter's TODO)" if last.raised == "NotImplementedError"
               else "does not exist")
        at = f" at {last.where}" if last.where else ""
        return (f"{name} is not written yet: it {how}{at}. Every check that needs it scores 0 until it is; "
                "checks that do not need it are graded as usual")
