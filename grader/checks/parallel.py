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
from typing import Any, NamedTuple

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


def _check_result(value, expected, what: str) -> None:
    """Fail unless `value` (what the child returned) matches `expected`: only correct results are measured."""
    got, want = _tensors(value), _tensors(expected)
    if len(got) < len(want):
        fail(f"{what}: returned {len(got)} outputs, expected {len(want)}")
    try:
        for g, w in zip(got, want):
            if w is not None:
                assert_close(g, w.to(g.dtype) if isinstance(g, torch.Tensor) else w, what, rtol=RTOL, atol=ATOL,
                             check_dtype=False)
    except AssertionError as exc:
        fail(f"operation counts are only compared for correct results, and this one is wrong: {exc}")


def counted_ops(sub, target, *args, expected, what: str, min_ops: int = 1, measure_cpu: bool = False,
                **kwargs) -> OpCount:
    """`sub.call(target, *args, count_ops=True, **kwargs)`'s operation counts, after checking its result.

    `expected` is the correct output (a tensor, or a tuple whose tensors are compared in order).
    A correct result computed with fewer than `min_ops` counted operations was computed
    where the counters could not see it: that is reported as tampering. With `measure_cpu`,
    the count also carries the call's CPU time, read from outside the child.
    """
    r = sub.call(target, *args, count_ops=True, measure_cpu=measure_cpu, **kwargs)
    _check_result(r.value, expected, what)
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
# by orders of magnitude more than a correct implementation's, so the comparison needs no fine
# threshold: it fails a submission whose CPU time grows (big minus base) by more than an absolute
# amount and a multiple of the reference's own growth on the same inputs (correct implementations
# written differently grow by at most 2x the reference's), or whose big call alone is far slower
# than the reference's (see SLOW_REL).
GROWTH_ABS_NS = 2_000_000  # a loop must add at least 2 ms of CPU time between the configurations ...
GROWTH_REL = 6.0  # ... and this many times what the reference's time grows by
REPEATS = 3  # the fastest of REPEATS calls (CPU time: other processes do not inflate it)
# A child that burns CPU on the base configuration hides any growth; so the big configuration's own
# CPU time is bounded too, far above what correct implementations written differently take (the
# slowest in-tree alternative takes 8x the reference's) and far below a loop's (46x to 130x in a3 and a4).
SLOW_REL = 25.0  # the big configuration's CPU time: at most this many times the reference's ...
SLOW_ABS_NS = 10_000_000  # ... or the reference's plus 10 ms, whichever is larger


def _cpu_of_reference(fn, args, kwargs) -> int:
    import time

    best = None
    for _ in range(REPEATS):
        t = time.thread_time_ns()
        fn(*args, **kwargs)
        took = time.thread_time_ns() - t
        best = took if best is None else min(best, took)
    return max(best or 0, 1)


_REFERENCE_RUNS: dict[str, object] = {}  # digest of (reference, inputs) -> its outputs, or its CPU times
_REFERENCE_RUNS_MAX = 256  # a run keeps a few per measured check (more for one that looks like a loop)


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


class Config(NamedTuple):
    """One configuration of a measured call: its arguments and, when it differs from the others', its own
    module (`target`, in the child) and reference (in the grader)."""

    args: tuple
    kwargs: dict
    target: Any = None
    reference: Any = None


def _config(value, target, reference) -> Config:
    c = value if isinstance(value, Config) else Config(*value)
    return c._replace(target=c.target if c.target is not None else target,
                      reference=c.reference if c.reference is not None else reference)


def _once_per_run(parts, compute):
    """`compute()`, cached for the run under a digest of `parts` (references and inputs): every submission of
    a run gets the same inputs and reference weights (the run's draw), so only the first pays."""
    import hashlib

    h = hashlib.sha256()
    _digest(parts, h)
    key = h.hexdigest()
    if key not in _REFERENCE_RUNS:
        if len(_REFERENCE_RUNS) >= _REFERENCE_RUNS_MAX:
            _REFERENCE_RUNS.pop(next(iter(_REFERENCE_RUNS)))
        _REFERENCE_RUNS[key] = compute()
    return _REFERENCE_RUNS[key]


def _reference_runs(base: Config, big: Config):
    """The reference's CPU time (ns) on both configurations, once per run."""
    return _once_per_run(("cpu", base.reference, base.args, base.kwargs, big.reference, big.args, big.kwargs),
                         lambda: (_cpu_of_reference(base.reference, base.args, base.kwargs),
                                  _cpu_of_reference(big.reference, big.args, big.kwargs)))


def _expected(c: Config):
    """The reference's output on `c`, once per run."""
    return _once_per_run(("out", c.reference, c.args, c.kwargs), lambda: c.reference(*c.args, **c.kwargs))


def _fresh(value, i: int):
    """`value` (a configuration's arguments) with every floating-point tensor's elements rotated by `i`: the
    same sizes, other numbers. Each repeated measurement is of inputs the child has not seen, so a child that
    remembers its answers still pays for computing each one (integer tokens and boolean masks stay)."""
    if i == 0:
        return value
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point() or value.numel() < 2:
            return value
        return value.flatten().roll(i).view_as(value).contiguous()
    if isinstance(value, Config):
        return value._replace(args=_fresh(value.args, i), kwargs=_fresh(value.kwargs, i))
    if isinstance(value, (tuple, list)):
        return type(value)(_fresh(v, i) for v in value)
    if isinstance(value, dict):
        return {k: _fresh(v, i) for k, v in value.items()}
    return value


