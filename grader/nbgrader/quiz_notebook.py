"""A quiz's nbgrader source notebook: bilingual question cells, answer cells and graded cells.

Per question: a read-only Markdown cell (English, then Chinese), an answer
cell ``ANSWERS["<id>"] = ...`` whose key sits in a solution region, and a
read-only test cell (grade_id = the question id, points = its points) whose
hidden region grades the answer with seqgrade's quiz rules, partial credit
included. Every student of a course gets the same version of the quiz: the
variant drawn for the fixed name `VARIANT` (numbers, option order).
``seqgrade nbgrader autograde`` reads the answers as literals, never running
the notebook, and grades them with the same packed key, kept in the manifest.
"""

from __future__ import annotations

import json
from pathlib import Path

from nbformat.notebooknode import NotebookNode

from ..quiz.answers import ANSWERS_VAR
from ..quiz.grading import answer_key
from ..quiz.model import (MultipleChoice, Numeric, Ordering, Question, Quiz, ShortAnswer, SingleChoice,
                          TrueFalse)
from ..quiz.render import question_markdown
from ..quiz.variants import Variant, student_version
from . import bundle, cells

VARIANT = "nbgrader"  # the student name every notebook's variant is drawn for

HOW_EN = ("**How to answer.** Each question has an answer cell: replace `None` with your answer, "
          "as a Python value (an option id such as `\"b\"`, a list such as `[\"a\", \"c\"]`, `True`/`False`, "
          "a number, or a short text), and delete the line `raise NotImplementedError()`. Only the value "
          "written there is graded; the cell is read, not run. The graded cells after each answer stay empty "
          "in your copy.")
HOW_ZH = ("**作答方式。** 每道题有一个答案单元格：把 `None` 换成你的答案，写成 Python 值（选项编号如 `\"b\"`、"
          "列表如 `[\"a\", \"c\"]`、`True`/`False`、数字或简短文字），并删除 `raise NotImplementedError()` 这一行。"
          "评分只读取写在那里的值，不会运行该单元格。每个答案后面的评分单元格在你的副本中是空的。")


def example_answer(question: Question) -> str:
    """The form of an answer, as Python, with placeholders (never an option id that could be the answer)."""
    if isinstance(question, SingleChoice):
        return '"<option id>"'
    if isinstance(question, MultipleChoice):
        return '["<option id>", "<option id>", ...]'
    if isinstance(question, TrueFalse):
        return "True  # or False"
    if isinstance(question, Numeric):
        return "<a number>"
    if isinstance(question, Ordering):
        return '["<item id>", "<item id>", ...]  # every item, in order'
    return '"<a short text>"'


def _variant_json(v: Variant) -> dict:
    return {"values": v.values, "option_order": list(v.option_order), "item_order": list(v.item_order),
            "answer": v.answer}


def packed_key(quiz: Quiz, quiz_file: Path, secret: str, lang: str = "en") -> str:
    """The quiz file and `VARIANT`'s numbers and orders, packed: what both grading paths grade with."""
    version = student_version(quiz, VARIANT, secret)
    return bundle.pack({"quiz.yaml": Path(quiz_file).read_bytes()},
                       {"file": Path(quiz_file).name, "lang": lang,
                        "variants": {q.id: _variant_json(v) for q, v in version}})


def quiz_notebook(quiz: Quiz, packed: str, secret: str) -> NotebookNode:
    """The source notebook of `quiz`, keyed for `VARIANT` by `packed` (from `packed_key`)."""
    version = student_version(quiz, VARIANT, secret)
    key = answer_key(quiz, VARIANT, secret)
    intro = []
    for code in ("en", "zh"):
        text = [f"# {quiz.title.get(code)}", ""]
        if quiz.description.by_lang:
            text += [quiz.description.get(code).strip(), ""]
        text.append(HOW_EN if code == "en" else HOW_ZH)
        intro.append(cells.text(f"{quiz.id}-intro-{code}", "\n".join(text)))
    nb_cells = intro + [cells.given_code(f"{quiz.id}-answers", f"{ANSWERS_VAR} = {{}}  # question id -> your answer")]
    nb_cells.append(cells.test(cells.SETUP_QUIZ, 0, "\n".join([
        "# The key: added when your answers are graded (0 points).", *cells.hidden([
            "from grader.nbgrader.inkernel import KernelQuiz",
            f'_quiz_key = KernelQuiz.unpack("""\n{packed}\n""")'])])))
    for n, (q, v) in enumerate(version, start=1):
        nb_cells.append(cells.text(f"{q.id}-question", question_markdown(n, q, v, "en") + "\n\n---\n\n"
                                   + question_markdown(n, q, v, "zh")))
        answer_src = "\n".join([
            f"# your answer: {ANSWERS_VAR}[{q.id!r}] = {example_answer(q)}",
            f"{ANSWERS_VAR}[{q.id!r}] = None",
            cells.BEGIN_SOLUTION,
            f"{ANSWERS_VAR}[{q.id!r}] = {key.get(q.id)!r}",
            cells.END_SOLUTION,
        ])
        nb_cells.append(cells.answer(f"{q.id}-answer", answer_src))
        nb_cells[-1].metadata["seqgrade"] = {"question": q.id}  # where `seqgrade quiz grade` finds answers
        pts = f"{q.points:g} point" + ("" if q.points == 1 else "s")
        nb_cells.append(cells.test(q.id, q.points, "\n".join([
            f"# Graded: {q.id} ({pts})", *cells.hidden([f"_quiz_key.grade({q.id!r}, {ANSWERS_VAR}).verify()"])])))
    return cells.notebook(nb_cells, {"quiz": quiz.id, "variant": VARIANT})
