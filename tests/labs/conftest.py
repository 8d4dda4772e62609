"""Fixtures for the lab tests: run a lab once per module on small settings."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_lab(tmp_path_factory):
    """``quick_lab(name)`` runs lab ``name`` with ``--quick`` on the reference, once per test module."""
    from grader.labs import run_lab

    cache = {}

    def run(name: str, **kwargs):
        if name not in cache:
            out = tmp_path_factory.mktemp(name)
            cache[name] = run_lab(name, solutions_dir=SOLUTIONS, out=out, quick=True, **kwargs)
        return cache[name]

    return run
