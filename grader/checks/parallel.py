"""Operation counts for the parallelism checks, earned only by correct results, and hard to forge.

A loop over positions, heads or batch items shows up as an operation count
that grows with them. But a constant count proves nothing about a wrong
answer (an implementation returning zeros has a constant count too), so every
counted call is also compared with what a correct implementation returns.

Each counted call yields an `OpCount`: two independent counts of the tensor
operations, taken in the child (a Python dispatch mode, and torch's C++
profiler, which also sees operations run with Python modes switched off),
plus the CPU time the kernel charged to the submission's processes during
the call, read by the grader from outside the child. Two counts are equal
only when both operation counts are; a dispatch count that stays constant
while the profiler's grows means operations ran around the counting mode,
which is reported as tampering, not as a pass. What this can and cannot
prove is written down in docs/writing-checks.md ("What a structural check
proves").
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..sandbox.client import Tampering
from .compare import assert_close, fail

# Loose on purpose: this rejects wrong answers, the value checks judge precision.
RTOL, ATOL = 1e-3, 1e-4


@dataclass(frozen=True, eq=False)
class OpCount:
    """What one counted call measured. Compares equal to another when both operation counts are equal."""

    dispatch: int  # aten operations at the Python dispatch key (the child's count)
    profiler: int  # aten operations seen by torch's C++ profiler (the child's count)
    cpu_ns: int | None = None  # the call's CPU time, from the kernel's accounting (read outside the child)

    def __eq__(self, other) -> bool:
        if not isinstance(other, OpCount):
            return NotImplemented
        if self.dispatch == other.dispatch and self.profiler != other.profiler:
            raise Tampering(
                f"the operations torch's profiler saw changed ({self.profiler} vs {other.profiler}) while the "
                f"counting mode saw the same number ({self.dispatch}): operations ran around the counting mode "
                "(for example inside torch._C._DisableTorchDispatch or with modes switched off)")
        return self.dispatch == other.dispatch and self.profiler == other.profiler

    def __ne__(self, other) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # mutable-style equality: never a dict key

    def __str__(self) -> str:
        return str(self.dispatch)

    def __format__(self, spec: str) -> str:
        return format(self.dispatch, spec)

    def __int__(self) -> int:
        return self.dispatch


def _tensors(value) -> list:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [v for v in value if isinstance(v, torch.Tensor) or v is None]
    return [value]


def counted_ops(sub, target, *args, expected, what: str, min_ops: int = 1, **kwargs) -> OpCount:
    """`sub.call(target, *args, count_ops=True, **kwargs)`'s operation counts, after checking its result.

    `expected` is the correct output (a tensor, or a tuple whose tensors are compared in order).
    A correct result computed with fewer than `min_ops` counted operations was computed
    where the counters could not see it: that is reported as tampering.
    """
    r = sub.call(target, *args, count_ops=True, **kwargs)
    got, want = _tensors(r.value), _tensors(expected)
    if len(got) < len(want):
        fail(f"{what}: returned {len(got)} outputs, expected {len(want)}")
    try:
        for g, w in zip(got, want):
            if w is not None:
                assert_close(g, w.to(g.dtype) if isinstance(g, torch.Tensor) else w, what, rtol=RTOL, atol=ATOL,
                             check_dtype=False)
    except AssertionError as exc:
        fail(f"operation counts are only compared for correct results, and this one is wrong: {exc}")
    if r.n_ops is None or r.profiled_ops is None:
        fail(f"{what}: the operations could not be counted")
    if r.n_ops < max(min_ops, 1) or r.profiled_ops < r.n_ops:
        raise Tampering(f"{what} returned a correct result, but torch's profiler saw {r.profiled_ops} tensor "
                        f"operations (the counting mode {r.n_ops}): the work was done where the counters could "
                        "not see it")
    return OpCount(r.n_ops, r.profiled_ops, r.cpu_ns)


# --------------------------------------------------------------------------- measured from outside
# A loop costs the interpreter and torch's dispatcher microseconds per position; a vectorized
# implementation does not. With tiny per-position work and many positions, a loop's CPU time grows
# by orders of magnitude while a correct implementation's barely moves, so the comparison needs no
# fine threshold: it fails a submission whose growth exceeds both an absolute bound and a multiple
# of what the reference's own growth is on the same inputs.
GROWTH_ABS = 12.0  # a parallel implementation's CPU time grows far less than this between the configs
GROWTH_REL = 6.0  # ... and far less than this many times the reference's own growth
REPEATS = 3  # the fastest of REPEATS calls (CPU time: other processes do not inflate it)


def _cpu_of_reference(fn, args, kwargs) -> int:
    import time

    best = None
    for _ in range(REPEATS):
        t = time.thread_time_ns()
        fn(*args, **kwargs)
        took = time.thread_time_ns() - t
        best = took if best is None else min(best, took)
    return max(best or 0, 1)


_REFERENCE_RUNS: dict[str, tuple] = {}  # digest of (reference, inputs) -> (expected outputs, reference growth)
_REFERENCE_RUNS_MAX = 64


def _digest(value, h) -> None:
    """Feed `value` (tensors, modules, functions, containers, plain values) into the hash `h`."""
    import torch

    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        h.update(f"T{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(value, torch.nn.Module):
        h.update(f"M{type(value).__module__}.{type(value).__qualname__}{value.training}".encode())
        for name, t in value.state_dict().items():
            h.update(name.encode())
            _digest(t, h)
    elif hasattr(value, "__self__") and hasattr(value, "__func__"):  # a bound method: its owner and name
        _digest(value.__self__, h)
        h.update(value.__func__.__qualname__.encode())
    elif callable(value):
        h.update(f"F{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}".encode())
    elif isinstance(value, (list, tuple)):
        h.update(f"L{len(value)}".encode())
        for v in value:
            _digest(v, h)
    elif isinstance(value, dict):
        h.update(f"D{len(value)}".encode())
        for k in sorted(value, key=str):
            h.update(str(k).encode())
            _digest(value[k], h)
    else:
        h.update(repr(value).encode())


def _reference_runs(reference, bargs, bkw, gargs, gkw):
    """The reference's outputs on both configurations and its own CPU growth between them, computed once per
    run: every submission of a run gets the same inputs and reference weights (the run's draw), so only the
    first pays for them."""
    import hashlib

    h = hashlib.sha256()
    _digest((reference, bargs, bkw, gargs, gkw), h)
    key = h.hexdigest()
    if key not in _REFERENCE_RUNS:
        expected = (reference(*bargs, **bkw), reference(*gargs, **gkw))
        growth = _cpu_of_reference(reference, gargs, gkw) / _cpu_of_reference(reference, bargs, bkw)
        if len(_REFERENCE_RUNS) >= _REFERENCE_RUNS_MAX:
            _REFERENCE_RUNS.pop(next(iter(_REFERENCE_RUNS)))
        _REFERENCE_RUNS[key] = (expected, growth)
    return _REFERENCE_RUNS[key]


def measured_growth(sub, target, configs: dict, reference, *, what: str, why: str, **call_kwargs) -> None:
    """Fail when the submission's CPU time grows with a size like a loop's, measured from outside its process.

    `configs` maps a label to ``(args, kwargs)`` of one call; the first is the base and the
    second scales one size up by a large factor (the label says which). `reference(*args,
    **kwargs)` computes the correct output in the grader (it is also timed there, to calibrate).
    The submission's CPU time comes from the kernel's accounting of its processes, which code in
    the child cannot change; if its own operation counts claim no growth while the measured time
    grows like a loop, that contradiction is reported as tampering.
    """
    (base_label, (bargs, bkw)), (big_label, (gargs, gkw)) = list(configs.items())[:2]
    outputs, ref_growth = _reference_runs(reference, bargs, bkw, gargs, gkw)
    cpu, counts = {}, {}
    for label, args, kw, expected in ((base_label, bargs, bkw, outputs[0]), (big_label, gargs, gkw, outputs[1])):
        best = None
        for _ in range(REPEATS):
            n = counted_ops(sub, target, *args, expected=expected, what=what, **kw, **call_kwargs)
            if n.cpu_ns is None:
                if getattr(getattr(sub, "_sandbox", None), "policy", "") == "kernel":
                    return  # nbgrader's in-kernel run: nothing outside the kernel measures, the counts decide
                raise RuntimeError("the grader could not read the CPU time of the submission's processes "
                                   "(is /proc readable?); this check cannot be judged here")
            best = n.cpu_ns if best is None else min(best, n.cpu_ns)
            counts[label] = n
        cpu[label] = max(best, 1)
    growth = cpu[big_label] / cpu[base_label]
    if growth <= max(GROWTH_ABS, GROWTH_REL * ref_growth):
        return
    detail = (f"{what}: measured from outside your process, its CPU time grew {growth:.0f}x from {base_label} to "
              f"{big_label} (a correct implementation: {ref_growth:.1f}x): {why}")
    if counts[base_label].dispatch == counts[big_label].dispatch and \
            counts[base_label].profiler == counts[big_label].profiler:
        raise Tampering(detail + "; yet your process reported the same operation counts for both, which "
                                 "contradicts what was measured")
    fail(detail)
