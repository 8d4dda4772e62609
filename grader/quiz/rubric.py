"""Free answers and their rubric: what a grader's review says, what it scores, what the student reads.

A free question is graded by a person who ticks the rubric items the answer
meets (`seqgrade quiz review`, or nbgrader's formgrader). A `Review` is that
decision, tied to the exact answer it was made on (`answer_sha256`): when the
student changes the answer, the review no longer applies and the answer waits
for review again. Keyword hints only suggest ticks to the grader
(`hint_ticks`); nothing here scores an answer that no person reviewed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .model import Criterion, FreeAnswer
from .normalize import normalize
from .ui_text import t


@dataclass
class Review:
    """A grader's decision on one free answer (or, with `reviewed_at` None, an answer awaiting one)."""

    quiz: str
    student: str
    question: str
    answer: str  # the text reviewed (or awaiting review)
    answer_sha256: str
    met: tuple[str, ...] = ()  # ids of the rubric items the grader ticked
    comment: str = ""
    reviewer: str = ""
    reviewed_at: str | None = None  # ISO 8601; None while pending
    stale: bool = False  # the answer changed after the last review (met/comment are the old review's)

    @property
    def done(self) -> bool:
        return self.reviewed_at is not None and not self.stale


@dataclass
class RubricScore:
    points: float
    max_points: float
    met: list[Criterion] = field(default_factory=list)
    missed: list[Criterion] = field(default_factory=list)


def answer_digest(text: str) -> str:
    """The sha256 of an answer as written (ends trimmed): what a review is tied to."""
    return hashlib.sha256(str(text).strip().encode("utf-8")).hexdigest()


def answer_text(value: object) -> str:
    """A free answer as text ("" when not answered); numbers are read as their text."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    raise ValueError("expects a text (your answer in a few sentences)")


def score(question: FreeAnswer, met: tuple[str, ...] | list[str]) -> RubricScore:
    """The points of the items met (unknown ids are ignored), capped at the question's points."""
    chosen = set(met)
    got = [c for c in question.rubric if c.id in chosen]
    missed = [c for c in question.rubric if c.id not in chosen]
    points = min(question.points, round(sum(c.points for c in got), 6))
    return RubricScore(points, question.points, got, missed)


def hint_ticks(question: FreeAnswer, text: str) -> list[str]:
    """Rubric items whose keywords appear in the answer: suggestions for the grader, never a grade."""
    norm = normalize(text)
    return [c.id for c in question.rubric if any(normalize(h) and normalize(h) in norm for h in c.hints)]


def _points(p: float) -> str:
    return f"{p:g}"


def feedback(question: FreeAnswer, review: Review | None, lang: str, explanation: str) -> str:
    """What the student reads for a free answer: awaiting review, or the items met and missed and the comment."""
    if review is None or not review.done:
        return f"{t(lang, 'awaiting_review')} {t(lang, 'why')}: {explanation.strip()}"
    s = score(question, review.met)
    parts = [t(lang, "reviewed", got=_points(s.points), of=_points(s.max_points))]
    for c in s.met:
        parts.append(f"[x] {c.text.get(lang)} (+{_points(c.points)})")
    for c in s.missed:
        parts.append(f"[ ] {c.text.get(lang)} (0/{_points(c.points)})")
    if review.comment.strip():
        parts.append(f"{t(lang, 'comment')}: {review.comment.strip()}")
    parts.append(f"{t(lang, 'why')}: {explanation.strip()}")
    return " ".join(parts)
