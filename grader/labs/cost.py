"""Lab `cost`: what does a gate cost? Parameters and time of RNN, GRU and LSTM.

At equal input and hidden sizes (I = H) a layer of each kind has ``G`` stacked
blocks of weights, ``G (H I + H H + 2 H)`` parameters, with G = 1 for the tanh
RNN, 3 for the GRU and 4 for the LSTM: the GRU has exactly 3/4 of the LSTM's
parameters, and does 3/4 of its multiply-adds per step. The lab counts the
parameters of the modules it is given (a mistake in a student's layout shows
up here) and times forward + backward over a sequence, divided by its length.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .common import (COLORS, LabResult, call_student, lab_session, new_figure, output_paths, save_figure,
                     time_call, write_csv)
from .loading import LoadedModules, require

NAME = "cost"
MODULES = ("rnn", "gated")
GATE_BLOCKS = {"RNN": 1, "GRU": 3, "LSTM": 4}


@dataclass
class Settings:
    """Sizes of the cost lab."""

    hidden_sizes: list[int] = field(default_factory=lambda: [32, 64, 128, 256, 512])  # H (= I)
    length: int = 32  # T, time steps per timed call
    batch_size: int = 32  # B
    repeats: int = 5  # at most this many timed calls per point (the fastest is kept)
    budget_s: float = 1.0  # stop repeating a point after this much time
    seed: int = 0

    @classmethod
    def quick(cls) -> "Settings":
        return cls(hidden_sizes=[16, 64], length=8, batch_size=8, repeats=2, budget_s=0.2)


def fwd_bwd_seconds(model: torch.nn.Module, settings: Settings, size: int) -> float:
    """Median seconds of one forward + backward pass over ``[T, B, I]``."""
    x = torch.randn(settings.length, settings.batch_size, size)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        output, _ = model(x)  # (T, B, H)
        output.sum().backward()

    return time_call(step, repeats=settings.repeats, budget_s=settings.budget_s)


def run(loaded: LoadedModules, out: Path, settings: Settings | None = None) -> LabResult:
    """Count and time each layer, write ``cost.csv`` and ``cost.png`` into ``out``."""
    settings = settings or Settings()
    start = time.perf_counter()
    png, csv_path = output_paths(out, NAME)
    classes = {"RNN": require(loaded, "rnn", "RNN")}
    classes["GRU"], classes["LSTM"] = require(loaded, "gated", "GRU", "LSTM")
    rows = []
    with lab_session(settings.seed):
        for H in settings.hidden_sizes:
            for label, cls in classes.items():
                source = loaded.sources["rnn" if label == "RNN" else "gated"]
                model = call_student(f"{label}({H}, {H})", source, lambda: cls(H, H))
                params = sum(p.numel() for p in model.parameters())
                seconds = call_student(f"{label} forward/backward", source,
                                       lambda: fwd_bwd_seconds(model, settings, H))
                rows.append({
                    "model": label,
                    "hidden_size": H,
                    "params": params,
                    "expected_params": GATE_BLOCKS[label] * (2 * H * H + 2 * H),
                    "macs_per_step": GATE_BLOCKS[label] * 2 * H * H * settings.batch_size,
                    "ms_per_step": 1000.0 * seconds / settings.length,
                })
    write_csv(csv_path, rows)

    by = {(r["model"], r["hidden_size"]): r for r in rows}
    H = settings.hidden_sizes[-1]
    findings = {
        "gru_lstm_param_ratio": by["GRU", H]["params"] / by["LSTM", H]["params"],
        "rnn_lstm_param_ratio": by["RNN", H]["params"] / by["LSTM", H]["params"],
        "gru_lstm_time_ratio": by["GRU", H]["ms_per_step"] / by["LSTM", H]["ms_per_step"],
        "rnn_lstm_time_ratio": by["RNN", H]["ms_per_step"] / by["LSTM", H]["ms_per_step"],
    }
    summary = [f"{m:>4} (H = I = {H}): {by[m, H]['params']:>9,} parameters, "
               f"{by[m, H]['ms_per_step']:.3f} ms per step forward+backward (B = {settings.batch_size})"
               for m in ("RNN", "GRU", "LSTM")]
    summary.append(f"GRU/LSTM: parameters ×{findings['gru_lstm_param_ratio']:.3f}, "
                   f"time ×{findings['gru_lstm_time_ratio']:.2f}")
    wrong = [r for r in rows if r["params"] != r["expected_params"]]
    if wrong:
        summary.append(f"note: {wrong[0]['model']}({wrong[0]['hidden_size']}) has {wrong[0]['params']} parameters, "
                       f"torch's layout has {wrong[0]['expected_params']}")

    fig, (ax_p, ax_t) = new_figure(2, width=5.0, height=4.0)
    labels = ("RNN", "GRU", "LSTM")
    counts = [by[m, H]["params"] for m in labels]
    bars = ax_p.bar(labels, counts, color=[COLORS[m] for m in labels])
    for bar, count in zip(bars, counts):
        ax_p.annotate(f"{count:,}\n({count / counts[-1]:.2f} × LSTM)", (bar.get_x() + bar.get_width() / 2, count),
                      ha="center", va="bottom", fontsize=8)
    ax_p.set_ylim(0, counts[-1] * 1.25)
    ax_p.set_ylabel("parameters")
    ax_p.set_title(f"Parameters at H = I = {H}")
    for label in labels:
        sizes = settings.hidden_sizes
        ax_t.plot(sizes, [by[label, h]["ms_per_step"] for h in sizes], "o-", color=COLORS[label], label=label)
    ax_t.set_xscale("log", base=2)
    ax_t.set_yscale("log")
    ax_t.set_xticks(settings.hidden_sizes, [str(h) for h in settings.hidden_sizes])
    ax_t.set_xlabel("hidden size H (= input size I)")
    ax_t.grid(True, which="major", alpha=0.3)
    ax_t.legend()
    ax_t.set_ylabel("ms per time step (forward + backward)")
    ax_t.set_title(f"Time per step, batch {settings.batch_size}, 1 thread")
    save_figure(fig, png, loaded.sources)
    return LabResult(NAME, png, csv_path, rows, findings, summary, dict(loaded.sources),
                     time.perf_counter() - start)
