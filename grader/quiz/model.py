"""The quiz model: typed records for a quiz and its questions.

A quiz file is checked (`loader.check_quiz`) before any of these are built, so
the records assume well-formed content. Each question type is its own
dataclass; grading, rendering and taking dispatch on the class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .expr import Expr

QUESTION_TYPES = ("single", "multiple", "true_false", "numeric", "short", "ordering", "free")
# graded from the key; `free` answers are graded by a person with the rubric
AUTO_TYPES = QUESTION_TYPES[:-1]


@dataclass(frozen=True)
class Text:
    """A text in one or more languages. `neutral` texts (code, formulas) read the same in all."""

    by_lang: dict[str, str]
    neutral: bool = False

    def get(self, lang: str) -> str:
        """The text in `lang`; falls back to English, then to any language given."""
        for key in (lang, "en"):
            if key in self.by_lang:
                return self.by_lang[key]
        return next(iter(self.by_lang.values()), "")

    def all(self) -> list[str]:
        return list(self.by_lang.values())

    @classmethod
    def of(cls, raw: str | dict[str, str] | None) -> "Text":
        if raw is None:
            return cls({})
        if isinstance(raw, str):
            return cls({"*": raw}, neutral=True)
        return cls({str(k): str(v) for k, v in raw.items()})


@dataclass(frozen=True)
class Option:
    """One option of a single or multiple choice question; `id` is what students answer."""

    id: str
    text: Text
    correct: bool = False


@dataclass(frozen=True)
class Item:
    """One item of an ordering question."""

    id: str
    text: Text


@dataclass(frozen=True)
class Param:
    """A number drawn per student: from `choices`, or from min..max by `step` (ints) or to `decimals`."""

    name: str
    min: float | None = None
    max: float | None = None
    step: float | None = None  # ints: every step-th value from min (default 1)
    decimals: int | None = None  # floats: drawn on a grid of 10**-decimals
    choices: tuple[float, ...] = ()

    def values(self) -> list[int | float]:
        """Every value this parameter can take, in order."""
        if self.choices:
            return list(self.choices)
        if self.decimals is not None:
            scale = 10 ** self.decimals
            lo, hi = round(self.min * scale), round(self.max * scale)
            return [round(k / scale, self.decimals) for k in range(lo, hi + 1)]
        step = int(self.step or 1)
        return list(range(int(self.min), int(self.max) + 1, step))


@dataclass(kw_only=True)
class Question:
    """What every question has. `line` is where it starts in its file."""

    type: ClassVar[str] = ""
    id: str
    points: float
    title: Text
    prompt: Text
    explanation: Text
    tags: tuple[str, ...]
    line: int = 0
    key_phrases: tuple[str, ...] = ()  # phrases that give the answer away; no other question may show them

    def short_title(self, lang: str) -> str:
        text = self.title.get(lang) if self.title.by_lang else self.prompt.get(lang)
        text = " ".join(text.split())
        return text if len(text) <= 80 else text[:77] + "..."


@dataclass(kw_only=True)
class SingleChoice(Question):
    type: ClassVar[str] = "single"
    options: tuple[Option, ...]
    shuffle: bool = True

    @property
    def correct(self) -> Option:
        return next(o for o in self.options if o.correct)


@dataclass(kw_only=True)
class MultipleChoice(Question):
    """Partial credit (`scoring: partial`): points * max(0, (right - wrong) / k), k = number of correct options."""

    type: ClassVar[str] = "multiple"
    options: tuple[Option, ...]
    shuffle: bool = True
    scoring: str = "partial"  # partial | all_or_nothing

    @property
    def correct_ids(self) -> frozenset[str]:
        return frozenset(o.id for o in self.options if o.correct)


@dataclass(kw_only=True)
class TrueFalse(Question):
    type: ClassVar[str] = "true_false"
    answer: bool


@dataclass(kw_only=True)
class Numeric(Question):
    """Right when |x - answer| <= max(abs_tol, rel_tol * |answer|)."""

    type: ClassVar[str] = "numeric"
    answer: float | None = None  # a fixed answer, or
    formula: Expr | None = None  # one computed from the student's drawn params
    params: tuple[Param, ...] = ()
    derived: tuple[tuple[str, Expr], ...] = ()  # name -> formula, computed in order after params
    abs_tol: float = 0.0
    rel_tol: float = 1e-9
    unit: Text | None = None

    @property
    def parameterized(self) -> bool:
        return bool(self.params)


@dataclass(kw_only=True)
class ShortAnswer(Question):
    """Right when the normalized answer equals a normalized `accept` or fully matches a pattern.

    `examples_accept` and `examples_reject` are answers the key must accept and
    reject: they prove the key (validation fails when one disagrees).
    """

    type: ClassVar[str] = "short"
    accept: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    examples_accept: tuple[str, ...] = ()
    examples_reject: tuple[str, ...] = ()


@dataclass(kw_only=True)
class Ordering(Question):
    """`items` are listed in the right order. `scoring: exact` (all or nothing) or `pairs`."""

    type: ClassVar[str] = "ordering"
    items: tuple[Item, ...]
    scoring: str = "exact"  # exact | pairs (fraction of item pairs in the right relative order)


@dataclass(frozen=True)
class Criterion:
    """One rubric item of a free question: met (all its points) or not; `hints` may pre-tick it in review."""

    id: str
    points: float
    text: Text
    hints: tuple[str, ...] = ()  # keywords (any language); never grade alone


@dataclass(kw_only=True)
class FreeAnswer(Question):
    """An open answer in the student's words (en or zh), graded by a person who ticks rubric items.

    The score is the sum of the points of the items met. Until a grader has
    reviewed the answer it scores 0 and reads "awaiting review".
    """

    type: ClassVar[str] = "free"
    rubric: tuple[Criterion, ...]
    model_answer: Text

    def criterion(self, cid: str) -> Criterion | None:
        return next((c for c in self.rubric if c.id == cid), None)


QUESTION_CLASSES: dict[str, type[Question]] = {
    cls.type: cls for cls in (SingleChoice, MultipleChoice, TrueFalse, Numeric, ShortAnswer, Ordering, FreeAnswer)
}


@dataclass
class Quiz:
    """A checked quiz file."""

    id: str
    title: Text
    description: Text
    questions: list[Question] = field(default_factory=list)
    file: str = ""  # where it was read from
    sha256: str = ""  # of the file's bytes: the key's version in the gradebook

    @property
    def max_score(self) -> float:
        return round(sum(q.points for q in self.questions), 6)

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)
