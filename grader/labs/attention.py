"""Lab `attention`: does attention lift the context-vector bottleneck?

Two Seq2Seq models (GRU encoder and decoder, the course's ``seq2seq.py``) learn
to reverse strings of 1..S_max symbols: one squeezes the source through the
encoder's final state alone (``Decoder``), the other also attends over every
encoder output at every step (``AttentionDecoder``, Bahdanau). Both get the same
budget: the same Adam updates on the same batches. Each is then decoded
greedily on held-out strings of each length, and the heatmaps of the trained
attention model show where each output step looked. For string reversal the
weights should lie on the anti-diagonal: output t copies source S + 1 - t.

Vocabulary: 0 pad, 1 BOS, 2 EOS, then the K symbols, shown as letters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .common import (COLORS, LabResult, call_student, lab_session, new_figure, output_paths, save_figure,
                     write_csv)
from .loading import LoadedModules, require

NAME = "attention"
MODULES = ("seq2seq",)
PAD, BOS, EOS = 0, 1, 2
FIRST_SYMBOL = 3


@dataclass
class Settings:
    """Sizes and training budget of the attention lab."""

    symbols: int = 8  # K
    embed_size: int = 32  # E
    hidden_size: int = 64  # H of encoder and decoder
    max_length: int = 16  # S_max: training sources have 1..S_max symbols
    steps: int = 500  # Adam updates per model (the training budget)
    batch_size: int = 128
    lr: float = 0.005
    test_size: int = 200  # test strings per length
    eval_lengths: list[int] = field(default_factory=lambda: [2, 4, 6, 8, 10, 12, 14, 16])
    heatmap_lengths: list[int] = field(default_factory=lambda: [7, 16])  # one example each
    seed: int = 0

    @classmethod
    def quick(cls) -> "Settings":
        return cls(hidden_size=32, max_length=10, steps=200, batch_size=64, lr=0.01, test_size=100,
                   eval_lengths=[2, 4, 7, 10], heatmap_lengths=[10])


def make_batch(settings: Settings, n: int, generator: torch.Generator, length: int | None = None):
    """``src [n,S]``, ``src_lengths [n]``, ``tgt_in [n,S+1]`` (BOS + reversed), ``tgt_out`` (reversed + EOS).

    Without ``length`` each string draws its own length from 1..S_max.
    """
    if length is None:
        lengths = torch.randint(1, settings.max_length + 1, (n,), generator=generator)  # (n,)
    else:
        lengths = torch.full((n,), length, dtype=torch.long)
    S = int(lengths.max())
    pos = torch.arange(S).unsqueeze(0)  # (1, S)
    real = pos < lengths.unsqueeze(1)  # (n, S)
    src = torch.randint(FIRST_SYMBOL, FIRST_SYMBOL + settings.symbols, (n, S), generator=generator)
    src = src.masked_fill(~real, PAD)  # (n, S)
    backwards = (lengths.unsqueeze(1) - 1 - pos).clamp(min=0)  # (n, S): index of the symbol to emit at t
    reversed_src = src.gather(1, backwards).masked_fill(~real, PAD)  # (n, S)
    tgt_out = torch.cat([reversed_src, src.new_zeros(n, 1)], dim=1)  # (n, S+1)
    tgt_out[torch.arange(n), lengths] = EOS
    tgt_in = torch.cat([src.new_full((n, 1), BOS), reversed_src], dim=1)  # (n, S+1)
    return src, lengths, tgt_in, tgt_out


def build(mod, settings: Settings, attention: bool):
    """``Seq2Seq(Encoder, Decoder | AttentionDecoder)``, GRU cells, seeded."""
    V = settings.symbols + FIRST_SYMBOL
    E, H = settings.embed_size, settings.hidden_size
    torch.manual_seed(settings.seed)
    encoder = mod.Encoder(V, E, H, cell="gru")
    decoder = (mod.AttentionDecoder if attention else mod.Decoder)(V, E, H, cell="gru")
    return mod.Seq2Seq(encoder, decoder)


def train(model, mod, settings: Settings) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    data = torch.Generator().manual_seed(settings.seed + 1)  # the same batches for both models
    model.train()
    for _ in range(settings.steps):
        src, lengths, tgt_in, tgt_out = make_batch(settings, settings.batch_size, data)
        loss = mod.sequence_loss(model(src, lengths, tgt_in), tgt_out, pad_id=PAD)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()


def evaluate(model, settings: Settings) -> list[tuple[float, float]]:
    """(token accuracy, whole-string accuracy) of greedy decoding for each eval length."""
    model.eval()
    results = []
    for length in settings.eval_lengths:
        gen = torch.Generator().manual_seed(settings.seed + 2 + length)
        src, lengths, _, tgt_out = make_batch(settings, settings.test_size, gen, length)
        with torch.no_grad():
            decoded = model.greedy_decode(src, lengths, length + 1, BOS, EOS)  # (n, <= length+1)
        predicted = torch.zeros_like(tgt_out)  # (n, length+1), a short output counts as wrong
        width = min(decoded.size(1), length + 1)
        predicted[:, :width] = decoded[:, :width]
        correct = predicted == tgt_out  # (n, length+1), EOS included
        results.append((correct.double().mean().item(), correct.all(dim=1).double().mean().item()))
    return results


def attention_maps(model, settings: Settings) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """``(source [S], target [S+1], weights [S+1, S])`` for one string of each heatmap length."""
    model.eval()
    maps = []
    with torch.no_grad():
        for length in settings.heatmap_lengths:
            gen = torch.Generator().manual_seed(settings.seed + 1000 + length)
            src, lengths, tgt_in, tgt_out = make_batch(settings, 1, gen, length)
            enc_outputs, state = model.encoder(src, lengths)  # (1, S, H)
            src_mask = torch.arange(src.size(1)).unsqueeze(0) < lengths.unsqueeze(1)  # (1, S)
            _, _, weights = model.decoder(tgt_in, state, enc_outputs, src_mask)  # (1, S+1, S)
            maps.append((src[0], tgt_out[0], weights[0].detach().double()))
    return maps


def alignment_correlation(weights: torch.Tensor) -> float:
    """Pearson correlation between output step t and ``argmax_s α(t, s)``, EOS step left out.

    -1 when the strongest weights lie on a line from the top right to the bottom
    left, as reversal needs; near 0 when attention ignores position.
    """
    t = torch.arange(weights.size(0) - 1, dtype=torch.float64)
    s = weights[:-1].argmax(dim=1).double()
    t, s = t - t.mean(), s - s.mean()
    denom = float(t.norm() * s.norm())
    return float((t * s).sum()) / denom if denom > 0 else 0.0


def _token(i: int) -> str:
    return "</s>" if i == EOS else chr(ord("a") + i - FIRST_SYMBOL)


def run(loaded: LoadedModules, out: Path, settings: Settings | None = None) -> LabResult:
    """Train both models, write ``attention.csv``, ``attention_weights.csv`` and ``attention.png``."""
    settings = settings or Settings()
    start = time.perf_counter()
    png, csv_path = output_paths(out, NAME)
    weights_csv = csv_path.with_name(f"{NAME}_weights.csv")
    mod = loaded["seq2seq"]
    require(loaded, "seq2seq", "Encoder", "Decoder", "AttentionDecoder", "Seq2Seq", "sequence_loss")
    source = loaded.sources["seq2seq"]
    scores: dict[str, list[tuple[float, float]]] = {}
    models = {}
    with lab_session(settings.seed):
        for label, attention in (("no attention", False), ("attention", True)):
            model = call_student(f"building Seq2Seq ({label})", source, lambda: build(mod, settings, attention))
            call_student(f"training Seq2Seq ({label})", source, lambda: train(model, mod, settings))
            scores[label] = call_student(f"greedy_decode ({label})", source, lambda: evaluate(model, settings))
            models[label] = model
        maps = call_student("AttentionDecoder's attention weights", source,
                            lambda: attention_maps(models["attention"], settings))

    rows = [{"model": label, "source_length": length, "token_accuracy": float(tok), "string_accuracy": float(full),
             "steps": settings.steps, "batch_size": settings.batch_size}
            for label, results in scores.items() for length, (tok, full) in zip(settings.eval_lengths, results)]
    write_csv(csv_path, rows)
    write_csv(weights_csv, [
        {"example": k, "source_length": int(src.numel()), "output_step": t, "output_token": _token(int(tgt[t])),
         "source_position": s, "source_token": _token(int(src[s])), "weight": float(w[t, s])}
        for k, (src, tgt, w) in enumerate(maps) for t in range(w.size(0)) for s in range(w.size(1))
    ])

    longest = settings.eval_lengths[-1]
    findings = {f"{label}@{longest}": results[-1][0] for label, results in scores.items()}
    findings["alignment_correlation"] = sum(alignment_correlation(w) for _, _, w in maps) / len(maps)
    summary = [f"{label:>12}: token accuracy {results[-1][0]:.2f}, whole strings {results[-1][1]:.2f} "
               f"at source length {longest}" for label, results in scores.items()]
    summary.append(f"correlation of output step t with the source position it attends to most: "
                   f"{findings['alignment_correlation']:+.2f} (reversal: -1, the anti-diagonal)")

    fig, axes = new_figure(1 + len(maps), width=4.3, height=4.2)
    ax = axes[0]
    for label, results in scores.items():
        ax.plot(settings.eval_lengths, [tok for tok, _ in results], "o-", color=COLORS[label], label=label)
    ax.set_ylim(0, 1.03)
    ax.set_xticks(settings.eval_lengths)
    ax.set_xlabel("source length")
    ax.set_ylabel("token accuracy (greedy decoding)")
    ax.set_title(f"Reversal, same budget ({settings.steps} steps × {settings.batch_size})", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left")
    for ax, (src, tgt, w) in zip(axes[1:], maps):
        image = ax.imshow(w.numpy(), cmap="viridis", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(src.numel()), [_token(int(i)) for i in src], fontsize=7)
        ax.set_yticks(range(tgt.numel()), [_token(int(i)) for i in tgt], fontsize=7)
        ax.set_xlabel("source token s")
        ax.set_ylabel("output step t")
        ax.set_title(f"attention weights α(t, s), length {src.numel()}", fontsize=10)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    save_figure(fig, png, loaded.sources)
    return LabResult(NAME, png, csv_path, rows, findings, summary, dict(loaded.sources),
                     time.perf_counter() - start, extra=[weights_csv])
