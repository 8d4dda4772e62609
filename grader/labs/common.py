"""What every lab shares: its result record, CSV and figure writing, timing.

Imported only when a lab runs (it imports torch and matplotlib).
"""

from __future__ import annotations

import csv
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from ..errors import UsageError  # noqa: E402

COLORS = {  # one colour per model in every lab, so plots read alike
    "RNN": "#d62728",
    "LSTM": "#1f77b4",
    "GRU": "#2ca02c",
    "LSTM (forget bias 1)": "#9467bd",  # vanishing.OPENED
    "self-attention": "#ff7f0e",
    "attention": "#ff7f0e",
    "no attention": "#7f7f7f",
}


@dataclass
class LabResult:
    """What a lab produced: its files, its table and what it found."""

    name: str  # the lab's name, e.g. "vanishing"
    png: Path  # the plot
    csv: Path  # the numbers behind it, one row per point
    rows: list[dict[str, Any]]  # the CSV's rows, as written
    findings: dict[str, float] = field(default_factory=dict)  # the numbers the summary quotes
    summary: list[str] = field(default_factory=list)  # one sentence per finding, for the terminal
    sources: dict[str, str] = field(default_factory=dict)  # module -> where its code came from
    seconds: float = 0.0  # wall time of the whole lab
    extra: list[Path] = field(default_factory=list)  # further files, e.g. attention weights as CSV


def output_paths(out: Path, name: str) -> tuple[Path, Path]:
    """``out/name.png`` and ``out/name.csv``, creating ``out``."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the folder ({exc.strerror})") from exc
    return out / f"{name}.png", out / f"{name}.csv"


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` (dicts with the same keys) as CSV; floats keep 6 significant digits."""
    if not rows:
        raise ValueError("a lab must produce at least one row")
    fields = list(rows[0])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


def new_figure(ncols: int = 1, *, width: float = 6.0, height: float = 4.0, **kwargs):
    """A figure with ``ncols`` axes side by side, sized for a lesson page."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False, **kwargs)
    return fig, list(axes[0])


def save_figure(fig, path: Path, sources: dict[str, str]) -> None:
    """Save ``fig`` as a small PNG with a footnote naming the code that was measured."""
    fig.text(0.01, 0.01, "code measured: " + "; ".join(f"{m} = {s}" for m, s in sources.items()),
             fontsize=7, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=90, metadata={"Software": None})  # no version string: stable bytes
    plt.close(fig)


@contextmanager
def lab_session(seed: int) -> Iterator[None]:
    """Seeded, single-threaded torch for the lab's duration, restored afterwards."""
    threads = torch.get_num_threads()
    dtype = torch.get_default_dtype()
    state = torch.random.get_rng_state()
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.set_default_dtype(dtype)
        torch.random.set_rng_state(state)


def time_call(fn: Callable[[], Any], *, repeats: int, warmup: int = 1, budget_s: float | None = None) -> float:
    """The fastest wall time of ``fn()`` in seconds over up to ``repeats`` calls after ``warmup``.

    The minimum, not the mean: other processes only ever add time. With
    ``budget_s``, stops early (after at least one timed call) once the timed
    calls have used that much, so long sequences do not blow the lab's budget.
    """
    for _ in range(warmup):
        fn()
    best = math.inf
    spent = 0.0
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
        if budget_s is not None and spent >= budget_s:
            break
    return best


def call_student(what: str, source: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn()``; an exception from the measured code becomes a `UsageError` naming it."""
    try:
        return fn()
    except UsageError:
        raise
    except Exception as exc:  # the learner's code failed: say where, not a traceback
        raise UsageError(f"{what} failed in {source}: {type(exc).__name__}: {exc}") from exc
