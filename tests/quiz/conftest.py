"""Fixtures for the quiz tests: the shipped bank, a test secret and small quizzes built from text."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.quiz.loader import check_quiz, load_quiz
from grader.quiz.model import Quiz

REPO = Path(__file__).resolve().parents[2]
BANK_DIR = REPO / "course" / "quizzes"
BANK_FILES = sorted(BANK_DIR.glob("*.yaml"))
MALFORMED_DIR = Path(__file__).parent / "malformed"
SECRET = "test-secret"


def quiz_from_text(text: str, languages: list[str] | None = None) -> Quiz:
    """A quiz from YAML text; fails the test with the problems when it is invalid."""
    quiz, problems = check_quiz(text, "inline.yaml", languages or ["en", "zh"])
    assert quiz is not None, "\n".join(map(str, problems))
    return quiz


@pytest.fixture(scope="session")
def bank() -> dict[str, Quiz]:
    """Every shipped quiz, by id."""
    quizzes = [load_quiz(p) for p in BANK_FILES]
    return {q.id: q for q in quizzes}
