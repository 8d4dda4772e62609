"""The `check` marker: points, a one-line description and a time limit per check."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

DEFAULT_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class CheckInfo:
    """What the `check` marker declares (visibility comes from where the check lives)."""

    points: float = 1.0
    description: str = ""
    timeout: float = DEFAULT_TIMEOUT_S  # wall-clock seconds for each call into the submission


def check(points: float = 1.0, description: str = "", timeout: float = DEFAULT_TIMEOUT_S):
    """Mark a test function as a graded check worth `points`."""
    if points < 0:
        raise ValueError("points must be >= 0")
    return pytest.mark.seqgrade_check(points=points, description=description, timeout=timeout)


def check_info(item) -> CheckInfo:
    """The `check` marker's values for a collected item (defaults, and its docstring, without one)."""
    doc = ((item.function.__doc__ or "").strip().splitlines() or [""])[0]
    m = item.get_closest_marker("seqgrade_check")
    if m is None:
        return CheckInfo(description=doc)
    return CheckInfo(points=float(m.kwargs.get("points", 1.0)), description=m.kwargs.get("description") or doc,
                     timeout=float(m.kwargs.get("timeout", DEFAULT_TIMEOUT_S)))
