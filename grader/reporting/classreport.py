"""The class table (students x items, totals) and per-check failure rates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .. import escape
from ..gradebook import Gradebook


@dataclass
class CheckStats:
    item: str
    check: str
    description: str
    attempts: int
    failures: int

    @property
    def rate(self) -> float:
        return self.failures / self.attempts if self.attempts else 0.0


def class_table(gb: Gradebook) -> tuple[list[str], list[list[str]]]:
    items = [i for _, i in gb.items()]
    results = {(r.student, r.item): r for r in gb.results()}
    headers = ["student"] + items + ["total"]
    rows = []
    maxima = {i: max((r.max_score for (s, it), r in results.items() if it == i), default=0.0) for i in items}
    for s in gb.students():
        row, total = [escape.one_line(s, 40)], 0.0
        for i in items:
            r = results.get((s, i))
            row.append(f"{r.score:g}" if r else "-")
            total += r.score if r else 0.0
        row.append(f"{total:g}/{sum(maxima.values()):g}")
        rows.append(row)
    rows.append(["(max)"] + [f"{maxima[i]:g}" for i in items] + [f"{sum(maxima.values()):g}"])
    return headers, rows


def notes(gb: Gradebook) -> list[list[str]]:
    """(student, item, note) for what an instructor must see beside the scores: extensions and exemptions,
    late penalties with their time source, refusals, detected tampering and resource limits."""
    rows = []
    for r in gb.results():
        found = []
        if r.extension:
            found.append(f"extension: {r.extension}")
        if r.late_penalty:
            found.append(f"late -{r.late_penalty:.0%} (submitted {r.submitted_at}, {r.time_source})")
        found += [f"{f.kind}: {f.where}: {f.detail}" for f in r.flags]
        for note in found:
            rows.append([escape.one_line(r.student, 40), r.item, escape.one_line(note, 140)])
    return rows


def failure_rates(gb: Gradebook) -> list[CheckStats]:
    stats: dict[tuple[str, str], CheckStats] = {}
    for r in gb.results():
        for c in r.checks:
            if c.max_score == 0:
                continue
            st = stats.setdefault((r.item, c.name), CheckStats(r.item, c.name, c.description, 0, 0))
            st.attempts += 1
            st.failures += 0 if c.passed else 1
    return sorted(stats.values(), key=lambda s: (-s.rate, s.item, s.check))


def plot_report(gb: Gradebook, path: Path, top: int = 20) -> Path:
    """A PNG: score histogram per item, and the checks the class failed most."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_item: dict[str, list[float]] = defaultdict(list)
    for r in gb.results():
        by_item[r.item].append(100.0 * r.score / r.max_score if r.max_score else 0.0)
    rates = [s for s in failure_rates(gb) if s.failures][:top]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, max(4, 0.35 * len(rates) + 1.5)))
    for item, scores in sorted(by_item.items()):
        ax1.hist(scores, bins=10, range=(0, 100), alpha=0.5, label=item)
    ax1.set_xlabel("score (% of maximum)")
    ax1.set_ylabel("students")
    ax1.set_title("Score distribution")
    if by_item:
        ax1.legend(fontsize=8)
    labels = [f"{s.item}:{s.check}" for s in rates][::-1]
    ax2.barh(labels, [100 * s.rate for s in rates][::-1], color="tab:red")
    ax2.set_xlabel("students failing (%)")
    ax2.set_xlim(0, 100)
    ax2.set_title("Most failed checks")
    ax2.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
