"""Issue 15's corrections of the lessons are in both languages, and each source-Q&A error has its quiz question.

The lessons' code still runs (tests/labs/test_lessons.py); here, what the text must and must not say.
"""

from __future__ import annotations

import re

import pytest

from .conftest import REPO

LESSONS = REPO / "course" / "lessons"


def lesson(name: str, lang: str) -> str:
    return (LESSONS / f"{name}.{lang}.md").read_text(encoding="utf-8")


BOTH = ["en", "zh"]


@pytest.mark.parametrize("lang", BOTH)
def test_lesson_4_lstm_is_not_an_interpolation_and_the_measured_ratios_are_given(lang):
    text = lesson("04_gru", lang)
    first = text.split("## 2.")[0]
    assert "f + i" in first and "(1 - z_t)" in first  # the LSTM's independent gates against the GRU's coupling
    for ratio in ("1.26", "1.0", "0.84", "0.45"):
        assert ratio in text.split("figures/cost.png")[1].split("**GRU")[0], ratio
    assert "nn.LSTM" in text and "b_{hn}" in text  # both biases in every torch RNN, only b_hn not redundant
    assert "Cho" in first and ("simplified" in first if lang == "en" else "简化" in first)


@pytest.mark.parametrize("lang", BOTH)
def test_lesson_5_heatmap_offset_and_the_bidirectional_encoder(lang):
    text = lesson("05_rnn_attention", lang)
    assert "S + 2 - t" in text and "S + 1 - t" in text
    assert "\\overleftarrow{h}_s" in text  # Bahdanau's forward and backward states
    assert ("Luong" in text) and ("global" in text if lang == "en" else "全局" in text)


@pytest.mark.parametrize("lang", BOTH)
def test_lesson_6_heads_project_the_inputs_and_the_ffn_acts_on_rows(lang):
    text = lesson("06_self_attention", lang)
    assert "Attention}(Q W_i^{Q}" not in text and "X_q W_i^{Q}" in text
    assert "W_1 X" not in text and "\\mathrm{ReLU}(X W_1 + b_1)\\, W_2 + b_2" in text


@pytest.mark.parametrize("lang", BOTH)
def test_lesson_7_says_where_its_numbers_come_from(lang):
    text = lesson("07_attention_compared", lang)
    assert "solutions/attention.py" in text and "nn.MultiheadAttention" in text  # 26 against 22
    assert "roughly as $1/T$" not in text and "大约按 $1/T$" not in text
    assert "0.15, 0.028, 0.015" in text or "0.15、0.028、0.015" in text
    assert "(Vaswani et al., 2017, table 1.)" not in text and "（Vaswani 等，2017，表 1。）" not in text
    assert "BERT" in text and "GPT" in text and "Whisper" in text


@pytest.mark.parametrize(("name", "marker_en", "marker_zh"), [
    ("01_seq2seq", "Where Seq2Seq began (a correction to the course's source notes)", "对课程原始讲义的更正"),
    ("04_gru", "Is the GRU a simplified LSTM? (a correction to the course's source notes)", "对课程原始讲义的更正"),
    ("07_attention_compared", "Is attention in an RNN \"local\"? (a correction", "RNN 中的注意力是\"局部\"的吗？"),
    ("07_attention_compared", "especially suited to long sequences\"? (a correction", "尤其适合长序列\"吗？"),
])
def test_each_source_qa_error_has_a_paragraph_in_both_languages(name, marker_en, marker_zh):
    assert marker_en in lesson(name, "en")
    assert marker_zh in lesson(name, "zh")


def test_chinese_terms_are_consistent():
    zh = {p.name: p.read_text(encoding="utf-8") for p in LESSONS.glob("*.zh.md")}
    everything = "\n".join(zh.values()) + (REPO / "course" / "quizzes" / "q2_gated.yaml").read_text(encoding="utf-8")
    assert "恒定误差传送带" in zh["03_lstm.zh.md"] and not re.search(r"常数误差|误差转盘|误差旋转", everything)
    assert "复述" not in everything and "复制" in zh["02_rnn.zh.md"]
    assert "输入馈送（input feeding）" in zh["05_rnn_attention.zh.md"]
