"""Per-student variants: drawn numbers and option orders, from a keyed stable hash.

Every draw comes from HMAC-SHA256 over the quiz id, the student id, the
question id and what is drawn (a parameter's name, the options), with a
counter: reproducible (the same student always gets the same version),
independent of PYTHONHASHSEED and of Python's `random`, and stable when other
questions or parameters change.

Two keys, both from the course secret:

- option and item orders are keyed by the secret itself: nobody can compute
  them without it, so a displayed order never reveals the order of the quiz
  file (where an ordering question lists its items in the right order);
- drawn numbers are keyed by the quiz's `numbers_key`, an HMAC of the secret
  and the quiz id. The student bundle carries it, so `seqgrade quiz take
  --student ID` shows a student their own numbers without any secret or key;
  it reveals numbers only (each student sees theirs anyway), never the
  secret, another quiz's numbers, an option order or an answer.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass, field
from typing import Sequence, TypeVar

from .model import MultipleChoice, Numeric, Ordering, Question, Quiz, SingleChoice, Text

T = TypeVar("T")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class KeyedStream:
    """An endless stream of uniform draws from HMAC-SHA256(secret, parts..., counter)."""

    def __init__(self, secret: str, *parts: str):
        self._key = secret.encode("utf-8")
        # \x1f (unit separator) cannot be confused with the characters of an id
        self._label = "\x1f".join(parts).encode("utf-8")
        self._counter = 0

    def _next64(self) -> int:
        msg = self._label + b"\x1f" + str(self._counter).encode("ascii")
        self._counter += 1
        return int.from_bytes(hmac.new(self._key, msg, hashlib.sha256).digest()[:8], "big")

    def below(self, n: int) -> int:
        """Uniform in range(n), without modulo bias (rejection sampling)."""
        if n <= 0:
            raise ValueError("below(n) needs n >= 1")
        limit = (1 << 64) - (1 << 64) % n
        while True:
            x = self._next64()
            if x < limit:
                return x % n

    def choice(self, seq: Sequence[T]) -> T:
        return seq[self.below(len(seq))]

    def shuffled(self, seq: Sequence[T]) -> list[T]:
        """A Fisher-Yates shuffle of a copy of `seq`."""
        out = list(seq)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out


def format_number(x: float | int) -> str:
    """64 -> "64", 64.0 -> "64", 0.125 -> "0.125", 1/3 -> "0.3333333333"."""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        if math.isfinite(x) and x.is_integer() and abs(x) < 1e16:
            return str(int(x))
        return f"{x:.10g}"
    return str(x)


def fill(text: str, values: dict[str, float | int]) -> str:
    """Replace every {{name}} by the student's number."""
    if not values:
        return text
    return PLACEHOLDER.sub(lambda m: format_number(values[m.group(1)]) if m.group(1) in values else m.group(0),
                           text)


@dataclass(frozen=True)
class Variant:
    """One student's version of one question."""

    values: dict[str, float | int] = field(default_factory=dict)  # params and derived values
    option_order: tuple[str, ...] = ()  # option ids in display order
    item_order: tuple[str, ...] = ()  # ordering items in display order
    answer: float | None = None  # a numeric question's answer for these values

    def text(self, text: Text, lang: str) -> str:
        return fill(text.get(lang), self.values)


def make_variant(quiz_id: str, question: Question, student: str, secret: str) -> Variant:
    """The version of `question` that `student` gets."""

    def stream(what: str) -> KeyedStream:
        return KeyedStream(secret, quiz_id, student, question.id, what)

    if isinstance(question, (SingleChoice, MultipleChoice)):
        ids = tuple(o.id for o in question.options)
        return Variant(option_order=tuple(stream("options").shuffled(ids)) if question.shuffle else ids)
    if isinstance(question, Ordering):
        ids = tuple(i.id for i in question.items)
        order = stream("items").shuffled(ids)
        if tuple(order) == ids:  # never show the answer itself
            order = order[1:] + order[:1]
        return Variant(item_order=tuple(order))
    if isinstance(question, Numeric):
        if not question.parameterized:
            return Variant(answer=question.answer)
        values = draw_values(question, quiz_id, student, numbers_key(secret, quiz_id))
        assert question.formula is not None
        return Variant(values=values, answer=question.formula.evaluate(values))
    return Variant()


NUMBERS_LABEL = "seqgrade quiz numbers"


def numbers_key(secret: str, quiz_id: str) -> str:
    """The key of `quiz_id`'s drawn numbers: public (the student bundle carries it), derived from the secret."""
    msg = f"{NUMBERS_LABEL}\x1f{quiz_id}".encode("utf-8")
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def draw_values(question: Numeric, quiz_id: str, student: str, key: str) -> dict[str, float | int]:
    """`student`'s values of the question's params (and derived names), drawn with the quiz's `numbers_key`."""
    values: dict[str, float | int] = {
        p.name: KeyedStream(key, quiz_id, student, question.id, f"param:{p.name}").choice(p.values())
        for p in question.params}
    for name, e in question.derived:
        values[name] = e.evaluate(values)
    return values


def student_version(quiz: Quiz, student: str, secret: str) -> list[tuple[Question, Variant]]:
    """Every question of `quiz` with `student`'s variant, in the quiz's order."""
    return [(q, make_variant(quiz.id, q, student, secret)) for q in quiz.questions]
