"""Exports of the gradebook: CSV, JSON, Gradescope results.json, Canvas gradebook import.

Scores keep every digit the gradebook holds (`numbers.exact`): exports feed other systems, which round.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .. import escape
from ..gradebook import Gradebook
from ..results import SubmissionResult
from .numbers import exact, points

FORMATS = ("csv", "json", "gradescope", "canvas")
# Gradescope accepts only passed/failed per test, and these visibilities.
_GS_STATUS = {"passed": "passed", "failed": "failed", "error": "failed", "timeout": "failed"}
_GS_VISIBILITY = {"public": "visible", "hidden": "after_published"}


def export_csv(gb: Gradebook, path: Path) -> Path:
    """One row per student and item."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "kind", "item", "score", "max_score", "raw_score", "late_penalty",
                    "submitted_at", "time_source", "graded_at", "isolation", "flags", "extension", "error"])
        c = escape.csv_cell
        for r in gb.results():
            flags = "; ".join(f"{f.kind}: {f.where}: {f.detail}" for f in r.flags)
            w.writerow([c(r.student), r.kind, c(r.item), exact(r.score), exact(r.max_score), exact(r.raw_score),
                        exact(r.late_penalty), r.submitted_at or "", c(r.time_source), r.graded_at or "",
                        r.isolation, c(flags), c(r.extension), c(r.error)])
    return path


def export_json(gb: Gradebook, path: Path) -> Path:
    """The whole gradebook as one document of the results schema (grader/schemas/results.schema.json)."""
    from ..results_schema import document

    data = document("export", gb.results(), output=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def gradescope_results(r: SubmissionResult) -> dict:
    """A Gradescope autograder results.json for one submission."""
    tests = []
    for i, c in enumerate(r.checks, 1):
        output = c.message or ("passed" if c.passed else c.status)
        tests.append({"name": c.name, "number": str(i), "score": c.score, "max_score": c.max_score,
                      "status": _GS_STATUS[c.status], "output": output, "output_format": "text",
                      "visibility": _GS_VISIBILITY[c.visibility],
                      **({"tags": [c.description]} if c.description else {})})
    out = {"score": r.score, "max_score": r.max_score, "visibility": "visible",
           "stdout_visibility": "hidden", "tests": tests, "output_format": "text"}
    notes = [f"{f.kind}: {f.where}: {f.detail}" for f in r.flags]
    if r.error:
        notes.append(r.error)
    if r.late_penalty:
        notes.append(f"late penalty: {r.late_penalty:.0%} of {points(r.raw_score)} points")
    if notes:
        out["output"] = "\n".join(notes)
    return out


def export_gradescope(gb: Gradebook, folder: Path) -> Path:
    """`<folder>/<item>/<student>/results.json` for every result."""
    for r in gb.results():
        d = folder / escape.path_component(r.item) / escape.path_component(r.student)
        d.mkdir(parents=True, exist_ok=True)
        (d / "results.json").write_text(json.dumps(gradescope_results(r), indent=2, ensure_ascii=False),
                                        encoding="utf-8")
    return folder


def export_canvas(gb: Gradebook, path: Path) -> Path:
    """A Canvas gradebook import CSV: one column per assignment and quiz, a Points Possible row."""
    items = [i for _, i in gb.items()]
    results = {(r.student, r.item): r for r in gb.results()}
    maxima = {i: max((r.max_score for (s, it), r in results.items() if it == i), default=0) for i in items}
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + items)
        w.writerow(["Points Possible", "", "", "", ""] + [exact(maxima[i]) for i in items])
        for s in gb.students():
            row = [escape.csv_cell(s), "", escape.csv_cell(s), escape.csv_cell(s), ""]
            for i in items:
                r = results.get((s, i))
                row.append(exact(r.score) if r else "")
            w.writerow(row)
    return path


def export(gb: Gradebook, fmt: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return export_csv(gb, out / "grades.csv")
    if fmt == "json":
        return export_json(gb, out / "grades.json")
    if fmt == "gradescope":
        return export_gradescope(gb, out / "gradescope")
    if fmt == "canvas":
        return export_canvas(gb, out / "canvas_import.csv")
    raise ValueError(fmt)
