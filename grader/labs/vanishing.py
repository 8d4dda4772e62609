"""Lab `vanishing`: how fast does the gradient of h_T fade with distance T - t?

For each model the lab feeds random sequences and measures the Frobenius norm
of the Jacobian ``∂h_T/∂x_t`` for every t, i.e. how much the last hidden state
can still feel the input seen ``T - t`` steps earlier. The tanh RNN, the LSTM
and the GRU are measured at torch's default initialisation, and the LSTM once
more with its forget-gate bias set to 1 (Gers et al., 2000), which opens the
gate so that the cell state carries gradients further back.

One backward pass per sequence gives its whole Jacobian: the sequence is
repeated H times in the batch and copy j back-propagates only ``h_T[j]``, so the
input gradient of copy j is row j of ``∂h_T/∂x_t``. Float64 throughout, since a tanh RNN's
gradient drops below float32's smallest numbers within a hundred steps.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .common import COLORS, LabResult, call_student, lab_session, new_figure, output_paths, save_figure, write_csv
from .loading import LoadedModules, require

NAME = "vanishing"
MODULES = ("rnn", "gated")
FORGET_BIAS = 1.0  # the "opened" LSTM's forget-gate bias (b_if + b_hf)
PROBE = 50  # the distance the summary quotes
OPENED = f"LSTM (forget bias {FORGET_BIAS:g})"
KEYS = {"RNN": "RNN", "LSTM": "LSTM", "GRU": "GRU", OPENED: "LSTM_forget_bias"}  # label -> findings key


@dataclass
class Settings:
    """Sizes of the vanishing-gradient lab."""

    input_size: int = 32  # I
    hidden_size: int = 64  # H
    steps: int = 100  # T, the longest distance measured is T - 1
    sequences: int = 8  # random sequences averaged (geometric mean)
    seed: int = 0

    @classmethod
    def quick(cls) -> "Settings":
        return cls(steps=60, sequences=2)


def jacobian_norms(model: torch.nn.Module, settings: Settings, generator: torch.Generator) -> torch.Tensor:
    """``[T]``: the geometric mean over sequences of ‖∂h_T/∂x_t‖_F, indexed by t.

    One sequence at a time (a batch of H copies), which keeps every tensor small.
    """
    T, H, I = settings.steps, settings.hidden_size, settings.input_size
    logs = []
    for _ in range(settings.sequences):
        x0 = torch.randn(T, 1, I, dtype=torch.float64, generator=generator)
        x = x0.expand(T, H, I).clone().requires_grad_(True)  # (T, H copies, I)
        output, _ = model(x)  # (T, H copies, H), time-first
        output[-1].diagonal().sum().backward()  # copy j back-propagates h_T[j] only
        norms = x.grad.pow(2).sum(dim=(1, 2)).sqrt()  # (T,): Frobenius norm, row j from copy j
        logs.append(norms.clamp_min(1e-300).log())
    return torch.stack(logs).mean(dim=0).exp()  # (T,)


def build_models(loaded: LoadedModules, settings: Settings) -> dict[str, torch.nn.Module]:
    """The four models, float64, seeded, at torch's default initialisation."""
    RNN = require(loaded, "rnn", "RNN")
    LSTM, GRU = require(loaded, "gated", "LSTM", "GRU")
    I, H = settings.input_size, settings.hidden_size
    models = {}
    for label, cls, module in (("RNN", RNN, "rnn"), ("LSTM", LSTM, "gated"), ("GRU", GRU, "gated")):
        torch.manual_seed(settings.seed)
        models[label] = call_student(f"{label}({I}, {H})", loaded.sources[module], lambda: cls(I, H).double())
    torch.manual_seed(settings.seed)
    models[OPENED] = call_student(f"LSTM({I}, {H}) with bias_ih_l0, bias_hh_l0", loaded.sources["gated"],
                                  lambda: open_forget_gate(LSTM(I, H).double(), H))
    return models


def open_forget_gate(lstm: torch.nn.Module, H: int) -> torch.nn.Module:
    """Set the forget gate's bias b_if + b_hf to `FORGET_BIAS` (gate order i, f, g, o: rows H:2H)."""
    with torch.no_grad():
        lstm.bias_ih_l0[H : 2 * H] = FORGET_BIAS
        lstm.bias_hh_l0[H : 2 * H] = 0.0
    return lstm


def run(loaded: LoadedModules, out: Path, settings: Settings | None = None) -> LabResult:
    """Measure, write ``vanishing.csv`` and ``vanishing.png`` into ``out``."""
    settings = settings or Settings()
    start = time.perf_counter()
    png, csv_path = output_paths(out, NAME)
    curves: dict[str, list[float]] = {}
    with lab_session(settings.seed):
        for label, model in build_models(loaded, settings).items():
            generator = torch.Generator().manual_seed(settings.seed + 1)  # the same inputs for every model
            source = loaded.sources["rnn" if label == "RNN" else "gated"]
            norms = call_student(f"{label} forward/backward", source,
                                 lambda: jacobian_norms(model, settings, generator))
            curves[label] = norms.flip(0).tolist()  # index = distance T - t

    rows = [
        {"model": label, "distance": d, "grad_norm": float(v)}
        for label, values in curves.items()
        for d, v in enumerate(values)
    ]
    write_csv(csv_path, rows)

    probe = min(PROBE, settings.steps - 1)
    findings: dict[str, float] = {}
    summary = []
    for label, values in curves.items():
        key = KEYS[label]
        findings[f"{key}@{probe}"] = values[probe]
        # per-step decay factor: the slope of log-norm between distance 1 and probe
        rate = math.exp((math.log(max(values[probe], 1e-300)) - math.log(max(values[1], 1e-300))) / (probe - 1))
        findings[f"{key}_per_step"] = rate
        summary.append(f"{label:>20}: ‖∂h_T/∂x_t‖ = {values[probe]:.1e} at T-t = {probe} "
                       f"(×{rate:.2f} per step)")

    fig, (ax,) = new_figure(width=7.0, height=4.2)
    for label, values in curves.items():
        style = "--" if label == OPENED else "-"
        ax.semilogy(range(len(values)), values, style, color=COLORS[label], label=label, lw=1.8)
    ax.axvline(probe, color="#999999", lw=0.8, ls=":")
    ax.set_xlabel("distance T − t (steps back)")
    ax.set_ylabel("‖∂h_T / ∂x_t‖ (Frobenius, log scale)")
    ax.set_title(f"Vanishing gradients at default initialisation (I={settings.input_size}, H={settings.hidden_size})")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    save_figure(fig, png, loaded.sources)
    return LabResult(NAME, png, csv_path, rows, findings, summary, dict(loaded.sources),
                     time.perf_counter() - start)
