"""Lab `parallel`: an RNN layer steps through time; self-attention does not.

Two measurements against the sequence length T:

* **time** of forward + backward through one RNN layer (``d -> d``) and one
  multi-head self-attention layer (``d`` wide), single-threaded. The RNN does
  ``O(T d^2)`` work in T dependent steps; attention does ``O(T^2 d)`` work in a
  fixed number of big matrix products. Where the curves cross is marked.
* **sequential steps**: the length of the longest chain of dependent tensor
  operations in the layer's computation (the depth of its autograd graph, from
  the output back to the input). Each operation on the chain must wait for
  the one before; operations off the chain could run at the same time. An RNN's
  chain grows with T; attention's stays the same whatever T is.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .common import (COLORS, LabResult, call_student, lab_session, new_figure, output_paths, save_figure,
                     time_call, write_csv)
from .loading import LoadedModules, require

NAME = "parallel"
MODULES = ("rnn", "attention")


@dataclass
class Settings:
    """Sizes of the parallel lab."""

    lengths: list[int] = field(default_factory=lambda: [4, 8, 16, 32, 64, 128, 256, 512, 1024])  # T
    d_model: int = 64  # d: the RNN's input and hidden size, the attention's embed_dim
    num_heads: int = 4
    batch_size: int = 8  # B
    repeats: int = 15  # at most this many timed calls per point (the fastest is kept)
    budget_s: float = 0.5  # stop repeating a point after this much time
    seed: int = 0

    @classmethod
    def quick(cls) -> "Settings":
        return cls(lengths=[2, 8, 32, 128], d_model=32, num_heads=2, batch_size=2, repeats=1, budget_s=0.2)


def graph_depth(output: torch.Tensor) -> int:
    """Operations on the longest chain from ``output`` back to the inputs (autograd nodes).

    Leaves (``AccumulateGrad``) do not count. Iterative, so a 10,000-step chain
    does not hit Python's recursion limit.
    """
    root = output.grad_fn
    if root is None:
        return 0
    depth: dict[torch.autograd.graph.Node, int] = {}
    stack: list[tuple[torch.autograd.graph.Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if node in depth:
            continue
        children = [n for n, _ in node.next_functions if n is not None]
        if expanded:
            own = 0 if type(node).__name__ == "AccumulateGrad" else 1
            depth[node] = own + max((depth[c] for c in children), default=0)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if c not in depth)
    return depth[root]


def find_crossings(lengths: list[int], a: list[float], b: list[float]) -> list[float]:
    """Lengths where curve ``a`` and curve ``b`` cross (log-log interpolation)."""
    crossings = []
    for i in range(len(lengths) - 1):
        d0 = math.log(a[i]) - math.log(b[i])
        d1 = math.log(a[i + 1]) - math.log(b[i + 1])
        if d0 == 0:
            crossings.append(float(lengths[i]))
        elif d0 * d1 < 0:
            frac = d0 / (d0 - d1)
            crossings.append(math.exp(math.log(lengths[i]) + frac * (math.log(lengths[i + 1]) - math.log(lengths[i]))))
    return crossings


def run(loaded: LoadedModules, out: Path, settings: Settings | None = None) -> LabResult:
    """Time both layers and count their sequential steps; write ``parallel.csv``/``.png``."""
    settings = settings or Settings()
    start = time.perf_counter()
    png, csv_path = output_paths(out, NAME)
    RNN = require(loaded, "rnn", "RNN")
    MHA = require(loaded, "attention", "MultiHeadAttention")
    d, B = settings.d_model, settings.batch_size
    rows = []
    with lab_session(settings.seed):
        rnn = call_student(f"RNN({d}, {d})", loaded.sources["rnn"], lambda: RNN(d, d))
        mha = call_student(f"MultiHeadAttention({d}, {settings.num_heads})", loaded.sources["attention"],
                           lambda: MHA(d, settings.num_heads))
        for T in settings.lengths:
            x_rnn = torch.randn(T, B, d, requires_grad=True)  # time-first
            x_att = torch.randn(B, T, d, requires_grad=True)  # batch-first

            def rnn_pass() -> torch.Tensor:
                output, _ = rnn(x_rnn)  # (T, B, d)
                return output

            def attention_pass() -> torch.Tensor:
                output, _ = mha(x_att, x_att, x_att)  # (B, T, d): self-attention
                return output

            for label, layer, forward, module in (("RNN", rnn, rnn_pass, "rnn"),
                                                  ("self-attention", mha, attention_pass, "attention")):
                def step(layer=layer, forward=forward) -> None:
                    layer.zero_grad(set_to_none=True)
                    forward().sum().backward()

                source = loaded.sources[module]
                steps = call_student(f"{label} forward", source, lambda: graph_depth(forward()))
                seconds = call_student(f"{label} forward/backward", source,
                                       lambda: time_call(step, repeats=settings.repeats, budget_s=settings.budget_s))
                rows.append({"model": label, "length": T, "ms_fwd_bwd": 1000.0 * seconds,
                             "sequential_steps": steps})
    write_csv(csv_path, rows)

    lengths = settings.lengths
    ms = {m: [r["ms_fwd_bwd"] for r in rows if r["model"] == m] for m in ("RNN", "self-attention")}
    depth = {m: [r["sequential_steps"] for r in rows if r["model"] == m] for m in ("RNN", "self-attention")}
    crossings = find_crossings(lengths, ms["RNN"], ms["self-attention"])
    findings = {
        "rnn_steps_first": float(depth["RNN"][0]), "rnn_steps_last": float(depth["RNN"][-1]),
        "attention_steps_first": float(depth["self-attention"][0]),
        "attention_steps_last": float(depth["self-attention"][-1]),
    }
    if crossings:
        findings["crossover"] = crossings[0]
    summary = [
        f"sequential steps, T = {lengths[0]} -> {lengths[-1]}: RNN {depth['RNN'][0]} -> {depth['RNN'][-1]}, "
        f"self-attention {depth['self-attention'][0]} -> {depth['self-attention'][-1]}",
        f"time at T = {lengths[-1]}: RNN {ms['RNN'][-1]:.1f} ms, self-attention {ms['self-attention'][-1]:.1f} ms",
        ("the time curves cross at T ≈ " + ", ".join(f"{c:.0f}" for c in crossings)) if crossings
        else "the time curves do not cross in the lengths measured",
    ]

    fig, (ax_t, ax_s) = new_figure(2, width=5.2, height=4.0)
    for label in ("RNN", "self-attention"):
        ax_t.plot(lengths, ms[label], "o-", color=COLORS[label], label=label)
        ax_s.plot(lengths, depth[label], "o-", color=COLORS[label], label=label)
    for c in crossings:
        ax_t.axvline(c, color="#444444", ls="--", lw=1)
        ax_t.annotate(f"crossover\nT ≈ {c:.0f}", (c, ax_t.get_ylim()[1]), xytext=(-4, -4),
                      textcoords="offset points", va="top", ha="right", fontsize=8)
    ax_t.set_title(f"Forward + backward time (d={d}, {settings.num_heads} heads, B={B}, 1 thread)", fontsize=10)
    ax_t.set_ylabel("ms per call")
    ax_s.set_title("Sequential steps: longest chain of dependent ops", fontsize=10)
    ax_s.set_ylabel("operations on the critical path")
    for ax in (ax_t, ax_s):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(lengths, [str(T) for T in lengths], fontsize=8)
        ax.set_xlabel("sequence length T")
        ax.grid(True, which="major", alpha=0.3)
    ax_t.legend(loc="lower right")
    ax_s.legend(loc="upper left")
    save_figure(fig, png, loaded.sources)
    return LabResult(NAME, png, csv_path, rows, findings, summary, dict(loaded.sources),
                     time.perf_counter() - start)
