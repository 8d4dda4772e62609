"""The student's version: their numbers and order, and nothing that gives the answers away."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from grader.quiz.model import FreeAnswer, MultipleChoice, Numeric, Ordering, ShortAnswer
from grader.quiz.render import render_markdown, render_notebook, write_rendered
from grader.quiz.variants import make_variant

from .conftest import SECRET


def secrets_of(quiz) -> list[str]:
    """Texts that must never reach a student: explanations, accepted answers, patterns, formulas, rubrics,
    model answers."""
    out = []
    for q in quiz.questions:
        out += [t for t in q.explanation.all() if len(t) > 12]
        if isinstance(q, ShortAnswer):
            out += [a for a in q.accept if len(a) > 4] + list(q.patterns)
        if isinstance(q, Numeric) and q.formula is not None:
            out.append(q.formula.source)
        if isinstance(q, FreeAnswer):
            out += [t for t in q.model_answer.all()] + [t for c in q.rubric for t in c.text.all()]
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("quiz_id", ["q1_rnn_basics", "q2_gated", "q3_attention", "q4_seq2seq_vs_transformer"])
def test_rendered_quiz_holds_no_answers(bank, quiz_id, lang):
    quiz = bank[quiz_id]
    md = render_markdown(quiz, "alice", SECRET, lang)
    nb_text = json.dumps(render_notebook(quiz, "alice", SECRET, lang), ensure_ascii=False)
    for secret in secrets_of(quiz):
        assert secret not in md and secret not in nb_text, secret
    for text in (md, nb_text):
        assert "correct: true" not in text and '"correct": true' not in text
        assert SECRET not in text


def test_rendered_numeric_answers_are_absent(bank):
    quiz = bank["q2_gated"]
    md = render_markdown(quiz, "alice", SECRET)
    sections = {m.group(1): part for part in md.split("\n---\n")
                if (m := re.match(r"\s*### [^\n]* · `(\w+)`\n", part))}
    assert len(sections) == len(quiz.questions)
    for q in quiz.questions:
        if isinstance(q, Numeric) and q.parameterized:
            v = make_variant(quiz.id, q, "alice", SECRET)
            section = sections[q.id]  # another question's numbers may happen to equal this answer
            assert not re.search(rf"\b{int(v.answer)}\b", section)
            for name, value in v.values.items():
                assert str(value) in section  # the student's own numbers are there


def test_options_appear_in_the_students_order(bank):
    quiz = bank["q1_rnn_basics"]
    q = quiz.question("encoder_role")
    for student in ("alice", "bob", "carol"):
        md = render_markdown(quiz, student, SECRET)
        section = md.split("`encoder_role`")[1].split("---")[0]
        shown = re.findall(r"^- `(\w+)`:", section, flags=re.M)
        assert tuple(shown) == make_variant(quiz.id, q, student, SECRET).option_order


def test_markdown_and_notebook_in_chinese(bank):
    quiz = bank["q3_attention"]
    md = render_markdown(quiz, "alice", SECRET, "zh")
    assert md.startswith("# 测验 3：缩放点积注意力与多头注意力")
    assert "填写一个选项编号（选项前面的代码）" in md and "alice.yaml" in md


def test_notebook_is_valid_nbformat_with_one_answer_cell_per_question(bank, tmp_path):
    quiz = bank["q4_seq2seq_vs_transformer"]
    md_path, nb_path = write_rendered(quiz, "alice", SECRET, "en", tmp_path)
    assert md_path.name == "q4_seq2seq_vs_transformer-alice.md"
    nb = nbformat.read(nb_path, as_version=4)
    nbformat.validate(nb)
    tagged = [c.metadata["seqgrade"]["question"] for c in nb.cells if "seqgrade" in c.metadata]
    assert tagged == [q.id for q in quiz.questions]
    assert nb.metadata["seqgrade"] == {"quiz": quiz.id, "student": "alice", "lang": "en"}


def test_answers_template_lists_every_question(bank):
    quiz = bank["q2_gated"]
    md = render_markdown(quiz, "alice", SECRET)
    template = md.split("```yaml\n")[1].split("```")[0].splitlines()
    assert [line.split(":")[0] for line in template] == [q.id for q in quiz.questions]
    kinds = {q.id: q for q in quiz.questions}
    for line in template:
        q = kinds[line.split(":")[0]]
        assert line.endswith("[]") == isinstance(q, (MultipleChoice, Ordering))
        assert line.endswith(": |") == isinstance(q, FreeAnswer)  # several lines of text go below


def test_choice_hints_name_no_option(bank):
    quiz = bank["q1_rnn_basics"]
    md = render_markdown(quiz, "alice", SECRET)
    assert "*Answer with one option id (the code in front of the option).*" in md
    assert "like [id1, id2]" in md
