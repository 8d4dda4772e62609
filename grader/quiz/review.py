"""Grading free answers by hand: filing them, reviewing them one at a time, and recording the scores.

- `grade_with_reviews` grades a class's answers files and files every free
  answer for review (a review of the same answer is kept).
- `review_session` shows one answer at a time (student, question, the answer,
  the rubric with suggested ticks, the model answer) and asks which rubric
  items it meets and for a comment; each decision is saved before the next
  answer is shown, so a session can stop anywhere and resume.
- `import_reviews` reads decisions written in a YAML file (a co-grader's, or
  the demo's example reviews).
- `apply` puts a decision's score and feedback into the student's result in
  the gradebook, like every other score (exports, feedback and reports read it).

Everything the student wrote is shown through `grader.escape.terminal`.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import escape
from ..errors import QuizError
from ..gradebook import Gradebook
from ..results import CheckResult, SubmissionResult
from . import rubric
from .answers import Answers
from .grading import free_answers, grade_class
from .model import FreeAnswer, Quiz
from .reviewstore import ReviewStore
from .rubric import Review
from .yamlsrc import parse_yaml

MAX_TRIES = 5
_SPLIT = re.compile(r"[\s,;，、；]+")


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "grader"


# -- filing and recording ------------------------------------------------------

def grade_with_reviews(quiz: Quiz, answers: list[Answers], secret: str, lang: str,
                       gradebook: str | Path) -> list[SubmissionResult]:
    """Grade every answers file, free answers with their reviews; the results, to record.

    Each non-empty free answer is filed for review in the gradebook at `gradebook`
    (a review of the same answer is kept, a changed one waits again); the caller
    records the results (`recording.record_quiz_results`: times, late policy).
    """
    with ReviewStore(gradebook) as store:
        for a in answers:
            if a.values is None:
                continue
            given = free_answers(quiz, a)
            for q in quiz.questions:
                if isinstance(q, FreeAnswer):
                    if q.id in given:
                        store.submit(quiz.id, a.student, q.id, given[q.id])
                    else:
                        store.withdraw(quiz.id, a.student, q.id)
        return grade_class(quiz, answers, secret, lang, store.by_student(quiz.id))


def pending(quiz: Quiz, store: ReviewStore) -> list[Review]:
    """Free answers of `quiz` that no review covers yet."""
    return [r for r in store.for_quiz(quiz.id) if r.answer and not r.done and _free(quiz, r.question)]


def _free(quiz: Quiz, qid: str) -> FreeAnswer | None:
    q = quiz.question(qid)
    return q if isinstance(q, FreeAnswer) else None


def queue(quiz: Quiz, store: ReviewStore, students: tuple[str, ...] = (), questions: tuple[str, ...] = (),
          again: bool = False) -> list[Review]:
    """The answers to review, question by question in the quiz's order, then by student."""
    order = {q.id: i for i, q in enumerate(quiz.questions)}
    for qid in questions:
        if _free(quiz, qid) is None:
            free = ", ".join(q.id for q in quiz.questions if isinstance(q, FreeAnswer)) or "none"
            raise QuizError(f"{quiz.id} has no free question {qid!r} (its free questions: {free})")
    out = [r for r in store.for_quiz(quiz.id)
           if r.answer and _free(quiz, r.question) is not None
           and (not students or r.student in students) and (not questions or r.question in questions)
           and (again or not r.done)]
    return sorted(out, key=lambda r: (order[r.question], r.student))


def apply(gb: Gradebook, quiz: Quiz, review: Review, lang: str) -> SubmissionResult:
    """Put a review's score and feedback into the student's result in the gradebook (committed)."""
    question = _free(quiz, review.question)
    if question is None:
        raise QuizError(f"{quiz.id} has no free question {review.question!r}")
    result = gb.result(quiz.id, review.student)
    if result is None:
        raise QuizError(f"no graded result of {quiz.id} for {escape.name(review.student)} in {gb.path}: "
                        f"grade the quiz first (seqgrade quiz grade {quiz.id} ANSWERS_DIR)")
    s = rubric.score(question, review.met)
    check = CheckResult(
        name=question.id, score=s.points, max_score=question.points,
        status="passed" if review.done and s.points >= question.points else "failed", visibility="public",
        message=rubric.feedback(question, review, lang, question.explanation.get(lang)),
        description=question.short_title(lang))
    for i, c in enumerate(result.checks):
        if c.name == question.id:
            result.checks[i] = check
            break
    else:
        result.checks.append(check)
    result.graded_at = None  # recorded now
    gb.record(result)
    return result


