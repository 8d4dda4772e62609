"""Labs: measure a lesson's claim on the reference code or on a learner's own.

Each lab is one module with ``NAME``, ``MODULES`` (the course files it runs),
a ``Settings`` dataclass (``Settings.quick()`` for tests) and
``run(loaded, out, settings) -> LabResult``. This package imports neither
torch nor matplotlib until a lab runs.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from .common import LabResult

# name -> (module, the claim it measures)
LABS: dict[str, tuple[str, str]] = {
    "vanishing": ("grader.labs.vanishing", "‖∂h_T/∂x_t‖ against T−t for RNN, LSTM, GRU and an LSTM with open forget gate"),
    "memory": ("grader.labs.memory", "recall accuracy against delay for RNN, LSTM and GRU after the same training budget"),
    "cost": ("grader.labs.cost", "parameters and forward+backward time per step of RNN, GRU and LSTM at equal sizes"),
    "parallel": ("grader.labs.parallel", "time and sequential steps against length: an RNN layer vs a self-attention layer"),
    "attention": ("grader.labs.attention", "Seq2Seq with and without attention on string reversal; attention heatmaps"),
}


def lab_module(name: str):
    """The module of lab ``name``; `UsageError` listing the labs when there is none."""
    if name not in LABS:
        raise UsageError(f"no lab called {name!r}; the labs are: {', '.join(LABS)}")
    return importlib.import_module(LABS[name][0])


def run_lab(
    name: str,
    *,
    solutions_dir: Path,
    out: Path,
    impls: Iterable[str | Path] = (),
    quick: bool = False,
    seed: int | None = None,
) -> "LabResult":
    """Run lab ``name`` on the reference (``solutions_dir``) or the ``impls`` files."""
    from .loading import load_lab_modules, parse_impls

    module = lab_module(name)
    chosen = parse_impls(impls, module.MODULES, name)
    loaded = load_lab_modules(module.MODULES, solutions_dir, chosen, lab=name)
    settings = module.Settings.quick() if quick else module.Settings()
    if seed is not None:
        settings.seed = seed
    return module.run(loaded, Path(out), settings)
