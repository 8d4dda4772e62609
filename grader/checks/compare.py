"""Comparisons whose failure messages tell a student what to fix.

`assert_close` checks type, shape, dtype, finiteness and values in that order
and, when values differ, tries a few diagnoses (transposed, scaled, off by a
shift along time, ...) supplied by the check or generic ones.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterable, Sequence

import torch

from ..sandbox.wire import Opaque
from . import positions

# (rtol, atol) by dtype, as the contract states.
TOLERANCES = {torch.float64: (1e-6, 1e-8), torch.float32: (1e-4, 1e-5)}

Diagnosis = tuple[Callable[[torch.Tensor, torch.Tensor], bool], str]


class CheckFailed(AssertionError):
    """A check found the submission wrong; the message is meant for the student."""


def fail(message: str) -> None:
    raise CheckFailed(message)


VIEW_HINT = ("; your code fails on (or differs for) inputs that are non-contiguous views (transposed or sliced "
             "tensors): use .reshape(...) instead of .view(...) on them, or call .contiguous() first")


@contextmanager
def view_hint():
    """Failed comparisons inside the block end with `VIEW_HINT`: for checks whose inputs are non-contiguous
    views, where the usual cause of a difference is a `.view` on them."""
    try:
        yield
    except AssertionError as exc:
        raise type(exc)(f"{exc}{VIEW_HINT}") from None


def describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {str(value.dtype).replace('torch.', '')}"
    if isinstance(value, Opaque):
        return f"a {value.type_name}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} ({', '.join(describe(v) for v in value[:4])})"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if value is None:
        return "None"
    return f"a {type(value).__name__} ({str(value)[:40]})"


def expect_tensor(value, what: str, shape: Sequence[int] | None = None,
                  dtype: torch.dtype | None = None) -> torch.Tensor:
    """`value` must be a plain tensor (with this shape and dtype when given)."""
    if not isinstance(value, torch.Tensor):
        fail(f"{what}: expected a tensor, got {describe(value)}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(f"{what}: expected shape {tuple(shape)}, got {tuple(value.shape)}")
    if dtype is not None and value.dtype != dtype:
        fail(f"{what}: expected dtype {str(dtype).replace('torch.', '')}, got "
             f"{str(value.dtype).replace('torch.', '')} (keep the input's dtype; do not hard-code one)")
    return value


def expect_tuple(value, what: str, n: int) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != n:
        fail(f"{what}: expected a tuple of {n} values, got {describe(value)}")
    return tuple(value)


def _generic_diagnoses(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> list[str]:
    notes = []
    close = lambda a, b: a.shape == b.shape and torch.allclose(a, b, rtol=rtol * 10, atol=atol * 10)  # noqa: E731
    if actual.dim() >= 2 and close(actual, expected.transpose(-1, -2)):
        notes.append("your result is the transpose of the expected one over the last two dimensions")
    if close(actual, -expected) and expected.abs().max() > 0:
        notes.append("your result has the opposite sign")
    scale = float(expected.abs().max()) if expected.numel() else 0.0
    if scale > 0 and float(actual.abs().max()) <= 1e-9 * scale:
        notes.append("your result is all zeros" if torch.count_nonzero(actual) == 0 else
                     "your result is (nearly) all zeros")
        return notes
    denom = (expected * expected).sum()
    if denom > 0:
        k = (actual * expected).sum() / denom
        if abs(float(k) - 1) > 1e-3 and abs(float(k)) > 1e-6 and close(actual, expected * k):
            notes.append(f"your result is the expected one scaled by {float(k):.4g}")
    return notes


def assert_close(actual, expected: torch.Tensor, what: str, *, rtol: float | None = None,
                 atol: float | None = None, diagnoses: Iterable[Diagnosis] = (),
                 check_dtype: bool = True, dims: Sequence[str] | None = None,
                 where: positions.Where | None = None) -> None:
    """`actual` must equal `expected` within the contract's tolerance for its dtype.

    A difference is reported at its first position (time-like dimensions first) and its largest
    error; `dims` names the dimensions ("time step", "batch item", "feature") and `where(index)`
    says what a position means ("a pad position of tgt_in"), see `grader.checks.positions`.
    """
    expect_tensor(actual, what, expected.shape, expected.dtype if check_dtype else None)
    d_rtol, d_atol = TOLERANCES.get(expected.dtype, (1e-4, 1e-5))
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    if actual.dtype != expected.dtype:
        actual = actual.to(expected.dtype)
    if expected.is_floating_point():
        bad = ~torch.isfinite(actual) & torch.isfinite(expected)
        if bad.any():
            idx = positions.first_index(bad, dims)
            fail(f"{what}: contains NaN or inf (first at {positions.position(idx, dims)}"
                 f"{positions.meaning(where, idx)}) where the reference is finite{positions.confined(bad, dims)}")
    if torch.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True):
        return
    if not expected.is_floating_point():
        bad = actual != expected
        idx = positions.first_index(bad, dims)
        notes = [msg for test, msg in diagnoses if _safe(test, actual, expected)]
        hint = ("; " + "; ".join(notes)) if notes else ""
        fail(f"{what}: differs from the reference at {int(bad.sum())} positions, first at "
             f"{positions.position(idx, dims)} (got {actual[idx].item()}, expected {expected[idx].item()})"
             f"{positions.meaning(where, idx)}{positions.confined(bad, dims)}{hint}")
    err = (actual - expected).abs()
    flat = int(torch.nan_to_num(err, nan=float("inf")).argmax())
    worst = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), err.shape))
    bad = ~torch.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    first = positions.first_index(bad, dims)
    notes = [msg for test, msg in diagnoses if _safe(test, actual, expected)]
    notes += _generic_diagnoses(actual, expected, rtol, atol)
    hint = ("; " + "; ".join(notes)) if notes else ""
    at = "" if first == worst else (f"; max abs error {float(err.max()):.3g} at {positions.position(worst, dims)}")
    fail(f"{what}: differs from the reference at {int(bad.sum())} of {bad.numel()} values, first at "
         f"{positions.position(first, dims)} (got {actual[first].item():.6g}, expected "
         f"{expected[first].item():.6g}, abs error {float(err[first]):.3g}){positions.meaning(where, first)}"
         f"{at}{positions.confined(bad, dims)}{hint}")


def assert_grad_close(actual, expected: torch.Tensor, what: str, **kw) -> None:
    """Like `assert_close`, with a message for the gradient that never arrived."""
    if actual is None:
        fail(f"{what}: no gradient reached it, so the computation is cut off from it "
             "(look for .detach(), .data, torch.no_grad(), in-place writes into a leaf, or a tensor "
             "rebuilt from .tolist()/.item()/torch.tensor(...))")
    assert_close(actual, expected, what, **kw)


def _safe(test, actual, expected) -> bool:
    try:
        return bool(test(actual, expected))
    except Exception:
        return False
