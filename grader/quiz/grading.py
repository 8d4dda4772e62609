"""Grading answers against the key: one score, status and feedback per question.

Scoring, for a question worth P points:
- single, true_false, numeric, short: P when right, else 0.
- multiple (`scoring: partial`, the default): P * max(0, (right - wrong) / k), where
  k is the number of correct options, right the correct options chosen and wrong
  the incorrect ones chosen; `all_or_nothing`: P only for exactly the correct set.
- ordering (`scoring: exact`, the default): P only for the right order; `pairs`:
  P * (item pairs in the right relative order) / (all pairs).
- free: graded by a person with the rubric (`rubric.py`): the points of the items
  met, once a review of this very answer exists; until then 0, "awaiting review".
An answer of the wrong kind (a word where a number is due, an option the
question does not have) scores 0 with status "error", and is reported as a
problem of the student's file; the other questions are graded as usual.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Mapping

from ..results import CheckResult, SubmissionResult
from .answers import Answers
from . import rubric
from .model import (FreeAnswer, MultipleChoice, Numeric, Ordering, Question, Quiz, ShortAnswer, SingleChoice,
                    TrueFalse)
from .normalize import key_verdict, normalize
from .rubric import Review
from .schema import describe
from .ui_text import t
from .variants import Variant, format_number, make_variant

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "对", "正确", "是", "真"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "错", "错误", "否", "假"})


class AnswerError(ValueError):
    """An answer that is not of the kind its question takes."""


@dataclass
class QuestionGrade:
    score: float
    max_score: float
    status: str  # passed | failed | error
    given: str = ""  # the student's answer, as it reads
    expected: str = ""  # the right answer, as it reads
    problem: str = ""  # why the answer could not be graded
    review: Review | None = None  # a free answer's review, when one applies to this answer


# -- reading one answer -------------------------------------------------------

def _option_id(question: Question, value: Any, ids: list[str]) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise AnswerError(f"expects an option id ({', '.join(ids)}), got {describe(value)}")
    text = str(value).strip()
    if text in ids:
        return text
    folded = [i for i in ids if i.casefold() == text.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise AnswerError(f"has no option {text!r} (options: {', '.join(ids)})")


def parse_single(question: SingleChoice, value: Any) -> str:
    return _option_id(question, value, [o.id for o in question.options])


def parse_multiple(question: MultipleChoice, value: Any) -> frozenset[str]:
    ids = [o.id for o in question.options]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise AnswerError(f"expects a list of option ids ({', '.join(ids)}), got {describe(value)}")
    return frozenset(_option_id(question, v, ids) for v in value)


def parse_true_false(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = normalize(value)
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise AnswerError(f"expects true or false, got {describe(value)}")


def parse_number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise AnswerError(f"expects a number, got {describe(value)}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace("_", "")
        try:
            return float(text)
        except ValueError:
            pass
    raise AnswerError(f"expects a number, got {describe(value)}")


def parse_short(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise AnswerError(f"expects a short text, got {describe(value)}")
    return str(value)


def parse_free(value: Any) -> str:
    try:
        return rubric.answer_text(value)
    except ValueError:
        raise AnswerError(f"expects a text (your answer in a few sentences), got {describe(value)}") from None


def parse_ordering(question: Ordering, value: Any) -> list[str]:
    ids = [i.id for i in question.items]
    if not isinstance(value, list):
        raise AnswerError(f"expects a list of the item ids in order ({', '.join(ids)}), got {describe(value)}")
    got = [_option_id(question, v, ids) for v in value]
    if sorted(got) != sorted(ids):
        raise AnswerError(f"expects each of the {len(ids)} items exactly once ({', '.join(ids)})")
    return got


def parse_answer(question: Question, value: Any) -> Any:
    """The answer as its question's kind (option id, set of ids, bool, number, text, list); AnswerError if not."""
    if isinstance(question, SingleChoice):
        return parse_single(question, value)
    if isinstance(question, MultipleChoice):
        return parse_multiple(question, value)
    if isinstance(question, TrueFalse):
        return parse_true_false(value)
    if isinstance(question, Numeric):
        return parse_number(value)
    if isinstance(question, ShortAnswer):
        return parse_short(value)
    if isinstance(question, Ordering):
        return parse_ordering(question, value)
    if isinstance(question, FreeAnswer):
        return parse_free(value)
    raise TypeError(f"unknown question class {type(question).__name__}")


# -- scoring -----------------------------------------------------------------

def multiple_fraction(correct: frozenset[str], chosen: frozenset[str], scoring: str = "partial") -> float:
    """The fraction of the points a choice of options earns (see the module docstring)."""
    if scoring == "all_or_nothing":
        return 1.0 if chosen == correct else 0.0
    right, wrong = len(chosen & correct), len(chosen - correct)
    return max(0.0, (right - wrong) / len(correct))


