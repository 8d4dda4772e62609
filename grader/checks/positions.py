"""Where two tensors first differ, and what that position means.

`assert_close` reports a difference as the first position where the values
differ (first in time, when a dimension is a time step or position), the
largest error, and the dimensions along which the difference is confined
("only at time steps >= 3", "only at head 1"). A check names the dimensions
with ``dims=("time step", "batch item", "feature")`` and can say what a
position means with ``where=lambda idx: "a pad position of tgt_in" if ... else ""``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

Where = Callable[[tuple], str]
_TIME_WORDS = ("step", "position", "time", "query", "token")


def _order(dims: Sequence[str] | None, ndim: int) -> list[int]:
    """Dimensions in the order a 'first' difference is looked for: time-like ones first."""
    if not dims or len(dims) != ndim:
        return list(range(ndim))
    timely = [i for i, d in enumerate(dims) if any(w in d for w in _TIME_WORDS)]
    return timely[:1] + [i for i in range(ndim) if i not in timely[:1]]


def position(idx: tuple, dims: Sequence[str] | None) -> str:
    """`(3, 1, 0)` -> "time step 3, batch item 1, feature 0" (or "index (3, 1, 0)" without names)."""
    if dims and len(dims) == len(idx):
        return ", ".join(f"{d} {i}" for d, i in zip(dims, idx))
    return f"index {idx}"


def first_index(bad: torch.Tensor, dims: Sequence[str] | None) -> tuple:
    """The first True position of `bad`, scanning time-like dimensions first."""
    order = _order(dims, bad.dim())
    found = bad.permute(*order).nonzero()[0] if order else bad.nonzero()[0]
    idx = [0] * bad.dim()
    for k, d in enumerate(order):
        idx[d] = int(found[k])
    return tuple(idx)


def _values(ix: list[int], n: int) -> str:
    if len(ix) == 1:
        return str(ix[0])
    if ix == list(range(ix[0], ix[-1] + 1)):
        return f">= {ix[0]}" if ix[-1] == n - 1 and ix[0] > 0 else f"{ix[0]}..{ix[-1]}"
    return ", ".join(map(str, ix[:4])) + (", ..." if len(ix) > 4 else "")


def confined(bad: torch.Tensor, dims: Sequence[str] | None) -> str:
    """ "only at time steps >= 3, batch item 1" when the differences leave some indices of a named dimension alone."""
    if not dims or len(dims) != bad.dim():
        return ""
    parts = []
    for d, name in enumerate(dims):
        other = [i for i in range(bad.dim()) if i != d]
        hit = bad.any(dim=other) if other else bad
        ix = [int(i) for i in hit.nonzero().flatten()]
        if 0 < len(ix) < bad.shape[d]:
            parts.append(f"{_plural(name) if len(ix) > 1 else name} {_values(ix, bad.shape[d])}")
    return f"; the differences are only at {', '.join(parts)}" if parts else ""


def _plural(name: str) -> str:
    return name[:-1] + "ies" if name.endswith("y") and name[-2:-1] not in "aeiou" else name + "s"


def meaning(where: Where | None, idx: tuple) -> str:
    if where is None:
        return ""
    try:
        text = where(idx)
    except Exception:
        return ""
    return f": {text}" if text else ""
