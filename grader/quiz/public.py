"""A quiz's question file without answers: what a student bundle carries instead of the quiz.

`seqgrade release` writes one per quiz, at the quiz's own path
(``course/quizzes/<id>.yaml``), so lessons and READMEs link to the same file in
the repository and in the bundle. It holds what a student sees and nothing that
grades: prompts, titles, option and item texts (in one fixed order drawn with
the course secret, never the quiz file's), the values each numeric parameter
can take and the quiz's `numbers_key`, units, points. Never: which options are
correct, true or false answers, formulas, accepted answers, patterns, examples,
tolerances, explanations, rubrics, model answers, or the secret.

In the bundle, ``seqgrade quiz take ID --student S`` and ``seqgrade quiz render
ID --student S`` read it: each student's numbers come from `numbers_key` (the
same numbers the instructor's key grades), so the bundle needs no roster. The
`Quiz` it loads can show and parse answers only: its key fields are empty, and
`grader.quiz.loader.load_quiz` refuses the file, so it can never grade.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import QuizError
from . import expr
from .model import (FreeAnswer, Item, MultipleChoice, Numeric, Option, Ordering, Param, Question, Quiz,
                    ShortAnswer, SingleChoice, Text, TrueFalse)
from .variants import PLACEHOLDER, Variant, draw_values, make_variant, numbers_key

FORMAT = "seqgrade-questions/1"
ORDER_STUDENT = "seqgrade bundle"  # the option and item order every bundle copy shows (drawn with the secret)
HEADER = """\
# The questions of quiz {id}, without answers: a student's copy (written by `seqgrade release`).
# Take the quiz:      seqgrade quiz take {id} --student YOUR_ID        (writes YOUR_ID.yaml)
# Or get your sheet:  seqgrade quiz render {id} --student YOUR_ID      (Markdown and a notebook)
# The numbers in some questions are your own: always give your own student id.
"""


# -- writing (instructor side) ---------------------------------------------------------------

def _text(t: Text | None) -> Any:
    if t is None or not t.by_lang:
        return None
    if t.neutral:
        return t.by_lang.get("*", "")
    return dict(t.by_lang)


def _shown_names(question: Numeric) -> set[str]:
    """Names whose values a student's text shows ({{name}} in the title, prompt or unit)."""
    texts = question.title.all() + question.prompt.all() + (question.unit.all() if question.unit else [])
    return {m.group(1) for t in texts for m in PLACEHOLDER.finditer(t)}


def question_entry(quiz: Quiz, q: Question, secret: str) -> dict[str, Any]:
    """One question as the question file holds it: what the student sees, never what grades."""
    entry: dict[str, Any] = {"id": q.id, "type": q.type, "points": q.points}
    if q.title.by_lang:
        entry["title"] = _text(q.title)
    entry["prompt"] = _text(q.prompt)
    order = make_variant(quiz.id, q, ORDER_STUDENT, secret)
    if isinstance(q, (SingleChoice, MultipleChoice)):
        by_id = {o.id: o for o in q.options}
        entry["options"] = [{"id": i, "text": _text(by_id[i].text)} for i in order.option_order]
    elif isinstance(q, Ordering):
        by_id = {i.id: i for i in q.items}
        entry["items"] = [{"id": i, "text": _text(by_id[i].text)} for i in order.item_order]
    elif isinstance(q, Numeric):
        if q.params:
            entry["params"] = {p.name: list(p.values()) for p in q.params}  # every value it can take, in order
            shown = _shown_names(q)
            if any(name in shown for name, _ in q.derived):  # a derived value is shown: its formula must travel
                entry["derived"] = {name: e.source for name, e in q.derived}
        if q.unit is not None:
            entry["unit"] = _text(q.unit)
    return entry


def question_document(quiz: Quiz, secret: str) -> dict[str, Any]:
    """The whole question file of `quiz` as data."""
    doc: dict[str, Any] = {"format": FORMAT, "id": quiz.id, "title": _text(quiz.title)}
    if quiz.description.by_lang:
        doc["description"] = _text(quiz.description)
    if any(isinstance(q, Numeric) and q.params for q in quiz.questions):
        doc["numbers_key"] = numbers_key(secret, quiz.id)
    doc["questions"] = [question_entry(quiz, q, secret) for q in quiz.questions]
    return doc


