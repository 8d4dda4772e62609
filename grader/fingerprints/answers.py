"""Comparing answers, and digests of what checks send.

`same(student, variant)` says whether the student's code answered a call as a
known-bug variant did: the same structure, shapes, dtypes and integers, floats
within ten times the contract's tolerance, NaN where the variant has NaN, and
the same exception (type, and message with its numbers left out). Timings and
operation counts are not compared. Where the answer depends on weights the
check never set (`Weak`: a module left at its random initialisation), only the
structure is compared: types, numbers of dimensions and dtypes (a decoded
length depends on the values), and exceptions; and since even the structure can
depend on the values, against the same replay from a few random
initialisations (`Weak.alternatives`).

`request_digests(transcript)` hashes each call's request (operation, target,
arguments) into a chain, so the variants' answers to one request sequence can
be cached for every submission of a run that sends the same requests.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import torch

from ..sandbox import wire
from ..sandbox.client import CallResult
from .local import Raised, Weak
from .transcript import Call, Transcript

# Ten times the contract's (rtol, atol): the same bug written another way rounds differently.
TOLERANCES = {torch.float64: (1e-5, 1e-7), torch.float32: (1e-3, 1e-4)}


def recorded(call: Call) -> Any:
    """What the student's code answered, in the form `LocalRun.answer` gives."""
    if call.raised:
        return Raised.of(call.raised, call.message)
    if call.op == "new":
        return wire.Ref(call.answer.id) if isinstance(call.answer, wire.Ref) else call.answer
    return call.answer


def same(a: Any, b: Any, weak: bool = False) -> bool:
    """Whether two answers agree (see the module docstring); `weak`: structure only, not values."""
    if isinstance(b, Weak):
        return any(same(a, x, weak=True) for x in b.candidates())
    if isinstance(a, CallResult) or isinstance(b, CallResult):
        if not (isinstance(a, CallResult) and isinstance(b, CallResult)):
            return False
        return (same(a.value, b.value, weak) and same(a.input_grads, b.input_grads, weak)
                and same(a.param_grads, b.param_grads, weak) and (a.ref is None) == (b.ref is None))
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return False
        return (a.dim() == b.dim() and a.dtype == b.dtype) if weak else _same_tensor(a, b)
    if isinstance(a, wire.Ref) or isinstance(b, wire.Ref):
        return isinstance(a, wire.Ref) and isinstance(b, wire.Ref)
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(same(x, y, weak) for x, y in zip(a, b)))
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(same(a[k], b[k], weak) for k in a))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        if weak:
            return True
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-7)
    if weak and isinstance(a, int) and isinstance(b, int):
        return True
    return a == b


def _same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not a.is_floating_point():
        return bool(torch.equal(a, b))
    rtol, atol = TOLERANCES.get(a.dtype, (1e-3, 1e-4))
    return bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


# --------------------------------------------------------------------------- digests

def request_digests(transcript: Transcript) -> list[str] | None:
    """A chained digest per call (call k's covers calls 0..k); None when a request cannot be hashed."""
    origin: dict[int, int] = {}  # handle id -> index of the call that made it
    out, h = [], hashlib.sha256(b"seqgrade-transcript")
    for i, call in enumerate(transcript.calls):
        h = h.copy()
        try:
            _feed(h, (call.op, call.target, call.args,
                      {k: v for k, v in call.kwargs.items() if k != "timeout"}), origin)
        except _Unhashable:
            return None
        out.append(h.hexdigest())
        for ref in _made_refs(call):
            origin[ref.id] = i
    return out


def _made_refs(call: Call) -> list[wire.Ref]:
    if isinstance(call.answer, wire.Ref):
        return [call.answer]
    if isinstance(call.answer, CallResult) and call.answer.ref is not None:
        return [call.answer.ref]
    return []


class _Unhashable(Exception):
    pass


def _feed(h, v, origin: dict[int, int]) -> None:
    if isinstance(v, torch.Tensor):
        t = v.detach().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(v, wire.GradInput):
        h.update(b"G")
        _feed(h, v.tensor, origin)
    elif isinstance(v, wire.Strided):
        h.update(f"S{v.how}".encode())
        _feed(h, v.tensor, origin)
    elif isinstance(v, wire.Ref):
        if v.id not in origin:
            raise _Unhashable
        h.update(f"R{origin[v.id]}{v.path!r}".encode())
    elif isinstance(v, (tuple, list)):
        h.update(f"{type(v).__name__}{len(v)}(".encode())
        for x in v:
            _feed(h, x, origin)
        h.update(b")")
    elif isinstance(v, dict):
        h.update(f"D{len(v)}(".encode())
        for k in sorted(v, key=str):
            h.update(repr(k).encode())
            _feed(h, v[k], origin)
        h.update(b")")
    elif v is None or isinstance(v, (bool, int, float, str, torch.dtype)):
        h.update(f"{type(v).__name__}:{v!r};".encode())
    else:
        raise _Unhashable

