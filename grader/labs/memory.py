"""Lab `memory`: how long can each recurrent network hold a symbol?

The task is a one-symbol copy task with a delay. Every input step shows a
random symbol out of K (one-hot) plus a mark bit; exactly one step is marked,
``d`` steps before the end of the sequence. After the last step the network
must copy the marked symbol (a K-way classification of its last hidden state).
Between the mark and the answer come ``d - 1`` distracting symbols, so the
network has to keep the symbol in its state and ignore the rest.

RNN, LSTM and GRU get the same training budget: the same number of Adam
updates on the same batches, with delays drawn log-uniformly from 1..T (short
delays teach the task, long ones test the memory). Accuracy is then measured
for each delay separately; chance is 1/K.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .common import COLORS, LabResult, call_student, lab_session, new_figure, output_paths, save_figure, write_csv
from .loading import LoadedModules, require

NAME = "memory"
MODULES = ("rnn", "gated")


@dataclass
class Settings:
    """Sizes and training budget of the memory lab."""

    symbols: int = 8  # K, chance accuracy is 1/K
    hidden_size: int = 32  # H of every network
    length: int = 48  # T, every sequence's length; delays run 1..T
    steps: int = 500  # Adam updates per network (the training budget)
    batch_size: int = 32
    lr: float = 0.01
    test_size: int = 500  # test sequences per delay
    seed: int = 0

    @classmethod
    def quick(cls) -> "Settings":
        return cls(length=24, steps=200, test_size=300)

    def delays(self) -> list[int]:
        """The delays at which accuracy is measured: powers of two, then T."""
        out = [d for d in (1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256) if d < self.length]
        return out + [self.length]


def make_batch(settings: Settings, n: int, generator: torch.Generator,
               delay: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``x [T, n, K+1]`` (time-first) and the symbols to copy ``y [n]``.

    Without ``delay``, each sequence draws its own delay log-uniformly from 1..T.
    """
    T, K = settings.length, settings.symbols
    symbols = torch.randint(0, K, (T, n), generator=generator)  # (T, n)
    if delay is None:
        u = torch.rand(n, generator=generator)
        d = torch.exp(u * math.log(T + 1)).floor().long().clamp(1, T)  # (n,) log-uniform in 1..T
    else:
        d = torch.full((n,), delay, dtype=torch.long)
    where = T - d  # (n,) the marked step
    rows = torch.arange(n)
    x = torch.zeros(T, n, K + 1)
    x[..., :K] = nn.functional.one_hot(symbols, K).float()
    x[where, rows, K] = 1.0  # the mark bit
    return x, symbols[where, rows]


def train_and_test(cls, settings: Settings) -> list[float]:
    """Train ``cls(K+1, H)`` plus a linear read-out; accuracy for each delay."""
    K, H = settings.symbols, settings.hidden_size
    torch.manual_seed(settings.seed)
    rnn = cls(K + 1, H)
    head = nn.Linear(H, K)
    opt = torch.optim.Adam([*rnn.parameters(), *head.parameters()], lr=settings.lr)
    data = torch.Generator().manual_seed(settings.seed + 1)  # the same batches for every network
    for _ in range(settings.steps):
        x, y = make_batch(settings, settings.batch_size, data)
        output, _ = rnn(x)  # (T, B, H)
        loss = nn.functional.cross_entropy(head(output[-1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    accuracies = []
    with torch.no_grad():
        for d in settings.delays():
            x, y = make_batch(settings, settings.test_size, torch.Generator().manual_seed(settings.seed + 2), d)
            output, _ = rnn(x)
            accuracies.append((head(output[-1]).argmax(-1) == y).double().mean().item())
    return accuracies


def run(loaded: LoadedModules, out: Path, settings: Settings | None = None) -> LabResult:
    """Train and test each network, write ``memory.csv`` and ``memory.png`` into ``out``."""
    settings = settings or Settings()
    start = time.perf_counter()
    png, csv_path = output_paths(out, NAME)
    RNN = require(loaded, "rnn", "RNN")
    LSTM, GRU = require(loaded, "gated", "LSTM", "GRU")
    curves: dict[str, list[float]] = {}
    with lab_session(settings.seed):
        for label, cls, module in (("RNN", RNN, "rnn"), ("LSTM", LSTM, "gated"), ("GRU", GRU, "gated")):
            curves[label] = call_student(f"training {label}", loaded.sources[module],
                                         lambda: train_and_test(cls, settings))
    delays = settings.delays()
    rows = [{"model": label, "delay": d, "accuracy": float(a), "chance": 1.0 / settings.symbols,
             "steps": settings.steps, "batch_size": settings.batch_size}
            for label, accs in curves.items() for d, a in zip(delays, accs)]
    write_csv(csv_path, rows)

    findings: dict[str, float] = {}
    summary = []
    for label, accs in curves.items():
        findings[f"{label}@{delays[-1]}"] = accs[-1]
        held = [d for d, a in zip(delays, accs) if a >= 0.9]
        longest = max(held) if held else 0
        findings[f"{label}_holds"] = float(longest)
        summary.append(f"{label:>4}: accuracy {accs[-1]:.2f} at delay {delays[-1]}; "
                       f"≥ 0.9 up to delay {longest} (chance {1 / settings.symbols:.2f})")

    fig, (ax,) = new_figure(width=7.0, height=4.2)
    for (label, accs), style in zip(curves.items(), ("o-", "s--", "^:")):
        ax.plot(delays, accs, style, color=COLORS[label], label=label, lw=1.8, ms=5)
    ax.axhline(1.0 / settings.symbols, color="#999999", ls=":", lw=1, label="chance")
    ax.set_xscale("log", base=2)
    ax.set_xticks(delays, [str(d) for d in delays])
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("delay: steps between the marked symbol and the answer")
    ax.set_ylabel("copy accuracy")
    ax.set_title(f"Memory after the same budget ({settings.steps} Adam steps × {settings.batch_size}, H={settings.hidden_size})")
    ax.grid(True, alpha=0.3)
    ax.legend()
    save_figure(fig, png, loaded.sources)
    return LabResult(NAME, png, csv_path, rows, findings, summary, dict(loaded.sources),
                     time.perf_counter() - start)