def _timed(sub, c: Config, what: str, call_kwargs: dict, i: int = 0) -> int | None:
    """The CPU time of one call on the `i`-th fresh inputs of `c`, measured from outside the child (None where
    nothing outside measures), its result checked first."""
    c = _fresh(c, i)
    r = sub.call(c.target, *c.args, measure_cpu=True, **c.kwargs, **call_kwargs)
    _check_result(r.value, _expected(c), what)
    return None if r.cpu_ns is None else max(r.cpu_ns, 1)


def _loop_like(cpu: dict, ref_cpu: tuple, base_label: str, big_label: str) -> tuple[str, str] | None:
    """("growth"|"slow", words) when the measured CPU times look like a loop's, else None.

    Growth is compared as an increment (big minus base): the child's fixed cost per call (the
    wire, the sandbox) cancels out, and so does CPU time burnt on every call alike."""
    grew = cpu[big_label] - cpu[base_label]
    ref_grew = max(ref_cpu[1] - ref_cpu[0], 0)
    if grew > max(GROWTH_ABS_NS, GROWTH_REL * ref_grew):
        return "growth", (f"its CPU time grew by {grew / 1e6:.1f} ms from {base_label} to {big_label} (a correct "
                          f"implementation's: by {ref_grew / 1e6:.2f} ms)")
    if cpu[big_label] > max(SLOW_REL * ref_cpu[1], ref_cpu[1] + SLOW_ABS_NS):
        return "slow", (f"the call with {big_label} took {cpu[big_label] / 1e6:.0f} ms of CPU time, "
                        f"{cpu[big_label] / ref_cpu[1]:.0f}x a correct implementation's "
                        f"({ref_cpu[1] / 1e6:.1f} ms)")
    return None


def measured_growth(sub, target, configs: dict, reference, *, what: str, why: str, **call_kwargs) -> None:
    """Fail when the submission's CPU time grows with a size like a loop's, measured from outside its process.

    `configs` maps a label to ``(args, kwargs)`` of one call, or to a `Config` naming its own
    target and reference; the first is the base and the second scales one size up by a large
    factor (the label says which). `reference(*args, **kwargs)` computes the correct output in
    the grader (it is also timed there, to calibrate). The submission's CPU time comes from the
    kernel's accounting of its processes, which code in the child cannot change. A loop shows as
    a growth far above the reference's, or (should the child burn CPU on the base configuration
    to hide the growth) as a big call far slower than the reference's. One timed call per
    configuration decides a pass; anything that looks like a loop is timed once more (a spike
    passes then), and then measured again, as the fastest of REPEATS counted calls, before it is
    reported; if the child's own operation counts then claim no growth while the time grows like
    a loop, that contradiction is tampering.
    """
    (base_label, base), (big_label, big) = [(label, _config(v, target, reference))
                                             for label, v in list(configs.items())[:2]]
    ref_cpu = _reference_runs(base, big)
    runs = ((base_label, base), (big_label, big))
    cpu = {label: _timed(sub, c, what, call_kwargs) for label, c in runs}
    if None in cpu.values():
        if getattr(getattr(sub, "_sandbox", None), "policy", "") == "kernel":
            for _, c in runs:  # nbgrader's in-kernel run: nothing outside measures, counts decide
                counted_ops(sub, c.target, *c.args, expected=_expected(c), what=what, **c.kwargs, **call_kwargs)
            return
        raise RuntimeError("the grader could not read the CPU time of the submission's processes "
                           "(is /proc readable?); this check cannot be judged here")
    if _loop_like(cpu, ref_cpu, base_label, big_label) is None:
        return
    # A loop, or a spike (a collection pause, a burst of page faults): time both again, cheaply, first. Every
    # repeat is on fresh inputs (_fresh), so the fastest of several calls is never a remembered answer.
    cpu = {label: min(cpu[label], _timed(sub, c, what, call_kwargs, 1) or cpu[label]) for label, c in runs}
    if _loop_like(cpu, ref_cpu, base_label, big_label) is None:
        return
    counts = {}
    for label, c in runs:  # confirm: the fastest of REPEATS, with the child's own counts
        best = None
        for r in range(REPEATS):
            f = _fresh(c, 2 + r)
            n = counted_ops(sub, f.target, *f.args, expected=_expected(f), what=what, measure_cpu=True,
                            **f.kwargs, **call_kwargs)
            best = n.cpu_ns if best is None else min(best, n.cpu_ns or best)
            counts[label] = n
        cpu[label] = max(best or 1, 1)
    found = _loop_like(cpu, ref_cpu, base_label, big_label)
    if found is None:
        return
    kind, words = found
    detail = f"{what}: measured from outside your process, {words}: {why}"
    if kind == "growth" and counts[base_label].dispatch == counts[big_label].dispatch and \
            counts[base_label].profiler == counts[big_label].profiler:
        raise Tampering(detail + "; yet your process reported the same operation counts for both, which "
                                 "contradicts what was measured")
    fail(detail)