def pairs_fraction(expected: list[str], given: list[str]) -> float:
    """The fraction of item pairs that `given` puts in the same relative order as `expected`."""
    pos = {item: i for i, item in enumerate(given)}
    pairs = list(combinations(expected, 2))
    if not pairs:
        return 1.0
    return sum(pos[a] < pos[b] for a, b in pairs) / len(pairs)


def numeric_close(x: float, answer: float, abs_tol: float, rel_tol: float) -> bool:
    """|x - answer| <= max(abs_tol, rel_tol * |answer|); NaN and infinities are never close."""
    if not (math.isfinite(x) and math.isfinite(answer)):
        return False
    return abs(x - answer) <= max(abs_tol, rel_tol * abs(answer))


def short_matches(question: ShortAnswer, text: str) -> bool:
    return key_verdict(text, question.accept, question.patterns) is not None


def _fraction(question: Question, variant: Variant, parsed: Any) -> float:
    if isinstance(question, SingleChoice):
        return 1.0 if parsed == question.correct.id else 0.0
    if isinstance(question, MultipleChoice):
        return multiple_fraction(question.correct_ids, parsed, question.scoring)
    if isinstance(question, TrueFalse):
        return 1.0 if parsed == question.answer else 0.0
    if isinstance(question, Numeric):
        assert variant.answer is not None
        return 1.0 if numeric_close(parsed, variant.answer, question.abs_tol, question.rel_tol) else 0.0
    if isinstance(question, ShortAnswer):
        return 1.0 if short_matches(question, parsed) else 0.0
    if isinstance(question, Ordering):
        expected = [i.id for i in question.items]
        if question.scoring == "pairs":
            return pairs_fraction(expected, parsed)
        return 1.0 if parsed == expected else 0.0
    raise TypeError(type(question).__name__)


def expected_text(question: Question, variant: Variant, lang: str) -> str:
    """The right answer as it reads in feedback."""
    if isinstance(question, SingleChoice):
        o = question.correct
        return f"{o.id} ({o.text.get(lang)})"
    if isinstance(question, MultipleChoice):
        return ", ".join(f"{o.id} ({o.text.get(lang)})" for o in question.options if o.correct)
    if isinstance(question, TrueFalse):
        return t(lang, "true" if question.answer else "false")
    if isinstance(question, Numeric):
        text = format_number(variant.answer)
        return f"{text} {question.unit.get(lang)}" if question.unit else text
    if isinstance(question, ShortAnswer):
        return question.accept[0] if question.accept else f"/{question.patterns[0]}/"
    if isinstance(question, Ordering):
        return " -> ".join(i.id for i in question.items)
    if isinstance(question, FreeAnswer):
        return t(lang, "expected_free")
    return ""


def given_text(question: Question, parsed: Any, lang: str) -> str:
    if isinstance(question, MultipleChoice):
        return "[" + ", ".join(o.id for o in question.options if o.id in parsed) + "]"
    if isinstance(question, TrueFalse):
        return t(lang, "true" if parsed else "false")
    if isinstance(question, Numeric):
        return format_number(parsed)
    if isinstance(question, Ordering):
        return " -> ".join(parsed)
    return str(parsed)


def is_unanswered(value: Any) -> bool:
    """None, an empty string or an empty list: the template left as it was."""
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def grade_answer(question: Question, variant: Variant, value: Any, lang: str = "en",
                 review: Review | None = None) -> QuestionGrade:
    """Grade one answer (None, "" or []: not answered). Never raises for a bad answer.

    A free answer scores what `review` gives it when the review was made on this
    very answer, else 0 (awaiting review).
    """
    points = question.points
    expected = expected_text(question, variant, lang)
    if is_unanswered(value):
        return QuestionGrade(0.0, points, "failed", "", expected)
    try:
        parsed = parse_answer(question, value)
    except AnswerError as exc:
        return QuestionGrade(0.0, points, "error", describe(value), expected,
                             problem=f"question {question.id!r} {exc}")
    if isinstance(question, FreeAnswer):
        if not parsed:
            return QuestionGrade(0.0, points, "failed", "", expected)
        current = review if review is not None and review.done \
            and review.answer_sha256 == rubric.answer_digest(parsed) else None
        got = rubric.score(question, current.met).points if current else 0.0
        return QuestionGrade(got, points, "passed" if current and got >= points else "failed", parsed, expected,
                             review=current)
    score = round(points * _fraction(question, variant, parsed), 6)
    status = "passed" if score >= points else "failed"
    return QuestionGrade(score, points, status, given_text(question, parsed, lang), expected)


