"""Run a check's recorded calls in the grader's process on a trusted module (a known-bug variant).

`LocalRun` answers each `Call` as the sandboxed child would have answered it
for that module: the same argument round trip (tensors cloned, `GradInput`s
made leaves that require grad, handles resolved), the same grad mode and
backward pass, and the value rebuilt through the wire encoding, so what comes
back has the form of what the student's child returned. Only the course's own
code runs here, never a submission.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import torch

from ..sandbox import wire
from ..sandbox.client import CallResult
from .transcript import Call


# The sandbox's own message when a backward pass finds nothing to differentiate (grader/sandbox/harness.py).
NO_GRAD_MESSAGE = ("no output requires grad: the outputs are cut off from the inputs and parameters (look for "
                   ".detach(), .data, torch.no_grad() or a new tensor built from .tolist()/.item())")


@dataclass(frozen=True)
class Raised:
    """The answer of a call that raised: its type, and its message with the numbers left out."""

    type_name: str
    pattern: str

    @classmethod
    def of(cls, type_name: str, message: str) -> "Raised":
        return cls(type_name, re.sub(r"[0-9]+", "#", str(message))[:120])


@dataclass(frozen=True)
class Weak:
    """An answer that depends on weights the check never set (a module left at its random init):
    only its structure (types, shapes, dtypes) and exceptions can be compared. Some structure
    depends on the values too (a greedy decoding that meets EOS after one token, then squeezed,
    loses a dimension), so `alternatives` holds the answers of the same replay from other random
    initialisations: the student's answer agrees when it has the structure of any of them."""

    answer: Any
    alternatives: tuple = ()

    def candidates(self) -> tuple:
        return (self.answer,) + tuple(self.alternatives)


class Unanswerable(Exception):
    """A call refers to something this run cannot rebuild (a handle from another check)."""


class LocalRun:
    """One fresh 'child' for a trusted module: answers a check's calls in order.

    The run draws its random numbers (a module's initial weights, dropout) from its own stream,
    seeded with `seed`: the answers never depend on what ran before in the grader, and the
    grader's own random state is left as it was."""

    def __init__(self, module: ModuleType, seed: int = 0):
        self.module = module
        self.objects: dict[int, Any] = {}  # the student's handle ids -> this run's objects
        self.loaded: set[int] = set()  # ids of the parameters the check set with load_state_dict
        self.seed = seed
        self._rng: torch.Tensor | None = None  # this run's random state between calls

    def answer(self, call: Call) -> Any:
        """What `call` returns on this module (`Raised` when it raises)."""
        with torch.random.fork_rng(devices=[]):
            if self._rng is None:
                torch.manual_seed(self.seed)
            else:
                torch.set_rng_state(self._rng)
            try:
                return self._dispatch(call)
            except Unanswerable:
                raise
            except Exception as exc:  # the variant's own exception: an answer like any other
                return Raised.of(type(exc).__name__, str(exc))
            finally:
                self._rng = torch.get_rng_state()

    # -- plumbing ----------------------------------------------------------
    def _resolve(self, ref: wire.Ref):
        if ref.id not in self.objects:
            raise Unanswerable(f"handle {ref.id} was not made by this check")
        obj = self.objects[ref.id]
        for key in ref.path:
            obj = obj[key]
        return obj

    def _arguments(self, value, grad_inputs: list):
        """The round trip the child's arguments make: tensors cloned, handles resolved."""
        enc = wire.Encoder()
        decoded = wire.decode(enc.encode(value), enc.tensors, self._resolve)
        return _materialize(decoded, grad_inputs)

    def _keep(self, ref: Any, obj: Any) -> wire.Ref:
        """Keep `obj` under the student's handle `ref` (a new handle when there is none to follow)."""
        if not isinstance(ref, wire.Ref):
            ref = wire.Ref(max(self.objects, default=0) + 1)
        self.objects[ref.id] = obj
        return ref

    # -- operations --------------------------------------------------------
    def _dispatch(self, call: Call) -> Any:
        if call.op == "new":
            return self._new(call)
        if call.op == "call":
            return self._call(call)
        mod = self._resolve(call.target)
        if call.op == "load_state_dict":
            state = {k: v.detach().contiguous().clone() for k, v in call.args[0].items()}
            res = mod.load_state_dict(state, strict=bool(call.kwargs.get("strict", True)))
            self.loaded.update(id(p) for name, p in mod.named_parameters() if name in state)
            return {"missing": list(res.missing_keys), "unexpected": list(res.unexpected_keys)}
        if call.op == "parameters":
            return [(n, tuple(int(x) for x in p.shape), str(p.dtype).replace("torch.", ""))
                    for n, p in mod.named_parameters()]
        if call.op == "set_mode":
            mod.train(bool(call.kwargs["train"]))
            return None
        raise Unanswerable(f"unknown operation {call.op!r}")

    def _new(self, call: Call) -> Any:
        kwargs = {k: v for k, v in call.kwargs.items() if k not in ("dtype", "timeout")}
        cls = getattr(self.module, str(call.target))
        obj = cls(*self._arguments(list(call.args), []), **self._arguments(kwargs, []))
        if call.kwargs.get("dtype") is not None:
            obj = obj.to(call.kwargs["dtype"])
        return self._keep(call.answer, obj)

    def _call(self, call: Call) -> CallResult:
        grad_inputs: list = []
        args = self._arguments(list(call.args), grad_inputs)
        kwargs = self._arguments(call.arguments(), grad_inputs)
        method = call.option("method", "__call__")
        if isinstance(call.target, str):
            owner, fn = None, getattr(self.module, call.target)
        else:
            owner = self._resolve(call.target)
            fn = owner if method == "__call__" else getattr(owner, method)
        if isinstance(owner, torch.nn.Module):
            for p in owner.parameters():
                p.grad = None
        backward = call.option("backward")
        grad = bool(call.option("grad")) or backward is not None
        with torch.enable_grad() if grad else torch.no_grad():
            out = fn(*args, **kwargs)
        result = CallResult(value=None)
        if backward is not None:
            pairs = [(o, g) for o, g in wire.output_grad_pairs(out, backward) if o.requires_grad]
            if not pairs:
                raise RuntimeError(NO_GRAD_MESSAGE)
            torch.autograd.backward([o for o, _ in pairs], [g.to(o.dtype) for o, g in pairs])
            result.input_grads = _round_trip([t.grad for t in grad_inputs])
            if isinstance(owner, torch.nn.Module):
                result.param_grads = _round_trip({n: p.grad for n, p in owner.named_parameters()})
        if call.option("keep"):
            result.ref = self._keep(getattr(call.answer, "ref", None), out)
        result.value = _round_trip(out)
        modules = [owner] + [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.nn.Module)]
        if any(id(p) not in self.loaded for m in modules if isinstance(m, torch.nn.Module) for p in m.parameters()):
            return Weak(result)
        return result


def _round_trip(value):
    """`value` as the grader receives it from a child: plain data, tensors detached and copied."""
    enc = wire.Encoder()
    return wire.decode(enc.encode(value), enc.tensors)


def _materialize(v, grad_inputs: list):
    if isinstance(v, wire.GradInput):
        t = v.tensor.clone().requires_grad_(True)
        grad_inputs.append(t)
        return t
    if isinstance(v, tuple):
        return tuple(_materialize(x, grad_inputs) for x in v)
    if isinstance(v, list):
        return [_materialize(x, grad_inputs) for x in v]
    if isinstance(v, dict):
        return {k: _materialize(x, grad_inputs) for k, x in v.items()}
    return v


