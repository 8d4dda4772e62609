"""The SQLite gradebook: what is recorded stays recorded, replaced whole, readable while written.

Real SQLite files in a temporary folder; concurrency with real processes.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest

from grader.errors import GradebookError
from grader.gradebook import SCHEMA_VERSION, Gradebook, GradedKey
from grader.results import CheckResult, SubmissionResult


def result(student="alice", item="a1_rnn", n_checks=3, passed=2, **kw) -> SubmissionResult:
    checks = [CheckResult(f"test_{i}", 1.0 if i < passed else 0.0, 1.0, "passed" if i < passed else "failed",
                          "public" if i == 0 else "hidden", "" if i < passed else f"check {i} failed",
                          f"what check {i} checks")
              for i in range(n_checks)]
    kw.setdefault("content_hash", "hash-" + student)
    kw.setdefault("checks_version", "v1")
    return SubmissionResult(student=student, item=item, checks=checks, max_score=float(n_checks), **kw)


@pytest.fixture
def gb(tmp_path):
    with Gradebook(tmp_path / "gradebook.db") as g:
        yield g


def test_recorded_result_reads_back_equal(gb):
    r = result(error="", submitted_at="2026-10-01T10:00:00+00:00", late_penalty=0.1, output="printed\n")
    gb.record(r)
    back = gb.result("a1_rnn", "alice")
    assert back == r
    assert back.score == pytest.approx(1.8) and back.raw_score == 2.0


def test_record_sets_graded_at_when_missing(gb):
    r = result()
    assert r.graded_at is None
    gb.record(r)
    assert r.graded_at is not None
    assert gb.result("a1_rnn", "alice").graded_at == r.graded_at


def test_record_keeps_a_given_graded_at(gb):
    gb.record(result(graded_at="2026-01-01T00:00:00+00:00"))
    assert gb.result("a1_rnn", "alice").graded_at == "2026-01-01T00:00:00+00:00"


def test_record_replaces_the_previous_result_and_all_its_checks(gb):
    gb.record(result(n_checks=5, passed=1, content_hash="old"))
    gb.record(result(n_checks=2, passed=2, content_hash="new"))
    back = gb.results()
    assert len(back) == 1
    assert back[0].content_hash == "new" and [c.name for c in back[0].checks] == ["test_0", "test_1"]
    assert gb._db.execute("SELECT COUNT(*) FROM checks").fetchone()[0] == 2  # no orphaned checks


def test_record_of_another_student_or_item_keeps_the_first(gb):
    gb.record(result("alice", "a1_rnn"))
    gb.record(result("bob", "a1_rnn"))
    gb.record(result("alice", "a2_gated"))
    assert {(r.student, r.item) for r in gb.results()} == {("alice", "a1_rnn"), ("bob", "a1_rnn"),
                                                           ("alice", "a2_gated")}


def test_checks_keep_their_order(gb):
    r = result(n_checks=12, passed=6)
    r.checks.reverse()
    gb.record(r)
    assert [c.name for c in gb.result("a1_rnn", "alice").checks] == [c.name for c in r.checks]


def test_graded_key_is_none_for_an_ungraded_submission(gb):
    assert gb.graded_key("a1_rnn", "alice") is None


def test_graded_key_is_the_stored_hash_and_checks_version(gb):
    gb.record(result(content_hash="abc", checks_version="v7"))
    assert gb.graded_key("a1_rnn", "alice") == GradedKey("abc", "v7")
    assert gb.graded_key("a2_gated", "alice") is None


def test_results_filter_by_item_and_kind(gb):
    gb.record(result("alice", "a1_rnn"))
    gb.record(result("alice", "q1_rnn_basics", kind="quiz"))
    assert [r.item for r in gb.results(item="a1_rnn")] == ["a1_rnn"]
    assert [r.item for r in gb.results(kind="quiz")] == ["q1_rnn_basics"]


def test_items_list_assignments_before_quizzes(gb):
    gb.record(result("alice", "q1_rnn_basics", kind="quiz"))
    gb.record(result("alice", "a2_gated"))
    gb.record(result("alice", "a1_rnn"))
    assert gb.items() == [("assignment", "a1_rnn"), ("assignment", "a2_gated"), ("quiz", "q1_rnn_basics")]


def test_students_are_listed_once_in_order(gb):
    for s, i in [("carol", "a1_rnn"), ("alice", "a1_rnn"), ("alice", "a2_gated"), ("张三", "a1_rnn")]:
        gb.record(result(s, i))
    assert gb.students() == ["alice", "carol", "张三"]


def test_results_survive_a_new_connection(tmp_path):
    path = tmp_path / "gb.db"
    with Gradebook(path) as g:
        g.record(result("alice"))
        g.record(result("bob", passed=0))
    with Gradebook(path) as g:
        assert [(r.student, r.raw_score) for r in g.results()] == [("alice", 2.0), ("bob", 0.0)]


def test_result_is_committed_before_record_returns(tmp_path):
    path = tmp_path / "gb.db"
    g = Gradebook(path)
    g.record(result("alice"))
    other = sqlite3.connect(path)  # a second connection sees it while the first is still open
    assert other.execute("SELECT student FROM results").fetchall() == [("alice",)]
    other.close()
    g.close()


# -- schema --------------------------------------------------------------------------

def test_new_gradebook_has_the_current_schema_version(gb):
    assert gb.schema_version == SCHEMA_VERSION >= 1


def test_empty_sqlite_file_is_migrated(tmp_path):
    path = tmp_path / "gb.db"
    sqlite3.connect(path).close()
    with Gradebook(path) as g:
        assert g.schema_version == SCHEMA_VERSION
        g.record(result())


def test_gradebook_from_a_newer_seqgrade_is_refused(tmp_path):
    path = tmp_path / "gb.db"
    Gradebook(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(GradebookError, match=r"newer seqgrade .*Upgrade seqgrade, or use another --gradebook"):
        Gradebook(path)


def test_refusing_a_newer_gradebook_leaves_it_untouched(tmp_path):
    path = tmp_path / "gb.db"
    Gradebook(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    with pytest.raises(GradebookError):
        Gradebook(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5
    db.close()


# -- broken files and places ---------------------------------------------------------

@pytest.mark.parametrize("content", [b"this is not a database" * 100, b"SQLite format 3\x00" + b"\xff" * 4000],
                         ids=["text", "damaged-header"])
def test_corrupted_file_raises_gradebook_error_saying_move_it_aside(tmp_path, content):
    path = tmp_path / "gb.db"
    path.write_bytes(content)
    with pytest.raises(GradebookError, match="move it aside") as e:
        Gradebook(path)
    assert str(path) in str(e.value)


def test_corrupted_file_is_not_overwritten(tmp_path):
    path = tmp_path / "gb.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(GradebookError):
        Gradebook(path)
    assert path.read_bytes() == b"this is not a database" * 100


def test_unwritable_location_raises_gradebook_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(GradebookError, match="Choose a writable place with --gradebook") as e:
        Gradebook(blocker / "sub" / "gb.db")
    assert "a-file" in str(e.value)


# -- concurrency ---------------------------------------------------------------------

def test_gradebook_uses_write_ahead_logging(gb):
    assert gb._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reader_is_not_blocked_by_an_open_write_transaction(tmp_path):
    path = tmp_path / "gb.db"
    writer = Gradebook(path)
    writer.record(result("alice"))
    writer._db.execute("BEGIN IMMEDIATE")
    writer._db.execute("DELETE FROM results")  # not committed
    reader = sqlite3.connect(path, timeout=0.1)  # would raise 'database is locked' without WAL
    assert reader.execute("SELECT student FROM results").fetchall() == [("alice",)]
    reader.close()
    writer._db.execute("ROLLBACK")
    writer.close()


def _write_many(path: str, n: int) -> None:
    with Gradebook(path) as g:
        for i in range(n):
            g.record(result(f"s{i:03d}", n_checks=1 + i % 7, passed=i % 3))


N_WRITTEN = 150


def test_concurrent_readers_see_only_whole_results(tmp_path):
    path = tmp_path / "gb.db"
    Gradebook(path).close()
    writer = multiprocessing.get_context("spawn").Process(target=_write_many, args=(str(path), N_WRITTEN))
    writer.start()
    seen_counts = set()
    try:
        with Gradebook(path) as reader:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                rs = reader.results()
                for r in rs:
                    i = int(r.student[1:])
                    assert len(r.checks) == 1 + i % 7, f"{r.student}: a result was read half written"
                seen_counts.add(len(rs))
                if not writer.is_alive() and len(rs) == N_WRITTEN:
                    break
    finally:
        writer.join(timeout=60)
    assert writer.exitcode == 0
    assert max(seen_counts) == N_WRITTEN
    assert len(seen_counts) > 1, "the reader never overlapped the writer"


def test_two_writers_do_not_lose_results(tmp_path):
    path = tmp_path / "gb.db"
    Gradebook(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(path), 40)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    with Gradebook(path) as g:
        assert len(g.results()) == 40  # the same 40 students twice: replaced, never duplicated


def test_record_failure_raises_gradebook_error_and_keeps_earlier_results(tmp_path):
    path = tmp_path / "gb.db"
    g = Gradebook(path)
    g.record(result("alice"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # hold the write lock
    g._db.execute("PRAGMA busy_timeout = 100")
    with pytest.raises(GradebookError, match="cannot write to the gradebook"):
        g.record(result("bob"))
    other.execute("ROLLBACK")
    other.close()
    assert [r.student for r in g.results()] == ["alice"]
    g.record(result("bob"))  # and the gradebook is usable again
    assert [r.student for r in g.results()] == ["alice", "bob"]
    g.close()


def test_gradebook_path_is_created_with_its_folders(tmp_path):
    path = tmp_path / "deep" / "er" / "gb.db"
    with Gradebook(path) as g:
        g.record(result())
    assert Path(path).is_file()