def question_file_text(quiz: Quiz, secret: str) -> str:
    return HEADER.format(id=quiz.id) + yaml.safe_dump(question_document(quiz, secret), allow_unicode=True,
                                                      sort_keys=False, width=100)


# -- reading (student side) --------------------------------------------------------------------

def is_question_file(path: Path) -> bool:
    """Whether `path` is a question file (its `format:` line), read without parsing the whole file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(4000)
    except OSError:
        return False
    return any(line.strip() in (f"format: {FORMAT}", f"format: '{FORMAT}'", f'format: "{FORMAT}"')
               for line in head.splitlines())


class PublicQuiz:
    """A question file's quiz (questions only) and the key of its numbers."""

    def __init__(self, quiz: Quiz, key: str):
        self.quiz = quiz
        self.key = key

    def version(self, student: str) -> list[tuple[Question, Variant]]:
        """`student`'s version: their numbers (the ones the instructor's key grades), the file's orders."""
        out = []
        for q in self.quiz.questions:
            if isinstance(q, (SingleChoice, MultipleChoice)):
                v = Variant(option_order=tuple(o.id for o in q.options))
            elif isinstance(q, Ordering):
                v = Variant(item_order=tuple(i.id for i in q.items))
            elif isinstance(q, Numeric) and q.params:
                v = Variant(values=draw_values(q, self.quiz.id, student, self.key))
            else:
                v = Variant()
            out.append((q, v))
        return out


def load_question_file(path: Path) -> PublicQuiz:
    """Read a question file; QuizError naming the file and what is wrong."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise QuizError(f"{p}: cannot read this question file ({type(exc).__name__}); get it again from the "
                        "course bundle") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise QuizError(f"{p} is not a question file of a student bundle (format: {FORMAT})")
    try:
        questions = [_question(q) for q in data["questions"]]
        quiz = Quiz(id=str(data["id"]), title=_read_text(data["title"]),
                    description=_read_text(data.get("description")), questions=questions, file=str(p))
        key = str(data.get("numbers_key", ""))
    except (KeyError, TypeError, ValueError, AttributeError, expr.ExprError) as exc:
        raise QuizError(f"{p}: this question file is damaged ({type(exc).__name__}: {exc}); get it again from "
                        "the course bundle") from None
    if any(isinstance(q, Numeric) and q.params for q in questions) and not key:
        raise QuizError(f"{p}: numbers_key is missing, so your numbers cannot be drawn; get the file again")
    return PublicQuiz(quiz, key)


def _number(v: Any) -> int | float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"a parameter's values are numbers, not {type(v).__name__}")
    return v


def _read_text(raw: Any) -> Text:
    if raw is not None and not isinstance(raw, (str, dict)):
        raise TypeError(f"a text is a string or a mapping of language to string, not {type(raw).__name__}")
    return Text.of(raw)


def _question(q: dict[str, Any]) -> Question:
    common = dict(id=str(q["id"]), points=float(q["points"]), title=_read_text(q.get("title")),
                  prompt=_read_text(q["prompt"]), explanation=Text({}), tags=())
    kind = q["type"]
    if kind in ("single", "multiple"):
        options = tuple(Option(id=str(o["id"]), text=_read_text(o["text"])) for o in q["options"])
        cls = SingleChoice if kind == "single" else MultipleChoice
        return cls(**common, options=options, shuffle=False)
    if kind == "ordering":
        return Ordering(**common, items=tuple(Item(id=str(i["id"]), text=_read_text(i["text"])) for i in q["items"]))
    if kind == "numeric":
        params = tuple(Param(name=str(n), choices=tuple(_number(v) for v in values))
                       for n, values in (q.get("params") or {}).items())
        derived = tuple((str(n), expr.parse(str(src))) for n, src in (q.get("derived") or {}).items())
        unit = _read_text(q["unit"]) if q.get("unit") is not None else None
        return Numeric(**common, params=params, derived=derived, unit=unit)
    if kind == "true_false":
        return TrueFalse(**common, answer=None)  # type: ignore[arg-type]  # no key in a question file
    if kind == "short":
        return ShortAnswer(**common)
    if kind == "free":
        return FreeAnswer(**common, rubric=(), model_answer=Text({}))
    raise ValueError(f"question {q.get('id')!r} has an unknown type {kind!r}")
