"""Reading quiz files: YAML with positions -> schema -> meaning -> the model.

`check_quiz` never raises for a bad file: it returns every problem found, each
with file:line:column. `load_quiz` is for commands that need a good quiz and
raises `QuizError` listing the problems.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..errors import QuizError
from . import expr
from .model import (
    QUESTION_CLASSES, Criterion, FreeAnswer, Item, MultipleChoice, Numeric, Option, Ordering, Param, Question,
    Quiz, ShortAnswer, SingleChoice, Text, TrueFalse,
)
from .schema import schema_problems
from .semantics import semantic_problems
from .yamlsrc import Problem, YamlDoc, parse_yaml

DEFAULT_LANGUAGES = ["en", "zh"]


def check_quiz(text: str, file: str, languages: list[str] | None = None) -> tuple[Quiz | None, list[Problem]]:
    """Parse and check a quiz; the Quiz when it has no problems, and the sorted problems."""
    languages = list(languages or DEFAULT_LANGUAGES)
    doc = parse_yaml(text, file)
    problems = list(doc.problems)
    if doc.data is not None:
        if not isinstance(doc.data, dict):
            problems.append(doc.problem((), "expected a quiz: a mapping with id, title and questions"))
        else:
            problems += schema_problems(doc)
            problems += semantic_problems(doc, languages)
    problems = sorted(set(problems), key=lambda p: (p.line, p.column, p.message))
    if problems:
        return None, problems
    quiz = build_quiz(doc)
    quiz.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return quiz, []


def check_quiz_file(path: str | Path, languages: list[str] | None = None) -> tuple[Quiz | None, list[Problem]]:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        return None, [Problem(str(p), 1, 1, f"cannot read the file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(str(p), line, 1, "the file is not UTF-8; save it as UTF-8")]
    quiz, problems = check_quiz(text, str(p), languages)
    if quiz is not None:
        quiz.sha256 = hashlib.sha256(raw).hexdigest()
    return quiz, problems


def load_quiz(path: str | Path, languages: list[str] | None = None) -> Quiz:
    """A checked quiz, or QuizError naming every problem."""
    quiz, problems = check_quiz_file(path, languages)
    if quiz is None:
        listing = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise QuizError(f"{path} is not a valid quiz ({len(problems)} problem(s)):\n{listing}{more}\n"
                        f"Fix them (seqgrade quiz validate {path} checks again).")
    return quiz


def build_quiz(doc: YamlDoc) -> Quiz:
    """The model of a quiz document that has passed every check."""
    data = doc.data
    return Quiz(
        id=data["id"],
        title=Text.of(data["title"]),
        description=Text.of(data.get("description")),
        questions=[_question(q, doc.mark(("questions", i)).line) for i, q in enumerate(data["questions"])],
        file=doc.file,
    )


def _question(q: dict[str, Any], line: int) -> Question:
    common = dict(
        id=q["id"], points=float(q["points"]), title=Text.of(q.get("title")), prompt=Text.of(q["prompt"]),
        explanation=Text.of(q["explanation"]), tags=tuple(q["tags"]), line=line,
        key_phrases=tuple(str(k) for k in q.get("key_phrases", ())),
    )
    cls = QUESTION_CLASSES[q["type"]]
    if cls is SingleChoice:
        return SingleChoice(**common, options=_options(q), shuffle=q.get("shuffle", True))
    if cls is MultipleChoice:
        return MultipleChoice(**common, options=_options(q), shuffle=q.get("shuffle", True),
                              scoring=q.get("scoring", "partial"))
    if cls is TrueFalse:
        return TrueFalse(**common, answer=q["answer"])
    if cls is Numeric:
        tol = q.get("tolerance") or {}
        return Numeric(
            **common,
            answer=q.get("answer"),
            formula=expr.parse(q["formula"]) if "formula" in q else None,
            params=tuple(
                Param(name=n, min=s.get("min"), max=s.get("max"), step=s.get("step"), decimals=s.get("decimals"),
                      choices=tuple(s.get("choices", ())))
                for n, s in (q.get("params") or {}).items()
            ),
            derived=tuple((n, expr.parse(src)) for n, src in (q.get("derived") or {}).items()),
            abs_tol=float(tol.get("abs", 0.0)),
            rel_tol=float(tol.get("rel", 1e-9)),
            unit=Text.of(q["unit"]) if "unit" in q else None,
        )
    if cls is ShortAnswer:
        examples = q.get("examples") or {}
        return ShortAnswer(**common, accept=tuple(str(a) for a in q.get("accept", ())),
                           patterns=tuple(q.get("patterns", ())),
                           examples_accept=tuple(str(a) for a in examples.get("accept", ())),
                           examples_reject=tuple(str(a) for a in examples.get("reject", ())))
    if cls is FreeAnswer:
        return FreeAnswer(**common, model_answer=Text.of(q["model_answer"]),
                          rubric=tuple(Criterion(id=c["id"], points=float(c["points"]), text=Text.of(c["text"]),
                                                 hints=tuple(str(h) for h in c.get("hints", ())))
                                       for c in q["rubric"]))
    return Ordering(**common, items=tuple(Item(id=i["id"], text=Text.of(i["text"])) for i in q["items"]),
                    scoring=q.get("scoring", "exact"))


def _options(q: dict[str, Any]) -> tuple[Option, ...]:
    return tuple(Option(id=o["id"], text=Text.of(o["text"]), correct=bool(o.get("correct", False)))
                 for o in q["options"])


def find_quiz_file(name: str, quizzes_dir: Path) -> Path:
    """A quiz given as a path, or as a quiz id / file stem under the course's quizzes folder."""
    p = Path(name)
    if p.exists():
        return p
    for candidate in (quizzes_dir / f"{name}.yaml", quizzes_dir / f"{name}.yml"):
        if candidate.exists():
            return candidate
    if quizzes_dir.is_dir():
        for f in sorted(quizzes_dir.glob("*.y*ml")):
            head = f.read_text(encoding="utf-8", errors="replace")[:2000]
            if any(line.strip() in (f"id: {name}", f'id: "{name}"', f"id: '{name}'") for line in head.splitlines()):
                return f
    raise QuizError(f"no quiz {name!r}: neither a file nor a quiz in {quizzes_dir}. "
                    "Run `seqgrade quiz validate` to list the course's quizzes.")


def check_quiz_files(paths: list[Path], languages: list[str] | None = None) -> dict[Path, list[Problem]]:
    """Problems of each file, plus quiz ids used by more than one file."""
    out: dict[Path, list[Problem]] = {}
    ids: dict[str, Path] = {}
    for p in paths:
        quiz, problems = check_quiz_file(p, languages)
        if quiz is not None:
            if quiz.id in ids:
                problems = [Problem(str(p), 1, 1, f"quiz id {quiz.id!r} is already used by {ids[quiz.id]}; "
                                    "quiz ids name gradebook items and must differ")]
            else:
                ids[quiz.id] = p
        out[p] = problems
    return out
