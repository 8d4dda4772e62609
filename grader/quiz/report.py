"""The class report of a quiz: how well the class did on each concept tag and each question."""

from __future__ import annotations

from dataclasses import dataclass

from ..results import SubmissionResult
from .model import Quiz


@dataclass
class ConceptStat:
    """The class's mean fraction of the points on the questions sharing one tag."""

    tag: str
    questions: tuple[str, ...]  # ids of the questions tagged with it
    students: int  # students with a graded answer to at least one of them
    mean: float  # 0..1, over students and questions (weighted by points)


@dataclass
class QuestionStat:
    question: str
    students: int
    mean: float  # 0..1
    errors: int  # answers that could not be graded (wrong type)


def concept_report(quiz: Quiz, results: list[SubmissionResult]) -> list[ConceptStat]:
    """Per concept tag, weakest first; tags come from the quiz file, scores from the results."""
    tags: dict[str, list[str]] = {}
    for q in quiz.questions:
        for tag in q.tags:
            tags.setdefault(tag, []).append(q.id)
    out = []
    for tag, qids in tags.items():
        got = total = 0.0
        students = 0
        for r in results:
            checks = [c for c in r.checks if c.name in qids]
            if checks:
                students += 1
                got += sum(c.score for c in checks)
                total += sum(c.max_score for c in checks)
        out.append(ConceptStat(tag, tuple(qids), students, round(got / total, 4) if total else 0.0))
    return sorted(out, key=lambda s: (s.mean, s.tag))


def question_report(quiz: Quiz, results: list[SubmissionResult]) -> list[QuestionStat]:
    """Per question, in the quiz's order."""
    out = []
    for q in quiz.questions:
        checks = [c for r in results for c in r.checks if c.name == q.id]
        total = sum(c.max_score for c in checks)
        out.append(QuestionStat(q.id, len(checks), round(sum(c.score for c in checks) / total, 4) if total else 0.0,
                                sum(c.status == "error" for c in checks)))
    return out
