"""The gradebook: one SQLite file holding every graded submission and quiz.

Each result is committed in its own transaction as soon as it is recorded, so
killing the grader at any moment (kill -9 included) loses nothing already
recorded, and the next run continues where the last stopped: a submission is
graded again only when its content hash or the checks' version changed.

The schema carries a version; `MIGRATIONS[i]` upgrades version i to i+1.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .errors import GradebookError
from .results import CheckResult, Flag, SubmissionResult

MIGRATIONS: list[str] = [
    # 0 -> 1: results and their checks.
    """
    CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        item TEXT NOT NULL,
        student TEXT NOT NULL,
        raw_score REAL NOT NULL,
        score REAL NOT NULL,
        max_score REAL NOT NULL,
        late_penalty REAL NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT '',
        content_hash TEXT NOT NULL DEFAULT '',
        checks_version TEXT NOT NULL DEFAULT '',
        submitted_at TEXT,
        graded_at TEXT NOT NULL,
        output TEXT NOT NULL DEFAULT '',
        UNIQUE (item, student)
    );
    CREATE TABLE checks (
        result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        score REAL NOT NULL,
        max_score REAL NOT NULL,
        status TEXT NOT NULL,
        visibility TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (result_id, position)
    );
    CREATE INDEX checks_by_name ON checks(name);
    """,
    # 1 -> 2: what an instructor must see beside a score, and trusted submission times.
    """
    ALTER TABLE results ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE results ADD COLUMN isolation TEXT NOT NULL DEFAULT '';
    ALTER TABLE results ADD COLUMN time_source TEXT NOT NULL DEFAULT '';
    ALTER TABLE results ADD COLUMN due_at TEXT;
    ALTER TABLE results ADD COLUMN extension TEXT NOT NULL DEFAULT '';
    ALTER TABLE checks ADD COLUMN kind TEXT NOT NULL DEFAULT '';
    ALTER TABLE checks ADD COLUMN bug TEXT NOT NULL DEFAULT '';
    CREATE TABLE first_seen (
        item TEXT NOT NULL,
        student TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (item, student, content_hash)
    );
    CREATE TABLE observations (
        item TEXT NOT NULL,
        observed_at TEXT NOT NULL
    );
    CREATE INDEX observations_by_item ON observations(item, observed_at);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class GradedKey:
    """What decides whether a stored result is still current."""

    content_hash: str
    checks_version: str


