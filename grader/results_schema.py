"""The one JSON shape of grades: a versioned schema (`schemas/results.schema.json`) and its builders.

`grade --json`, `quiz grade --json`, `nbgrader autograde --json` and
`export --format json` all write `document(...)`; tests validate each of them
against the schema. docs/results.md documents it with an example.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .results import SubmissionResult

SCHEMA_ID = "seqgrade-results/1"
SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "results.schema.json"


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def graded_item(r: SubmissionResult, *, output: bool = False) -> dict[str, Any]:
    d = r.to_dict()
    if not output:
        d.pop("output", None)
    return d


def document(kind: str, results: Iterable[SubmissionResult], *, item: str | None = None,
             item_kind: str | None = None, output: bool = False, **extra: Any) -> dict[str, Any]:
    """A `kind` ("run" or "export") document holding `results`; `extra`: seed, checks_version, isolation, ..."""
    results = list(results)
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID, "kind": kind,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "item": item, "item_kind": item_kind,
        "max_score": max((r.max_score for r in results), default=None) if item else None,
    }
    doc.update({k: v for k, v in extra.items() if v is not None})
    doc["results"] = [graded_item(r, output=output) for r in results]
    return doc


def run_document(item: str, item_kind: str, results: Iterable[SubmissionResult], **extra: Any) -> dict[str, Any]:
    return document("run", results, item=item, item_kind=item_kind, **extra)


def validate(doc: dict) -> None:
    """Raise jsonschema.ValidationError when `doc` does not follow the schema."""
    import jsonschema

    jsonschema.validate(doc, schema(), format_checker=jsonschema.FormatChecker())
