"""Taking a quiz in the terminal: one question at a time, answers saved after each.

The caller provides `ask` (reads one line) and `say` (shows text), so this
module never touches the terminal itself and is tested with plain lists.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable

import yaml

from .grading import AnswerError, parse_multiple, parse_number, parse_ordering, parse_single, parse_true_false
from .model import MultipleChoice, Numeric, Ordering, Question, Quiz, SingleChoice, TrueFalse
from .render import choices, hint
from .ui_text import t
from .variants import Variant, student_version

_SEPARATORS = re.compile(r"[\s,;，、；]+")
MAX_TRIES = 5  # a question is skipped after this many answers that are not understood


def parse_response(question: Question, text: str) -> Any:
    """A typed line as the value the answers file stores; AnswerError when it is not understood."""
    text = text.strip()
    if isinstance(question, SingleChoice):
        return parse_single(question, text)
    if isinstance(question, MultipleChoice):
        picked = parse_multiple(question, [p for p in _SEPARATORS.split(text.strip("[]")) if p])
        return [o.id for o in question.options if o.id in picked]
    if isinstance(question, TrueFalse):
        return parse_true_false(text)
    if isinstance(question, Numeric):
        x = parse_number(text)
        return int(x) if x.is_integer() and re.fullmatch(r"[+-]?\d+", text) else x
    if isinstance(question, Ordering):
        return parse_ordering(question, [p for p in _SEPARATORS.split(text.strip("[]")) if p])
    return text


def question_text(n: int, total: int, question: Question, variant: Variant, lang: str) -> str:
    lines = [t(lang, "question_n", n=n, total=total) + f"  [{question.id}]"]
    if question.title.by_lang:
        lines.append(variant.text(question.title, lang))
    lines += ["", variant.text(question.prompt, lang).strip(), ""]
    lines += [f"  {cid}) {text}" for cid, text in choices(question, variant, lang)]
    lines.append(hint(question, variant, lang))
    return "\n".join(lines)


def save_answers(path: str | Path, answers: dict[str, Any]) -> None:
    """Write the answers file atomically (a crash never leaves half a file)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(yaml.safe_dump(answers, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.replace(tmp, p)


def take_quiz(quiz: Quiz, student: str, secret: str, lang: str, *, ask: Callable[[str], str],
              say: Callable[[str], None], answers: dict[str, Any] | None = None,
              save: Callable[[dict[str, Any]], None] | None = None,
              version: list[tuple[Question, Variant]] | None = None) -> dict[str, Any]:
    """Ask every question; return the answers (question id -> value). An empty line skips a question.

    `version` is the student's version when it does not come from `secret` (a bundle's question file).
    """
    answers = dict(answers or {})
    version = version if version is not None else student_version(quiz, student, secret)
    for n, (q, v) in enumerate(version, start=1):
        say(question_text(n, len(version), q, v, lang))
        for _ in range(MAX_TRIES):
            line = ask(t(lang, "prompt_answer"))
            if not line.strip():
                break
            try:
                answers[q.id] = parse_response(q, line)
            except AnswerError as exc:
                say(t(lang, "try_again", why=f"{q.id} {exc}"))
                continue
            if save is not None:
                save(answers)
            break
        say("")
    return answers
