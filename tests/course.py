"""The repository's own course, as every test reads it: its config and its assignments."""

from __future__ import annotations

from pathlib import Path

from grader.config import load_config

REPO = Path(__file__).resolve().parents[1]
CFG = load_config(REPO / "course" / "course.yaml")
ASSIGNMENTS = CFG.assignments
