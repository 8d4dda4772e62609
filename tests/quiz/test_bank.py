"""The shipped question bank: valid, bilingual, covering the course, gradable for every student, and passing
the guessability lint (no test-taking strategy beats chance by more than 10 percentage points)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from grader.quiz.grading import answer_key, grade_answer
from grader.quiz.lint import LIMIT, MIN_EXAMPLES, lint_quiz, strategy_scores
from grader.quiz.loader import check_quiz_file
from grader.quiz.model import FreeAnswer, MultipleChoice, Numeric, ShortAnswer, SingleChoice, Text, TrueFalse
from grader.quiz.rubric import Review, answer_digest
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


def test_bank_has_at_least_fifty_six_questions_of_every_type(bank):
    questions = [q for quiz in bank.values() for q in quiz.questions]
    assert len(bank) >= 4 and len(questions) >= 56
    assert {q.type for q in questions} == {"single", "multiple", "true_false", "numeric", "short", "ordering", "free"}
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
        if isinstance(q, FreeAnswer):
            yield f"{q.id}.model_answer", q.model_answer
            for c in q.rubric:
                yield f"{q.id}.{c.id}", c.text


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
            if isinstance(q, FreeAnswer):  # the model answer too waits for a person, then earns what they tick
                assert g.status == "failed" and g.score == 0, (quiz.id, q.id, g)
                review = Review(quiz.id, student, q.id, key[q.id], answer_digest(key[q.id]),
                                met=tuple(c.id for c in q.rubric), reviewed_at="2026-01-01T00:00:00+00:00")
                g = grade_answer(q, v, key[q.id], review=review)
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


# -- guessability: the lint, as errors --------------------------------------------

@pytest.mark.parametrize("path", BANK_FILES, ids=[p.stem for p in BANK_FILES])
def test_the_shipped_quiz_passes_the_lint(path):
    quiz, _ = check_quiz_file(path, ["en", "zh"])
    report = lint_quiz(quiz, ["en", "zh"])
    assert report.problems == [], "\n".join(map(str, report.problems))


@pytest.mark.parametrize("path", BANK_FILES, ids=[p.stem for p in BANK_FILES])
def test_no_test_wise_strategy_beats_chance_by_more_than_ten_points(path):
    quiz, _ = check_quiz_file(path, ["en", "zh"])
    strategies, chance = strategy_scores(quiz, ["en", "zh"])
    assert {s.name for s in strategies} == {"longest", "shortest", "overlap", "position", "always_true",
                                            "always_false", "all_options"}
    for s in strategies:
        for lang, score in s.score.items():
            assert score <= chance + LIMIT + 1e-9, f"{quiz.id}: {s.label} scores {score:.1%} in {lang}, chance {chance:.1%}"


def test_true_false_answers_are_balanced_in_every_quiz(bank):
    for quiz in bank.values():
        answers = [q.answer for q in quiz.questions if isinstance(q, TrueFalse)]
        assert answers and 0.4 <= sum(answers) / len(answers) <= 0.6, quiz.id


# -- short answers: every key proven by its examples ------------------------------

ISSUE_PHRASINGS = {  # answers the old keys got wrong (issue 15): now proven, each in the right list
    "gate_activation": (["logistic 函数", "S形函数", "σ 函数"], ["not sigmoid, tanh"]),
    "causal_mask_name": (["the causal mask", "upper triangular mask", "因果遮罩"], ["序列掩码"]),
    "exploding_fix": (["clipping gradients", "clip_grad_norm", "梯度剪切", "裁剪梯度"], []),
    "cross_attention_name": (["cross-attention mechanism", "编码-解码注意力", "source attention"], []),
}


def test_every_short_answer_key_is_proven_by_its_examples(bank):
    shorts = [(quiz, q) for quiz in bank.values() for q in quiz.questions if isinstance(q, ShortAnswer)]
    assert {q.id for _, q in shorts} >= set(ISSUE_PHRASINGS)
    for quiz, q in shorts:
        v = make_variant(quiz.id, q, "alice", SECRET)
        for examples, status in ((q.examples_accept, "passed"), (q.examples_reject, "failed")):
            for lang_has_cjk in (False, True):
                n = sum(bool(CJK.search(e)) == lang_has_cjk for e in examples)
                assert n >= MIN_EXAMPLES, (q.id, status, lang_has_cjk, n)
            for e in examples:
                assert grade_answer(q, v, e).status == status, (q.id, e)
        accept, reject = ISSUE_PHRASINGS.get(q.id, ([], []))
        assert set(accept) <= set(q.examples_accept) and set(reject) <= set(q.examples_reject), q.id


# -- free questions ------------------------------------------------------------------

def test_every_quiz_has_a_free_question_with_a_rubric_adding_up_to_its_points(bank):
    for quiz in bank.values():
        free = [q for q in quiz.questions if isinstance(q, FreeAnswer)]
        assert free, quiz.id
        for q in free:
            assert len(q.rubric) >= 2 and sum(c.points for c in q.rubric) == q.points
            assert all(c.text.get("en") and c.text.get("zh") for c in q.rubric)
            assert q.model_answer.get("en") and CJK.search(q.model_answer.get("zh"))


def test_the_source_qa_errors_are_corrected_by_name(bank):
    """Issue 15: each error of the course's source Q&A gets a question (and a lesson paragraph, tests/labs)."""
    ids = {q.id for quiz in bank.values() for q in quiz.questions}
    assert {"rnn_attention_global", "long_sequences", "seq2seq_origins", "gru_origin", "encoder_decoder_only"} <= ids
    q4 = bank["q4_seq2seq_vs_transformer"]
    assert "local" in q4.question("rnn_attention_global").prompt.get("en")
    assert "every source position" in next(o for o in q4.question("rnn_attention_global").options
                                           if o.correct).text.get("en").lower()
    assert "squared" in next(o for o in q4.question("long_sequences").options if o.correct).text.get("en")
    assert "simplified" in bank["q2_gated"].question("gru_origin").prompt.get("en")
    assert "LSTM" in next(o for o in bank["q1_rnn_basics"].question("seq2seq_origins").options
                          if o.correct).text.get("en")
