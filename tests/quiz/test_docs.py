"""The examples in docs/quizzes.md are valid quizzes and answers files."""

from __future__ import annotations

import re

import pytest
import yaml

from grader.quiz.loader import check_quiz

from .conftest import REPO

DOC = (REPO / "docs" / "quizzes.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.S)
QUESTIONS = [b for b in BLOCKS if b.startswith("  - id:")]


def test_the_doc_has_an_example_of_every_question_type():
    types = {re.search(r"^    type: (\w+)", b, flags=re.M).group(1) for b in QUESTIONS}
    assert types == {"single", "multiple", "true_false", "numeric", "short", "ordering", "free"}


@pytest.mark.parametrize("block", QUESTIONS, ids=[re.search(r"id: (\w+)", b).group(1) for b in QUESTIONS])
def test_each_question_example_is_valid(block):
    text = "id: doc\ntitle: {en: Doc, zh: 文档}\nquestions:\n" + block
    quiz, problems = check_quiz(text, "doc.yaml", ["en", "zh"])
    assert problems == [], "\n".join(map(str, problems))


def test_the_answers_file_example_parses():
    (answers,) = [b for b in BLOCKS if b.startswith("# alice.yaml")]
    assert yaml.safe_load(answers)["cell_state"] == ["a", "c"]