# -- the terminal session ------------------------------------------------------

@dataclass
class SessionSummary:
    reviewed: list[Review] = field(default_factory=list)
    skipped: int = 0
    stopped: bool = False  # the grader quit (or the input ended) before the end
    left: int = 0  # answers not shown because the session stopped


class _Quit(Exception):
    pass


def parse_ticks(question: FreeAnswer, text: str, current: list[str]) -> list[str] | None:
    """Rubric items from a typed line: numbers or ids; empty keeps `current`; 0 or - for none. None: not understood."""
    text = text.strip()
    if not text:
        return list(current)
    if text in ("0", "-", "none", "无"):
        return []
    ids = [c.id for c in question.rubric]
    chosen: list[str] = []
    for token in _SPLIT.split(text.strip("[]")):
        if not token:
            continue
        if token.isdigit() and 1 <= int(token) <= len(ids):
            cid = ids[int(token) - 1]
        elif token in ids:
            cid = token
        else:
            return None
        if cid not in chosen:
            chosen.append(cid)
    return [i for i in ids if i in chosen]


def answer_view(quiz: Quiz, review: Review, n: int, total: int, lang: str, ticks: list[str],
                hinted: dict[str, str]) -> str:
    """The text shown for one answer: who, which question, the answer (escaped), the rubric, the model answer."""
    q = _free(quiz, review.question)
    assert q is not None
    lines = [f"[{n}/{total}] {escape.name(review.student)} · {q.id} · {q.points:g} points", "",
             q.prompt.get(lang).strip(), "", "Answer:"]
    lines += ["  | " + line for line in escape.terminal(review.answer).splitlines()]
    if review.stale:
        lines += ["", f"(The answer changed after the review of {review.reviewed_at}; that review's ticks are shown.)"]
    elif review.done:
        lines += ["", f"(Reviewed {review.reviewed_at} by {escape.name(review.reviewer)}; its ticks are shown.)"]
    lines += ["", "Rubric:"]
    for i, c in enumerate(q.rubric, start=1):
        mark = "x" if c.id in ticks else " "
        why = f"   <- hint: {escape.one_line(hinted[c.id], 40)}" if c.id in hinted and not review.reviewed_at else ""
        lines.append(f"  [{mark}] {i}. {c.text.get(lang)} ({c.points:g}){why}")
    lines += ["", "Model answer: " + " ".join(q.model_answer.get(lang).split())]
    return "\n".join(lines)


def _hints(q: FreeAnswer, text: str) -> dict[str, str]:
    """Which keyword suggested each item, for the grader to see."""
    from .normalize import normalize

    norm = normalize(text)
    out = {}
    for c in q.rubric:
        for h in c.hints:
            if normalize(h) and normalize(h) in norm:
                out[c.id] = h
                break
    return out


def review_session(quiz: Quiz, items: list[Review], *, ask: Callable[[str], str], say: Callable[[str], None],
                   save: Callable[[Review, list[str], str], Review], lang: str = "en") -> SessionSummary:
    """Review `items` one at a time; `save` records each decision before the next answer is shown."""
    summary = SessionSummary()
    for n, review in enumerate(items, start=1):
        q = _free(quiz, review.question)
        assert q is not None
        hinted = _hints(q, review.answer)
        start = list(review.met) if review.reviewed_at else [c.id for c in q.rubric if c.id in hinted]
        say(answer_view(quiz, review, n, len(items), lang, start, hinted))
        try:
            ticks = _ask_ticks(q, start, ask, say)
            if ticks is None:
                summary.skipped += 1
                say("skipped\n")
                continue
            keep = review.comment.strip()
            comment = ask(f"Comment for the student ({'Enter keeps the previous one, - clears it' if keep else 'Enter for none'})")
            comment = keep if not comment.strip() else ("" if comment.strip() == "-" else comment.strip())
        except _Quit:
            summary.stopped = True
            summary.left = len(items) - n + 1
            return summary
        saved = save(review, ticks, comment)
        s = rubric.score(q, saved.met)
        summary.reviewed.append(saved)
        say(f"saved: {escape.name(review.student)} · {q.id}: {s.points:g} of {s.max_points:g} points\n")
    return summary


