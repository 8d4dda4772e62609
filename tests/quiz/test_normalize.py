"""Short-answer normalization: case, width, punctuation and whitespace do not matter; words do."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.quiz.normalize import normalize


def fullwidth(text: str) -> str:
    """ASCII -> full-width forms (what a Chinese input method types)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


@pytest.mark.parametrize(
    "a, b",
    [
        ("The Forget Gate.", "the forget gate"),
        ("ＬＳＴＭ", "lstm"),
        ("ｓｑｒｔ（ｄ＿ｋ）", "sqrt(d_k)"),
        ("遗忘 门。", "遗忘门"),
        ("“门控”", "门控"),
        ("「门控」", '"门控"'),
        ("self-attention", "self attention"),
        ("self–attention", "self attention"),
        ("  forget\t\n gate  ", "forget gate"),
        ("f , i", "f,i"),
        ("f，i", "f, i"),
        ("输入门、遗忘门", "输入门,遗忘门"),
        ("LSTM 的遗忘门", "lstm的遗忘门"),
        ("《注意力》", "<注意力>"),
        ("【注】", "[注]"),
        ("sigmoid！", "sigmoid"),
        ("Straße", "strasse"),
    ],
)
def test_equivalent_answers_normalize_the_same(a, b):
    assert normalize(a) == normalize(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("forget gate", "input gate"),
        ("1.5", "15"),
        (".5", "5"),
        ("d_k", "dk"),
        ("O(n^2)", "O(n)"),
        ("遗忘门", "输入门"),
    ],
)
def test_different_answers_stay_different(a, b):
    assert normalize(a) != normalize(b)


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_ascii = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
_words = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz遗忘门输入", min_size=1, max_size=8), min_size=1,
                  max_size=5)


@settings(max_examples=300, deadline=None)
@given(_text)
def test_normalize_is_idempotent(s):
    assert normalize(normalize(s)) == normalize(s)


@settings(max_examples=200, deadline=None)
@given(_ascii)
def test_fullwidth_forms_equal_halfwidth(s):
    assert normalize(fullwidth(s)) == normalize(s)


@settings(max_examples=200, deadline=None)
@given(_ascii)
def test_case_does_not_matter(s):
    assert normalize(s.upper()) == normalize(s.lower()) == normalize(s)


@settings(max_examples=200, deadline=None)
@given(_words, st.lists(st.sampled_from([" ", "  ", "\t", "\n", " \u3000 "]), min_size=5, max_size=5))
def test_whitespace_runs_count_as_one_space(words, gaps):
    tight = " ".join(words)
    loose = gaps[0] + "".join(w + gaps[(i + 1) % len(gaps)] for i, w in enumerate(words))
    assert normalize(loose) == normalize(tight)


@settings(max_examples=200, deadline=None)
@given(_words)
def test_chinese_and_english_punctuation_are_the_same(words):
    english = ", ".join(words) + "."
    chinese = "，".join(words) + "。"
    assert normalize(chinese) == normalize(english)


def test_very_long_answers_are_cut():
    assert len(normalize("a" * 10_000)) == 1000