class Gradebook:
    """A SQLite gradebook. Use as a context manager or call `close()`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise GradebookError(
                f"cannot use the gradebook {self.path}: {exc}. If the file is corrupted, "
                "move it aside (keep it as a backup) and grade again: a new gradebook is created."
            ) from exc
        except OSError as exc:
            raise GradebookError(
                f"cannot create the gradebook {self.path}: {exc.strerror}. "
                "Choose a writable place with --gradebook."
            ) from exc

    # -- schema -------------------------------------------------------------
    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise GradebookError(
                f"{self.path} was written by a newer seqgrade (schema {version}, this one knows "
                f"{SCHEMA_VERSION}). Upgrade seqgrade, or use another --gradebook."
            )
        for i in range(version, SCHEMA_VERSION):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for stmt in filter(str.strip, MIGRATIONS[i].split(";")):
                    self._db.execute(stmt)
                self._db.execute(f"PRAGMA user_version = {i + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    # -- writing ------------------------------------------------------------
    def record(self, result: SubmissionResult) -> None:
        """Store `result`, replacing any earlier one for the same item and student.

        Committed before returning.
        """
        graded_at = result.graded_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
        result.graded_at = graded_at
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "DELETE FROM results WHERE item = ? AND student = ?",
                    (result.item, result.student),
                )
                cur = self._db.execute(
                    "INSERT INTO results (kind, item, student, raw_score, score, max_score, "
                    "late_penalty, error, content_hash, checks_version, submitted_at, graded_at, output, "
                    "flags, isolation, time_source, due_at, extension) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        result.kind, result.item, result.student, result.raw_score, result.score,
                        result.max_score, result.late_penalty, result.error, result.content_hash,
                        result.checks_version, result.submitted_at, graded_at, result.output,
                        json.dumps([asdict(f) for f in result.flags], ensure_ascii=False), result.isolation,
                        result.time_source, result.due_at, result.extension,
                    ),
                )
                rid = cur.lastrowid
                self._db.executemany(
                    "INSERT INTO checks (result_id, position, name, score, max_score, status, "
                    "visibility, message, description, kind, bug) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        (rid, i, c.name, c.score, c.max_score, c.status, c.visibility, c.message,
                         c.description, c.kind, c.bug)
                        for i, c in enumerate(result.checks)
                    ],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise GradebookError(f"cannot write to the gradebook {self.path}: {exc}") from exc

    # -- reading ------------------------------------------------------------
    def first_seen(self, item: str, student: str, content_hash: str, now: datetime | None = None) -> str:
        """When this gradebook first saw `student`'s `content_hash` for `item` (ISO 8601, UTC).

        The first call records `now` (default: the current time) and commits it at once, so
        the time survives a run that is killed; later calls return the recorded time.
        """
        when = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        try:
            self._db.execute("INSERT OR IGNORE INTO first_seen (item, student, content_hash, seen_at) "
                             "VALUES (?,?,?,?)", (item, student, content_hash, when))
            row = self._db.execute("SELECT seen_at FROM first_seen WHERE item = ? AND student = ? AND "
                                   "content_hash = ?", (item, student, content_hash)).fetchone()
        except sqlite3.Error as exc:
            raise GradebookError(f"cannot write to the gradebook {self.path}: {exc}") from exc
        return row[0]

    def observe(self, item: str, at: str) -> None:
        """Record that a run looked at every submission of `item` at `at` (ISO 8601, UTC)."""
        try:
            self._db.execute("INSERT INTO observations (item, observed_at) VALUES (?, ?)", (item, at))
        except sqlite3.Error as exc:
            raise GradebookError(f"cannot write to the gradebook {self.path}: {exc}") from exc

    def last_observation_before(self, item: str, at: str) -> str | None:
        """The latest run that looked at `item` strictly before `at`, or None."""
        row = self._db.execute("SELECT MAX(observed_at) FROM observations WHERE item = ? AND observed_at < ?",
                               (item, at)).fetchone()
        return row[0] if row else None

    def graded_key(self, item: str, student: str) -> GradedKey | None:
        row = self._db.execute(
            "SELECT content_hash, checks_version FROM results WHERE item = ? AND student = ?",
            (item, student),
        ).fetchone()
        return GradedKey(*row) if row else None

    def result(self, item: str, student: str) -> SubmissionResult | None:
        rows = list(self._results("WHERE item = ? AND student = ?", (item, student)))
        return rows[0] if rows else None

    def results(self, item: str | None = None, kind: str | None = None) -> list[SubmissionResult]:
        where, args = [], []
        if item is not None:
            where.append("item = ?")
            args.append(item)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return list(self._results(clause, tuple(args)))

    def items(self) -> list[tuple[str, str]]:
        """(kind, item) pairs present, assignments first, in name order."""
        return [
            (k, i)
            for k, i in self._db.execute(
                "SELECT DISTINCT kind, item FROM results ORDER BY kind = 'quiz', item"
            )
        ]

    def students(self) -> list[str]:
        return [s for (s,) in self._db.execute("SELECT DISTINCT student FROM results ORDER BY student")]

    def _results(self, clause: str, args: tuple) -> Iterator[SubmissionResult]:
        cols = ("id, kind, item, student, max_score, late_penalty, error, content_hash, "
                "checks_version, submitted_at, graded_at, output, flags, isolation, time_source, due_at, extension")
        for row in self._db.execute(
            f"SELECT {cols} FROM results {clause} ORDER BY item, student", args
        ).fetchall():
            (rid, kind, item, student, max_score, late, error, chash, cver, sub_at, gr_at, out, flags, isolation,
             time_source, due_at, extension) = row
            checks = [
                CheckResult(name=n, score=s, max_score=m, status=st, visibility=v, message=msg,
                            description=d, kind=k, bug=b)
                for n, s, m, st, v, msg, d, k, b in self._db.execute(
                    "SELECT name, score, max_score, status, visibility, message, description, kind, bug "
                    "FROM checks WHERE result_id = ? ORDER BY position",
                    (rid,),
                )
            ]
            yield SubmissionResult(
                student=student, item=item, kind=kind, checks=checks, max_score=max_score,
                error=error, content_hash=chash, checks_version=cver, submitted_at=sub_at,
                late_penalty=late, graded_at=gr_at, output=out, flags=_flags(flags), isolation=isolation,
                time_source=time_source, due_at=due_at, extension=extension,
            )

    # -- lifecycle ----------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _flags(text: str) -> list[Flag]:
    try:
        return [Flag(**f) for f in json.loads(text or "[]")]
    except (ValueError, TypeError):
        return [Flag("refused", "gradebook", "the stored flags could not be read")]
