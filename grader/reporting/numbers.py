"""How scores are written: rounded for people (two decimals at most), exact in exports."""

from __future__ import annotations


def points(x: float) -> str:
    """A score for a table or a sentence: at most two decimals, no trailing zeros (14.6667 -> "14.67")."""
    text = f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def percent(x: float | None) -> str:
    """A fraction (0..1) as a whole percentage ("87%"); "-" for None."""
    return "-" if x is None else f"{round(100 * float(x)):d}%"


def exact(x: float) -> str:
    """A score for an export: every digit the gradebook holds (results are rounded to 6 decimals there)."""
    return f"{float(x):.15g}"


def fraction(score: float, max_score: float) -> float | None:
    """score / max_score, or None when there is nothing to score."""
    return score / max_score if max_score else None
