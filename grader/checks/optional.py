"""Parts of a check that need a function the check is not about.

A shape check that also calls `beam_search` should not lose its points while
`beam_search` is still a TODO: the beam search checks report that (once, by
name). Guard such a part with ``unless_missing``:

    with unless_missing("beam_search"):
        toks = sub.call(model, src, lengths, 2, 4, 1, 2, method="beam_search").value
        ...  # checks of toks

When the call raises `NotImplementedError`, or the function does not exist,
the rest of the block is skipped and the check goes on; any other exception,
and every failed comparison, counts as usual.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from ..sandbox.client import SubmissionRaised

NO_ATTRIBUTE = re.compile(r"has no attribute '([A-Za-z_][A-Za-z0-9_]{0,60})'")


def is_missing(type_name: str, message: str, where: str, names: tuple[str, ...] = ()) -> bool:
    """Whether an exception from the child says a function is not written (any of `names`, when given)."""
    if type_name == "NotImplementedError":
        return True
    if type_name == "AttributeError" and not where:  # raised while looking the name up, not inside the code
        m = NO_ATTRIBUTE.search(message)
        return bool(m) and (not names or m.group(1) in names)
    return False


@contextmanager
def unless_missing(*names: str):
    """Skip the rest of the block when the submission has not written one of `names` yet."""
    try:
        yield
    except SubmissionRaised as exc:
        if not is_missing(exc.type_name, exc.message, exc.where, names):
            raise
