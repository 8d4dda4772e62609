"""Every malformed quiz file gives the right message at the right line and column.

Each fixture in malformed/ starts with one or more lines
`# expect: LINE:COLUMN MESSAGE-FRAGMENT`; validation must report exactly those
positions, each with a message containing its fragment, and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.quiz.loader import check_quiz_file

from .conftest import MALFORMED_DIR

FIXTURES = sorted(MALFORMED_DIR.glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (.+)$")


def expectations(path: Path) -> list[tuple[int, int, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = EXPECT.match(line)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), m.group(3)))
    return out


def test_there_are_at_least_twenty_malformed_fixtures():
    assert len(FIXTURES) >= 20
    assert all(expectations(f) for f in FIXTURES), "every fixture declares what it expects"


@pytest.mark.parametrize("path", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_malformed_file_reports_the_right_message_at_the_right_place(path: Path):
    quiz, problems = check_quiz_file(path, ["en", "zh"])
    assert quiz is None
    got = sorted((p.line, p.column, p.message) for p in problems)
    want = sorted(expectations(path))
    assert [(line, col) for line, col, _ in got] == [(line, col) for line, col, _ in want], got
    for (_, _, message), (_, _, fragment) in zip(got, want):
        assert fragment in message
    for p in problems:
        assert p.file == str(path)
        assert str(p).startswith(f"{path}:{p.line}:{p.column}: ")


def test_missing_translation_is_fine_when_the_course_has_one_language():
    path = MALFORMED_DIR / "missing_translation.yaml"
    quiz, problems = check_quiz_file(path, ["en"])
    assert problems == [] and quiz is not None


def test_plain_option_text_is_language_neutral_but_a_partial_mapping_is_not(tmp_path):
    text = (MALFORMED_DIR / "two_correct_single.yaml").read_text(encoding="utf-8")
    text = text.replace("      - {id: c, text: sigmoid, correct: true}", "      - {id: c, text: {en: sigmoid}}")
    p = tmp_path / "partial.yaml"
    p.write_text(text, encoding="utf-8")
    _, problems = check_quiz_file(p, ["en", "zh"])
    assert [(x.line, x.column) for x in problems] == [(14, 23)]
    assert "missing translation 'zh' in text" in problems[0].message


def test_unreadable_and_non_utf8_files_are_problems_not_crashes(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert "cannot read" in check_quiz_file(missing)[1][0].message
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("id: q\ntitle: caf\xe9\n".encode("latin-1"))
    (p,) = check_quiz_file(latin)[1]
    assert (p.line, "UTF-8" in p.message) == (2, True)


def test_empty_file_is_reported():
    from grader.quiz.loader import check_quiz

    _, problems = check_quiz("", "empty.yaml")
    assert [str(p) for p in problems] == ["empty.yaml:1:1: the file is empty; expected a mapping"]
