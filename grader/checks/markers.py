"""The `check` marker: points, a one-line description and a time limit per check."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

DEFAULT_TIMEOUT_S = 20.0
# What a check measures (the columns of the coverage matrix in docs/writing-checks.md).
KINDS = ("values", "gradients", "shapes", "masks", "parallelism", "long_sequence", "decoding", "properties")


@dataclass(frozen=True)
class CheckInfo:
    """What the `check` marker declares (visibility comes from where the check lives)."""

    points: float = 1.0
    description: str = ""
    timeout: float = DEFAULT_TIMEOUT_S  # wall-clock seconds for each call into the submission
    kind: str = ""  # one of KINDS ("" when the check does not say)
    promises: tuple[str, ...] = ()  # ids of the contract's promises it tests (docs/contract.md)
    targets: tuple[str, ...] = ()  # the contract's functions/modules it calls


def check(points: float = 1.0, description: str = "", timeout: float = DEFAULT_TIMEOUT_S, *, kind: str = "",
          promises: tuple[str, ...] | list[str] = (), targets: tuple[str, ...] | list[str] = ()):
    """Mark a test function as a graded check worth `points`.

    `kind` says what it measures (one of `KINDS`), `promises` which promises of the
    contract it tests (their ids in docs/contract.md), `targets` which of the
    contract's functions and modules it calls.
    """
    if points < 0:
        raise ValueError("points must be >= 0")
    if kind and kind not in KINDS:
        raise ValueError(f"unknown check kind {kind!r}; use one of {', '.join(KINDS)}")
    return pytest.mark.seqgrade_check(points=points, description=description, timeout=timeout, kind=kind,
                                      promises=tuple(promises), targets=tuple(targets))


def check_info(item) -> CheckInfo:
    """The `check` marker's values for a collected item (defaults, and its docstring, without one)."""
    doc = ((item.function.__doc__ or "").strip().splitlines() or [""])[0]
    m = item.get_closest_marker("seqgrade_check")
    if m is None:
        return CheckInfo(description=doc)
    return CheckInfo(points=float(m.kwargs.get("points", 1.0)), description=m.kwargs.get("description") or doc,
                     timeout=float(m.kwargs.get("timeout", DEFAULT_TIMEOUT_S)), kind=m.kwargs.get("kind", ""),
                     promises=tuple(m.kwargs.get("promises", ())), targets=tuple(m.kwargs.get("targets", ())))
