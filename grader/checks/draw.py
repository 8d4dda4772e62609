"""Seeded randomness for checks: sizes and tensors drawn at grading time.

A `Draw` is seeded from the run's seed and the check's id, so every
submission of a run sees the same inputs (and the reference runs once), while
a new run draws new sizes: nothing can be hard-coded.
"""

from __future__ import annotations

import hashlib
import random

import torch


def derive_seed(*parts: object) -> int:
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(h[:8], "little") & ((1 << 63) - 1)


class Draw:
    """Random sizes, choices and tensors from one seed."""

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.gen = torch.Generator().manual_seed(seed)

    def child(self, *parts: object) -> "Draw":
        return Draw(derive_seed(self.seed, *parts))

    def int(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi]."""
        return self.rng.randint(lo, hi)

    def distinct(self, n: int, lo: int, hi: int) -> list[int]:
        """n different integers in [lo, hi] (sizes that cannot be confused with each other)."""
        return self.rng.sample(range(lo, hi + 1), n)

    def choice(self, seq):
        return self.rng.choice(list(seq))

    def bool(self) -> bool:
        return self.rng.random() < 0.5

    def randn(self, *shape: int, dtype: torch.dtype = torch.float64, scale: float = 1.0) -> torch.Tensor:
        return torch.randn(*shape, generator=self.gen, dtype=dtype) * scale

    def uniform(self, *shape: int, lo: float = -1.0, hi: float = 1.0,
                dtype: torch.dtype = torch.float64) -> torch.Tensor:
        return torch.rand(*shape, generator=self.gen, dtype=dtype) * (hi - lo) + lo

    def randint(self, lo: int, hi: int, shape: tuple[int, ...]) -> torch.Tensor:
        """Integers in [lo, hi) (torch's convention)."""
        return torch.randint(lo, hi, shape, generator=self.gen)

    def perturb_state(self, module: torch.nn.Module, scale: float = 0.3) -> dict[str, torch.Tensor]:
        """A state_dict of `module` with every parameter redrawn: non-symmetric, non-zero biases."""
        state = {}
        for name, value in module.state_dict().items():
            if value.is_floating_point():
                state[name] = self.uniform(*value.shape, lo=-scale, hi=scale, dtype=value.dtype)
            else:
                state[name] = value.clone()
        return state


def check_draw(seed: int, check_id: str) -> Draw:
    """The `draw` fixture of one check in one run."""
    return Draw(derive_seed(seed, check_id))


def once_for(cache: dict, seed: int, check_id: str):
    """The `once` fixture: ``once(fn, key="")`` is ``fn(draw)``, computed once per run and cached.

    The grader's pytest plugin and the nbgrader in-kernel runner both use this,
    so both paths draw the same cases from the same seed.
    """

    def once(fn, key: str = ""):
        k = (check_id, key)
        if k not in cache:
            cache[k] = fn(Draw(derive_seed(seed, check_id, "once", key)))
        return cache[k]

    return once