def _ask_ticks(q: FreeAnswer, start: list[str], ask: Callable[[str], str], say: Callable[[str], None]) -> list[str] | None:
    shown = " ".join(str(i) for i, c in enumerate(q.rubric, start=1) if c.id in start) or "none"
    for _ in range(MAX_TRIES):
        line = ask(f"Items met: numbers like 1 3 (Enter keeps [{shown}], 0 = none, s = skip, q = quit)")
        word = line.strip().lower()
        if word in ("q", "quit"):
            raise _Quit()
        if word in ("s", "skip"):
            return None
        ticks = parse_ticks(q, line, start)
        if ticks is not None:
            return ticks
        say(f"not understood: {escape.one_line(line, 60)!s}; give item numbers from 1 to {len(q.rubric)}")
    return None


def session_input(prompt_fn: Callable[[str], str]) -> Callable[[str], str]:
    """Wrap a prompt function so that the end of the input (or Ctrl-C/Ctrl-D) stops the session cleanly."""
    import click

    def ask(prompt: str) -> str:
        try:
            return prompt_fn(prompt)
        except (EOFError, KeyboardInterrupt, click.exceptions.Abort):
            raise _Quit() from None

    return ask


# -- decisions from a file -------------------------------------------------------

@dataclass
class Imported:
    saved: list[Review] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def import_reviews(quiz: Quiz, path: Path, store: ReviewStore, reviewer: str) -> Imported:
    """Decisions from a YAML file (`reviews: {student: {question: {met: [...], comment: ...}}}`), saved.

    Each decision applies to the student's answer as last filed by `quiz grade`.
    Problems (unknown students, questions or rubric items, a malformed file)
    are reported with the file and line; the other decisions are saved.
    """
    out = Imported()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuizError(f"cannot read the reviews file {path}: {exc}") from exc
    doc = parse_yaml(text, str(path))
    if doc.problems:
        raise QuizError("\n".join(str(p) for p in doc.problems))
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("reviews"), dict):
        raise QuizError(f"{path}:1: expected a mapping with `reviews:` (student -> question -> {{met: [...], "
                        "comment: ...}}) and optionally `reviewer:`")
    who = str(data.get("reviewer") or reviewer)
    for student, per_question in data["reviews"].items():
        student = str(student)
        at = f"{path}:{doc.mark(('reviews', student), key=True).line}"
        if not isinstance(per_question, dict):
            out.problems.append(f"{at}: expected question -> {{met: [...], comment: ...}} for {escape.name(student)}")
            continue
        for qid, decision in per_question.items():
            qat = f"{path}:{doc.mark(('reviews', student, qid), key=True).line}"
            q = _free(quiz, str(qid))
            if q is None:
                out.problems.append(f"{qat}: {quiz.id} has no free question {escape.name(qid)}")
                continue
            if not isinstance(decision, dict) or not isinstance(decision.get("met", []), list):
                out.problems.append(f"{qat}: expected {{met: [rubric item ids], comment: text}}")
                continue
            met = [str(m) for m in decision.get("met", [])]
            unknown = [m for m in met if q.criterion(m) is None]
            if unknown:
                out.problems.append(f"{qat}: {q.id} has no rubric item {escape.name(unknown[0])} (items: "
                                    f"{', '.join(c.id for c in q.rubric)})")
                continue
            filed = store.get(quiz.id, student, q.id)
            if filed is None or not filed.answer:
                out.problems.append(f"{qat}: no answer of {escape.name(student)} to {q.id} is filed; grade the "
                                    "answers first (seqgrade quiz grade)")
                continue
            out.saved.append(store.save(filed, met, str(decision.get("comment") or ""), who))
    return out
