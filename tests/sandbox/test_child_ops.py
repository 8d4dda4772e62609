"""What the child does with the grader's requests: a module built with a dtype ends up in it, whatever the
constructor made; a call clears gradients only when it back-propagates.

The child skips ``.to(dtype)`` when it would change nothing (a plain torch module already in the dtype):
these tests pin that the skip is invisible to a submission.
"""

from __future__ import annotations

import torch

from grader.sandbox.client import Sandbox

SOURCE = '''
import torch
from torch import nn

CALLS = []


class Plain(nn.Module):
    def __init__(self, dtype=None):
        super().__init__()
        self.lin = nn.Linear(2, 3, dtype=dtype)
        self.register_buffer("table", torch.ones(4, dtype=dtype))
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        return self.lin(x) + self.table[:3]


class OwnTo(Plain):
    """Overrides .to: the child must call it even when the parameters are already in the dtype."""

    def to(self, *args, **kwargs):
        CALLS.append("to")
        return super().to(*args, **kwargs)


class OwnApply(Plain):
    def _apply(self, fn, recurse=True):
        CALLS.append("_apply")
        return super()._apply(fn, recurse)


class Child(nn.Module):
    def _apply(self, fn, recurse=True):
        CALLS.append("child._apply")
        return super()._apply(fn, recurse)


class Nested(Plain):
    def __init__(self, dtype=None):
        super().__init__(dtype)
        self.inner = Child()


def calls():
    return list(CALLS)


def dtypes(m):
    return sorted({str(t.dtype) for t in list(m.parameters()) + list(m.buffers())})
'''


def _open(sb):
    return sb.open(SOURCE, "ops")


def test_a_module_built_with_a_dtype_is_in_that_dtype_whatever_its_constructor_made():
    with Sandbox("auto") as sb:
        p = _open(sb)
        for made, wanted in ((None, torch.float64), (torch.float64, torch.float64), (torch.float64, torch.float32)):
            m = p.new("Plain", *((made,) if made is not None else ()), dtype=wanted)
            assert p.call("dtypes", m).value == sorted({str(wanted), "torch.int64"})
            x = torch.randn(1, 2, dtype=wanted)
            assert p.call(m, x).value.dtype == wanted
        p.close()


def test_a_module_that_overrides_to_or_apply_anywhere_gets_its_to_called_even_when_already_in_the_dtype():
    with Sandbox("auto") as sb:
        p = _open(sb)
        p.new("OwnTo", torch.float64, dtype=torch.float64)
        p.new("OwnApply", torch.float64, dtype=torch.float64)
        p.new("Nested", torch.float64, dtype=torch.float64)
        p.new("Plain", torch.float64, dtype=torch.float64)  # nothing to convert, nothing overridden: no call
        assert p.call("calls").value == ["to", "_apply", "child._apply"]
        p.close()


def test_gradients_of_a_backward_call_are_that_call_s_alone():
    with Sandbox("auto") as sb:
        p = _open(sb)
        m = p.new("Plain", dtype=torch.float64)
        x = torch.randn(1, 2, dtype=torch.float64)
        g = torch.ones(1, 3, dtype=torch.float64)
        first = p.call(m, x, backward=g).param_grads
        p.call(m, x)  # a plain call in between
        again = p.call(m, x, backward=g).param_grads
        for name in first:
            assert torch.equal(first[name], again[name]), f"{name}: gradients accumulated over calls"
        p.close()


def test_the_zygote_s_objects_are_frozen_before_a_child_forks():
    """A child's garbage collections must not walk what it inherited (each object they touch copies its page)."""
    with Sandbox("auto") as sb:
        p = sb.open("import gc\ndef frozen():\n    return gc.get_freeze_count()\n", "gcprobe")
        assert p.call("frozen").value > 10_000  # torch alone is hundreds of thousands of objects
        p.close()