def feedback(question: Question, variant: Variant, g: QuestionGrade, lang: str) -> str:
    """What the student reads: verdict, their answer, the right one, and the explanation."""
    if isinstance(question, FreeAnswer) and g.status != "error" and g.given:
        return rubric.feedback(question, g.review, lang, variant.text(question.explanation, lang))
    if g.status == "error":
        head = f"{t(lang, 'invalid')}: {g.problem}."
    elif not g.given:
        head = t(lang, "unanswered")
    elif g.status == "passed":
        head = t(lang, "correct")
    else:
        head = t(lang, "partly" if g.score > 0 else "wrong")
    parts = [head]
    if g.given and g.status != "error":
        parts.append(f"{t(lang, 'your_answer')}: {g.given}.")
    if g.status != "passed":
        parts.append(f"{t(lang, 'expected')}: {g.expected}.")
    parts.append(f"{t(lang, 'why')}: {variant.text(question.explanation, lang).strip()}")
    return " ".join(parts)


# -- a whole file ------------------------------------------------------------

def grade_quiz(quiz: Quiz, answers: Answers, secret: str, lang: str = "en",
               reviews: Mapping[str, Review] | None = None) -> SubmissionResult:
    """One student's SubmissionResult. Unknown ids and bad answers become `error`; the rest is graded.

    `reviews` holds this student's reviews of free answers, by question id.
    """
    result = SubmissionResult(student=answers.student, item=quiz.id, kind="quiz", max_score=quiz.max_score,
                              content_hash=answers.content_hash, checks_version=quiz.sha256)
    if answers.values is None:
        result.error = "\n".join(answers.problems) or f"{answers.file}: cannot be read"
        return result
    problems = list(answers.problems)
    known = {q.id for q in quiz.questions}
    for qid in answers.values:
        if qid not in known:
            problems.append(f"{answers.at(qid)}: unknown question id {qid!r} (this quiz has "
                            f"{', '.join(q.id for q in quiz.questions)})")
    for q in quiz.questions:
        variant = make_variant(quiz.id, q, answers.student, secret)
        g = grade_answer(q, variant, answers.values.get(q.id), lang, (reviews or {}).get(q.id))
        if g.problem:
            problems.append(f"{answers.at(q.id)}: {g.problem}")
        result.checks.append(CheckResult(
            name=q.id, score=g.score, max_score=g.max_score, status=g.status, visibility="public",
            message=feedback(q, variant, g, lang), description=q.short_title(lang),
        ))
    result.error = "\n".join(sorted(problems, key=_line_of))
    return result


def _line_of(problem: str) -> tuple[int, str]:
    """Sort key: the line number in "file.yaml:LINE: message" (0 when there is none)."""
    head = problem.split(": ", 1)[0]
    tail = head.rsplit(":", 1)[-1]
    return (int(tail) if tail.isdigit() else 0, problem)


def answer_key(quiz: Quiz, student: str, secret: str) -> dict[str, Any]:
    """The answers that earn full marks for `student`, in the answers-file format."""
    key: dict[str, Any] = {}
    for q in quiz.questions:
        v = make_variant(quiz.id, q, student, secret)
        if isinstance(q, SingleChoice):
            key[q.id] = q.correct.id
        elif isinstance(q, MultipleChoice):
            key[q.id] = [o.id for o in q.options if o.correct]
        elif isinstance(q, TrueFalse):
            key[q.id] = q.answer
        elif isinstance(q, Numeric):
            key[q.id] = v.answer
        elif isinstance(q, ShortAnswer):
            key[q.id] = q.accept[0] if q.accept else None
        elif isinstance(q, Ordering):
            key[q.id] = [i.id for i in q.items]
        elif isinstance(q, FreeAnswer):
            key[q.id] = q.model_answer.get("en")
    return key


def grade_class(quiz: Quiz, answers: list[Answers], secret: str, lang: str = "en",
                reviews: Mapping[tuple[str, str], Review] | None = None) -> list[SubmissionResult]:
    """Every student's result; a bad file gives that student an error, never stops the class.

    `reviews` maps (student, question id) to the review of a free answer.
    """
    by_student: dict[str, dict[str, Review]] = {}
    for (student, qid), r in (reviews or {}).items():
        by_student.setdefault(student, {})[qid] = r
    return [grade_quiz(quiz, a, secret, lang, by_student.get(a.student)) for a in answers]


def free_answers(quiz: Quiz, answers: Answers) -> dict[str, str]:
    """A student's non-empty free answers as text, by question id (answers of the wrong type left out)."""
    out = {}
    for q in quiz.questions:
        if isinstance(q, FreeAnswer) and answers.values is not None:
            try:
                text = parse_free(answers.values.get(q.id))
            except AnswerError:
                continue
            if text:
                out[q.id] = text
    return out
