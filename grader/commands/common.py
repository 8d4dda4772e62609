"""Options and small helpers shared by the commands."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import CourseConfig, load_config
from ..gradebook import Gradebook

course_option = click.option(
    "--course", "course_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The course config (default: course/course.yaml in the current folder).")
gradebook_option = click.option(
    "--gradebook", "gradebook_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The SQLite gradebook (default: from the course config).")


def open_course(course_path: Path | None) -> CourseConfig:
    return load_config(course_path)


def open_gradebook(cfg: CourseConfig, gradebook_path: Path | None) -> Gradebook:
    return Gradebook(gradebook_path or cfg.gradebook)


def table(rows: list[list[str]], headers: list[str]) -> str:
    """A plain text table (wide characters counted as two columns)."""
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    cols = [headers] + rows
    widths = [max(width(str(r[i])) for r in cols) for i in range(len(headers))]

    def fmt(r):
        return "  ".join(str(c) + " " * (w - width(str(c))) for c, w in zip(r, widths)).rstrip()

    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


def fmt_points(x: float) -> str:
    """A score for people: at most two decimals (grader.reporting.numbers.points)."""
    from ..reporting.numbers import points

    return points(x)
