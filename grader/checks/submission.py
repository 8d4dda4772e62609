"""The `sub` fixture's object: a submission in its sandboxed child, as a check sees it.

Calls take the check's time limit by default. After a timeout or a crash the
child is gone; the next check gets a fresh child (the submission is imported
again), so one bad check costs only that check. A submission that cannot be
imported at all fails every check with the import error.
"""

from __future__ import annotations

from typing import Any

import torch

from ..sandbox.client import CallResult, Sandbox, SubmissionProcess, SubmissionRaised
from ..sandbox.wire import GradInput, Ref
from .classify import ImportFailed


class Submission:
    """A proxy to one student's module; methods are remote calls into the sandbox."""

    def __init__(self, sandbox: Sandbox, source: str, module: str, filename: str):
        self._sandbox = sandbox
        self._source = source
        self.module = module
        self.filename = filename
        self._proc: SubmissionProcess | None = None
        self._import_error: SubmissionRaised | None = None
        self.timeout = 20.0
        self.output = ""
        self.counted = False  # the current check made a counted call (reset by the grading plugin)
        self.built = ""  # the last module the current check built, with its sizes (reset per check)
        self.called = ""  # the last call the current check made, with its argument shapes (reset per check)

    # -- child lifecycle ---------------------------------------------------
    def _process(self) -> SubmissionProcess:
        if self._import_error is not None:
            raise self._import_error
        if self._proc is None or not self._proc.alive:
            try:
                self._proc = self._sandbox.open(self._source, self.module, import_timeout=self.timeout)
            except SubmissionRaised as exc:
                self._import_error = ImportFailed(exc.type_name, exc.message, exc.where, exc.traceback)
                raise self._import_error from None
        return self._proc

    def close(self) -> None:
        if self._proc is not None and self._proc.alive:
            try:
                self.output = self._proc.output()
            except Exception:
                pass
            self._proc.close()
        self._proc = None

    # -- remote calls ------------------------------------------------------
    def new(self, name: str, *args, dtype: torch.dtype | None = None, **kwargs) -> Ref:
        self.built = f"{name}({_arguments(args, kwargs)})" + (f" in {_size(dtype)}" if dtype is not None else "")
        kwargs.setdefault("timeout", self.timeout)
        return self._process().new(name, *args, dtype=dtype, **kwargs)

    def load_state_dict(self, ref: Ref, state: dict[str, torch.Tensor], strict: bool = True) -> dict:
        return self._process().load_state_dict(ref, state, strict=strict, timeout=self.timeout)

    def parameters(self, ref: Ref) -> list[tuple[str, tuple, str]]:
        return self._process().parameters(ref, timeout=self.timeout)

    def set_mode(self, ref: Ref, train: bool) -> None:
        self._process().set_mode(ref, train, timeout=self.timeout)

    def call(self, target: Ref | str, *args, **kwargs) -> CallResult:
        what = target if isinstance(target, str) else kwargs.get("method", "forward").replace("__call__", "forward")
        self.called = f"{what}({_arguments(args, {k: v for k, v in kwargs.items() if k not in CALL_OPTIONS})})"
        kwargs.setdefault("timeout", self.timeout)
        if kwargs.get("count_ops") or kwargs.get("measure_cpu"):
            self.counted = True  # a verdict on how the child computes: void once the child is caught tampering
        return self._process().call(target, *args, **kwargs)

    def build(self, name: str, state: dict[str, torch.Tensor], *args, dtype: torch.dtype | None = None,
              **kwargs) -> Ref:
        """`new` then `load_state_dict(strict=True)`, failing with a clear message on a mismatch."""
        from .compare import fail

        ref = self.new(name, *args, dtype=dtype, **kwargs)
        res = self.load_state_dict(ref, state)
        if res["missing"] or res["unexpected"]:  # strict=True raises first; kept for strict=False
            fail(f"{name}: parameter names differ from the contract (missing {res['missing']}, "
                 f"unexpected {res['unexpected']})")
        return ref


    def sizes(self) -> str:
        """The sizes the current check used: its last module and call (shapes only, never values)."""
        return "; ".join(x for x in (self.built, self.called) if x)


# Keyword arguments of `call` that steer the call instead of reaching the student's code.
CALL_OPTIONS = ("method", "grad", "backward", "count_ops", "measure_cpu", "keep", "timeout")


def _size(v: Any, depth: int = 0) -> str:
    """A short description of one argument: a tensor's shape, a number, a flag, never tensor values."""
    if isinstance(v, GradInput):
        v = v.tensor
    if isinstance(v, torch.Tensor):
        return "[" + ", ".join(str(d) for d in v.shape) + "]"
    if isinstance(v, (bool, int, float)) or v is None:
        return repr(v)
    if isinstance(v, str):
        return repr(v) if len(v) <= 20 else "'...'"
    if isinstance(v, torch.dtype):
        return str(v).replace("torch.", "")
    if isinstance(v, Ref):
        return "<module>"
    if isinstance(v, (tuple, list)) and depth < 2:
        inner = ", ".join(_size(x, depth + 1) for x in list(v)[:6]) + (", ..." if len(v) > 6 else "")
        return f"({inner})" if isinstance(v, tuple) else f"[{inner}]"
    return type(v).__name__


def _arguments(args: tuple, kwargs: dict) -> str:
    return ", ".join([_size(a) for a in args] + [f"{k}={_size(v)}" for k, v in kwargs.items()])


__all__ = ["GradInput", "ImportFailed", "Ref", "Submission"]
_ = Any
