"""Fixtures for the lab tests: run each lab once, on small settings.

Under pytest-xdist the tests of one file may land on both workers; the labs'
results are then shared through the session's common temporary folder (the
pattern pytest-xdist documents for session fixtures), so no lab trains twice.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

import pytest
from filelock import FileLock  # a dependency of torch

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _run(name: str, out: Path):
    from grader.labs import run_lab

    return run_lab(name, solutions_dir=SOLUTIONS, out=out, quick=True)


def _save(result, path: Path) -> None:
    data = asdict(result)
    data.update(png=str(result.png), csv=str(result.csv), extra=[str(p) for p in result.extra])
    path.write_text(json.dumps(data), encoding="utf-8")


def _load(path: Path):
    from grader.labs.common import LabResult

    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(png=Path(data["png"]), csv=Path(data["csv"]), extra=[Path(p) for p in data["extra"]])
    return LabResult(**data)


@pytest.fixture(scope="session")
def quick_lab(tmp_path_factory, request):
    """``quick_lab(name)``: the `LabResult` of lab ``name`` run with ``--quick`` on the reference."""
    cache: dict[str, object] = {}
    shared = hasattr(request.config, "workerinput")  # an xdist worker
    root = tmp_path_factory.getbasetemp().parent if shared else tmp_path_factory.mktemp("labs")

    def run(name: str):
        if name in cache:
            return cache[name]
        out = root / f"lab-{name}"
        if shared:
            with FileLock(str(out) + ".lock"):
                saved = out / "result.json"
                if saved.is_file():
                    cache[name] = _load(saved)
                else:
                    cache[name] = _run(name, out)
                    _save(cache[name], saved)
        else:
            cache[name] = _run(name, out)
        return cache[name]

    return run
