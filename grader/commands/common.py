"""Options and small helpers shared by the commands."""

from __future__ import annotations

import re
import shutil
import sys
import unicodedata
from pathlib import Path

import click

from ..config import CourseConfig, load_config
from ..gradebook import Gradebook

course_option = click.option(
    "--course", "course_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The course config (default: the nearest course/course.yaml at or above the current folder).")
gradebook_option = click.option(
    "--gradebook", "gradebook_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The SQLite gradebook (default: from the course config).")


def open_course(course_path: Path | None, *starts: Path | None) -> CourseConfig:
    """The course of `course_path`, or the one found from `starts` (given files or folders) or the current folder.

    Raises ConfigError saying what to do when no course/course.yaml is found.
    """
    from ..courseroot import course_config

    return load_config(course_config(course_path, *starts))


def open_gradebook(cfg: CourseConfig, gradebook_path: Path | None) -> Gradebook:
    return Gradebook(gradebook_path or cfg.gradebook)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes (click.style); student text in cells is escaped first
_TOKEN = re.compile(r"\x1b\[[0-9;]*m|.", re.S)
MIN_COLUMN = 8  # a column wrapped to fit the terminal keeps at least this many columns


def display_width(s: str) -> int:
    """Columns `s` takes in a terminal: colour codes take none, wide (CJK) characters two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in _ANSI.sub("", s))


def terminal_width() -> int | None:
    """The terminal's width when stdout is a terminal; None when it is a pipe or a file (no wrapping)."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size((100, 24)).columns


def table(rows: list[list[str]], headers: list[str], width: int | None | bool = True) -> str:
    """A plain text table, cells aligned by their display width (colour codes not counted).

    `width=True` wraps to the terminal's width when stdout is a terminal and
    never wraps into a pipe or file; an int wraps to that many columns; None
    never wraps. Wrapping breaks the widest columns' cells at spaces (long
    words are cut). Colours are the caller's `click.style`, which `click.echo`
    drops when stdout is not a terminal.
    """
    limit = terminal_width() if width is True else (width or None)
    cells = [[str(c) for c in r] for r in [headers] + rows]
    natural = [max(max((display_width(line) for line in r[i].split("\n")), default=0) for r in cells)
               for i in range(len(headers))]
    widths = _fit(natural, limit - 2 * (len(headers) - 1)) if limit else natural
    out = []
    for n, r in enumerate(cells):
        wrapped = [_wrap(c, w) for c, w in zip(r, widths)]
        for k in range(max(len(w) for w in wrapped)):
            parts = [w[k] if k < len(w) else "" for w in wrapped]
            out.append("  ".join(p + " " * (w - display_width(p)) for p, w in zip(parts, widths)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _fit(natural: list[int], room: int) -> list[int]:
    """Column widths summing to at most `room`: the widest columns are capped at one common width."""
    if sum(natural) <= room:
        return natural
    lo, hi = MIN_COLUMN, max(natural)
    while lo < hi:  # the largest cap that fits
        cap = (lo + hi + 1) // 2
        if sum(min(w, cap) for w in natural) <= room:
            lo = cap
        else:
            hi = cap - 1
    return [min(w, lo) for w in natural]


def _wrap(cell: str, width: int) -> list[str]:
    """`cell` as lines of at most `width` display columns (its own newlines kept)."""
    lines: list[str] = []
    for para in cell.split("\n"):
        if display_width(para) <= width:
            lines.append(para)
            continue
        current = ""
        for word in para.split(" "):
            candidate = f"{current} {word}" if current else word
            if display_width(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            for ch in _TOKEN.findall(word):  # a word longer than the column is cut (a colour code is one token)
                if display_width(current + ch) > width:
                    lines.append(current)
                    current = ""
                current += ch
        lines.append(current)
    return lines or [""]


def fmt_points(x: float) -> str:
    """A score for people: at most two decimals (grader.reporting.numbers.points)."""
    from ..reporting.numbers import points

    return points(x)
