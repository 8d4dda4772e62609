"""The shipped question bank: valid, bilingual, covering the course, and gradable for every student."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from grader.quiz.grading import answer_key, grade_answer
from grader.quiz.loader import check_quiz_file
from grader.quiz.model import MultipleChoice, Numeric, ShortAnswer, SingleChoice, Text
from grader.quiz.schema import _import_jsonschema, load_schema
from grader.quiz.variants import make_variant

from .conftest import BANK_FILES, SECRET

CJK = re.compile(r"[\u4e00-\u9fff]")
STUDENTS = ["alice", "bob", "carol", "s001", "s002", "李雷", "韩梅梅"]


@pytest.mark.parametrize("path", BANK_FILES, ids=[p.stem for p in BANK_FILES])
def test_bank_file_is_valid(path):
    quiz, problems = check_quiz_file(path, ["en", "zh"])
    assert problems == [] and quiz is not None
    assert path.stem == quiz.id


@pytest.mark.parametrize("path", BANK_FILES, ids=[p.stem for p in BANK_FILES])
def test_bank_file_passes_the_json_schema_alone(path):
    """What an editor sees with the shipped schema."""
    js = _import_jsonschema()
    js.Draft7Validator(load_schema()).validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_the_schema_itself_is_valid_draft7():
    _import_jsonschema().Draft7Validator.check_schema(load_schema())


def test_bank_has_at_least_forty_questions_of_every_type(bank):
    questions = [q for quiz in bank.values() for q in quiz.questions]
    assert len(bank) >= 4 and len(questions) >= 40
    assert {q.type for q in questions} == {"single", "multiple", "true_false", "numeric", "short", "ordering"}
    assert sum(isinstance(q, Numeric) and q.parameterized for q in questions) >= 10


def test_bank_covers_the_course_topics(bank):
    tags = Counter(t for quiz in bank.values() for q in quiz.questions for t in q.tags)
    for topic in ("seq2seq", "encoder", "decoder", "context-vector", "vanishing-gradient", "long-range", "lstm",
                  "gates", "cell-state", "gru", "model-choice", "rnn-attention", "self-attention", "recurrence",
                  "parallelism", "scaled-dot-product", "sqrt-dk", "multi-head", "parameter-count", "tensor-shape",
                  "masking", "cross-attention"):
        assert tags[topic] >= 1, topic


def _texts(quiz):
    yield "title", quiz.title
    for q in quiz.questions:
        for name in ("title", "prompt", "explanation"):
            yield f"{q.id}.{name}", getattr(q, name)
        for o in getattr(q, "options", ()) + getattr(q, "items", ()):
            yield f"{q.id}.{o.id}", o.text


def test_english_is_english_and_chinese_is_chinese(bank):
    for quiz in bank.values():
        for where, text in _texts(quiz):
            assert isinstance(text, Text)
            if text.neutral:
                assert not CJK.search(text.get("en")), where
                continue
            assert set(text.by_lang) == {"en", "zh"}, where
            assert not CJK.search(text.get("en")), where
            assert CJK.search(text.get("zh")), where


def test_right_options_are_not_always_the_same_id(bank):
    right = [o.id for quiz in bank.values() for q in quiz.questions if isinstance(q, SingleChoice)
             for o in q.options if o.correct]
    counts = Counter(right)
    assert len(counts) == 4 and max(counts.values()) <= len(right) // 2


def test_every_students_text_has_every_placeholder_filled(bank):
    for quiz in bank.values():
        for q in quiz.questions:
            for s in STUDENTS[:3]:
                v = make_variant(quiz.id, q, s, SECRET)
                for lang in ("en", "zh"):
                    for text in (q.prompt, q.explanation, q.title):
                        assert "{{" not in v.text(text, lang), (quiz.id, q.id)


@pytest.mark.parametrize("student", STUDENTS)
def test_the_answer_key_scores_full_marks(bank, student):
    for quiz in bank.values():
        key = answer_key(quiz, student, SECRET)
        for q in quiz.questions:
            v = make_variant(quiz.id, q, student, SECRET)
            g = grade_answer(q, v, key[q.id])
            assert g.status == "passed", (quiz.id, q.id, g)


def test_every_accepted_short_answer_is_accepted_in_both_widths_and_any_case(bank):
    for quiz in bank.values():
        for q in quiz.questions:
            if not isinstance(q, ShortAnswer):
                continue
            v = make_variant(quiz.id, q, "alice", SECRET)
            for a in q.accept:
                wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in a.upper())
                for form in (a, a.upper(), wide, f" {a}。"):
                    assert grade_answer(q, v, form).status == "passed", (q.id, form)
            assert grade_answer(q, v, "attention is all you need").status == "failed"


def test_multiple_choice_questions_have_right_and_wrong_options(bank):
    for quiz in bank.values():
        for q in quiz.questions:
            if isinstance(q, MultipleChoice):
                right = sum(o.correct for o in q.options)
                assert 1 < right < len(q.options), q.id
