"""Where free answers and their reviews are kept: a table of the course's SQLite gradebook file.

`seqgrade quiz grade` files every non-empty free answer here (`submit`); a
changed answer goes back to "awaiting review", keeping the old review as a
starting point. `seqgrade quiz review` saves each decision here (`save`) as
soon as it is made, so a review session can stop at any answer and resume.
The scores themselves are recorded like every other result, through
`grader.gradebook.Gradebook.record` (see `review.apply`).

The table lives beside the gradebook's own tables and is created on first
use; the gradebook's schema and migrations are not touched.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from ..errors import GradebookError
from .rubric import Review, answer_digest

_TABLE = """
CREATE TABLE IF NOT EXISTS quiz_reviews (
    quiz TEXT NOT NULL,
    student TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    answer_sha256 TEXT NOT NULL,
    met TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL DEFAULT '',
    reviewed_at TEXT,
    stale INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (quiz, student, question)
)
"""
_COLUMNS = "quiz, student, question, answer, answer_sha256, met, comment, reviewer, reviewed_at, stale"


def _row(row: tuple) -> Review:
    quiz, student, question, answer, digest, met, comment, reviewer, reviewed_at, stale = row
    return Review(quiz, student, question, answer, digest, tuple(json.loads(met)), comment, reviewer, reviewed_at,
                  bool(stale))


class ReviewStore:
    """The reviews of free answers in the gradebook file at `path`. Use as a context manager or `close()`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute(_TABLE)
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"cannot keep quiz reviews in {self.path}: {exc}") from exc
        except OSError as exc:
            raise GradebookError(f"cannot create {self.path}: {exc.strerror}") from exc

    def _write(self, sql: str, args: tuple) -> None:
        try:
            self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise GradebookError(f"cannot write a quiz review to {self.path}: {exc}") from exc

    # -- answers ------------------------------------------------------------
    def submit(self, quiz: str, student: str, question: str, answer: str) -> Review:
        """File an answer; a review of the same answer is kept, a changed answer awaits review again."""
        digest = answer_digest(answer)
        old = self.get(quiz, student, question)
        if old is not None and old.answer_sha256 == digest:
            return old
        stale = old is not None and old.reviewed_at is not None
        self._write(
            f"INSERT OR REPLACE INTO quiz_reviews ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (quiz, student, question, answer, digest, json.dumps(list(old.met) if stale else []),
             old.comment if stale else "", old.reviewer if stale else "", old.reviewed_at if stale else None,
             int(stale)))
        return self.get(quiz, student, question)  # type: ignore[return-value]

    def withdraw(self, quiz: str, student: str, question: str) -> None:
        """The student no longer answers `question`: nothing left to review (an old review is kept, stale)."""
        old = self.get(quiz, student, question)
        if old is None or not old.answer:
            return
        if old.reviewed_at is None:
            self._write("DELETE FROM quiz_reviews WHERE quiz = ? AND student = ? AND question = ?",
                        (quiz, student, question))
        else:
            self._write("UPDATE quiz_reviews SET answer = '', answer_sha256 = ?, stale = 1 "
                        "WHERE quiz = ? AND student = ? AND question = ?",
                        (answer_digest(""), quiz, student, question))

    # -- reviews ------------------------------------------------------------
    def save(self, review: Review, met: list[str] | tuple[str, ...], comment: str, reviewer: str) -> Review:
        """Record a grader's decision on `review`'s answer; committed before returning."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._write(
            "UPDATE quiz_reviews SET met = ?, comment = ?, reviewer = ?, reviewed_at = ?, stale = 0 "
            "WHERE quiz = ? AND student = ? AND question = ? AND answer_sha256 = ?",
            (json.dumps(list(met)), comment, reviewer, now, review.quiz, review.student, review.question,
             review.answer_sha256))
        saved = self.get(review.quiz, review.student, review.question)
        if saved is None or saved.answer_sha256 != review.answer_sha256:
            raise GradebookError(f"the answer of {review.student} to {review.question} changed while it was being "
                                 "reviewed; review it again")
        return saved

    def get(self, quiz: str, student: str, question: str) -> Review | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM quiz_reviews WHERE quiz = ? AND student = ? AND question = ?",
                               (quiz, student, question)).fetchone()
        return _row(row) if row else None

    def for_quiz(self, quiz: str) -> list[Review]:
        """Every filed answer of `quiz`, by student then question."""
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM quiz_reviews WHERE quiz = ? ORDER BY student, question",
                                (quiz,)).fetchall()
        return [_row(r) for r in rows]

    def by_student(self, quiz: str) -> dict[tuple[str, str], Review]:
        """(student, question) -> review, for `grading.grade_class`."""
        return {(r.student, r.question): r for r in self.for_quiz(quiz)}

    # -- lifecycle ----------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ReviewStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
