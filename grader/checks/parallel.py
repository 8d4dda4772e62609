"""Operation counts for the parallelism checks, earned only by correct results.

A loop over positions, heads or batch items shows up as an operation count
that grows with them. But a constant count proves nothing about a wrong
answer (an implementation returning zeros has a constant count too), so every
counted call is also compared with what a correct implementation returns.
"""

from __future__ import annotations

import torch

from .compare import assert_close, fail

# Loose on purpose: this rejects wrong answers, the value checks judge precision.
RTOL, ATOL = 1e-3, 1e-4


def _tensors(value) -> list:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [v for v in value if isinstance(v, torch.Tensor) or v is None]
    return [value]


def counted_ops(sub, target, *args, expected, what: str, **kwargs) -> int:
    """`sub.call(target, *args, count_ops=True, **kwargs)`'s operation count, after checking its result.

    `expected` is the correct output (a tensor, or a tuple whose tensors are compared in order).
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
    if r.n_ops is None:
        fail(f"{what}: the operations could not be counted")
    return r.n_ops
