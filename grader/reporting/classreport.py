"""For the terminal: the class table (students x items, totals, rounded), notes, per-check failure rates, and
the PNG drawn from the class report's numbers (`grader.reporting.classdata`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import escape
from ..gradebook import Gradebook
from .numbers import points

if TYPE_CHECKING:
    from .classdata import ClassReport


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
            row.append(points(r.score) if r else "-")
            total += r.score if r else 0.0
        row.append(f"{points(total)}/{points(sum(maxima.values()))}")
        rows.append(row)
    rows.append(["(max)"] + [points(maxima[i]) for i in items] + [points(sum(maxima.values()))])
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
            found.append(f"late -{r.late_penalty:.0%} of {points(r.raw_score)} (submitted {r.submitted_at}, "
                         f"{r.time_source})")
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


def plot_report(rep: "ClassReport", path: Path, top: int = 12) -> Path:
    """A PNG for the terminal workflow, along the lines of the HTML dashboard: the students x items heatmap
    (rounded percentages, marks), each item's scores as dots over a box plot, and the root causes the most
    students share (integer axes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.ticker import MaxNLocator

    from .dashboard import MARK_LETTERS

    causes = [c for c in rep.causes if c.kind != "problem"][:top]
    n_s, n_i = len(rep.students), len(rep.items)
    height = max(4.5, 0.45 * max(n_s, n_i, len(causes)) + 2.0)
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(19, height), gridspec_kw={"width_ratios": [1.2, 1.0, 0.8]})
    cmap = LinearSegmentedColormap.from_list("score", ["#d73027", "#fee08b", "#1a9850"])

    # heatmap: rows students, columns items
    grid = [[rep.cell(s, it.id).fraction for it in rep.items] for s in rep.students]
    ax1.imshow([[float("nan") if v is None else v for v in row] for row in grid], cmap=cmap, vmin=0, vmax=1,
               aspect="auto")
    for i, s in enumerate(rep.students):
        for j, it in enumerate(rep.items):
            c = rep.cell(s, it.id)
            marks = "".join(MARK_LETTERS[m] for m in c.marks)
            text = "–" if c.fraction is None else f"{round(100 * c.fraction)}"
            ax1.text(j, i, text + (f"\n{marks}" if marks else ""), ha="center", va="center", fontsize=8)
    ax1.set_xticks(range(n_i), [it.id for it in rep.items], rotation=45, ha="right", fontsize=8)
    ax1.set_yticks(range(n_s), [_label(s) for s in rep.students], fontsize=9)
    ax1.set_title("Score (% of each item; L late, E extended, X exempt,\nR refused, T tampering, ! problem)",
                  fontsize=10)

    # per item: a box plot with every student's score as a dot over it
    dists = rep.distributions
    for k, d in enumerate(dists):
        vals = [100 * v for _, v in d.values]
        ax2.boxplot([vals], positions=[k], vert=False, widths=0.5, showfliers=False,
                    medianprops={"color": "#1d3f73", "linewidth": 2})
        seen: dict[int, int] = {}
        for v in vals:
            j = seen.get(round(v), 0)
            seen[round(v)] = j + 1
            ax2.plot(v, k + (0.12 * ((j + 1) // 2) * (-1 if j % 2 else 1)), "o", color=cmap(v / 100),
                     markeredgecolor="#222", markersize=6)
        ax2.text(106, k, f"n={d.n}\nmedian {round(100 * d.median)}%", va="center", fontsize=8)
    ax2.set_yticks(range(len(dists)), [d.item for d in dists], fontsize=8)
    ax2.set_xlim(-3, 130)
    ax2.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    ax2.invert_yaxis()
    ax2.set_title("Score distribution per item (one dot per student)", fontsize=10)

    # the causes the most students share
    labels = [_label(f"{c.item}: {c.key.split(':', 1)[-1] if c.kind == 'bug' else c.title}", 42) for c in causes]
    ax3.barh(range(len(causes)), [len(c.students) for c in causes], color="#e07b72")
    for k, c in enumerate(causes):
        ax3.text(0.05, k, _label(", ".join(c.students), 50), va="center", fontsize=7)
    ax3.set_yticks(range(len(causes)), labels, fontsize=8)
    ax3.invert_yaxis()
    ax3.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax3.set_xlim(0, max([len(c.students) for c in causes] + [1]))
    ax3.set_xlabel("students")
    ax3.set_title("Most common bugs (root causes of failed checks)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _label(text: str, limit: int = 40) -> str:
    """Student text for a matplotlib label: one visible line, and no `$` that would start math mode."""
    return escape.one_line(text, limit).replace("$", r"\$")
