"""A quiz's nbgrader source notebook: bilingual question cells, answer cells and graded cells.

Per question: a read-only Markdown cell (English, then Chinese), an answer
cell ``ANSWERS["<id>"] = ...`` whose key sits in a solution region, and a
read-only test cell (grade_id = the question id, points = its points) whose
hidden region grades the answer with seqgrade's quiz rules, partial credit
included.

A free question is graded by hand in formgrader: its text is a read-only
"manually graded task" cell (grade_id = the question id, points = its
points) whose mark scheme (the rubric and the model answer, between
``=== BEGIN MARK SCHEME ===`` and ``=== END MARK SCHEME ===``) nbgrader
removes from the students' copy and shows to graders; the student writes in
the Markdown cell after it. Every student of a course gets the same version of the quiz: the
variant drawn for the fixed name `VARIANT` (numbers, option order).
``seqgrade nbgrader autograde`` reads the answers as literals, never running
the notebook, and grades them with the same packed key, kept in the manifest.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from .. import escape
from ..quiz.answers import ANSWERS_VAR, FREE_PLACEHOLDER
from ..quiz.grading import answer_key
from ..quiz.model import (FreeAnswer, MultipleChoice, Numeric, Ordering, Question, Quiz, ShortAnswer,
                          SingleChoice, TrueFalse)
from ..quiz.render import question_markdown
from ..quiz.variants import Variant, student_version
from . import bundle, cells

VARIANT = "nbgrader"  # the student name every notebook's variant is drawn for

HOW_EN = ("**How to answer.** Each question has an answer cell: replace `None` with your answer, "
          "as a Python value (an option id such as `\"b\"`, a list such as `[\"a\", \"c\"]`, `True`/`False`, "
          "a number, or a short text), and delete the line `raise NotImplementedError()`. Only the value "
          "written there is graded; the cell is read, not run. The graded cells after each answer stay empty "
          "in your copy. Open questions are answered in words, in the text cell below the question; a grader "
          "scores them with a rubric.")
HOW_ZH = ("**作答方式。** 每道题有一个答案单元格：把 `None` 换成你的答案，写成 Python 值（选项编号如 `\"b\"`、"
          "列表如 `[\"a\", \"c\"]`、`True`/`False`、数字或简短文字），并删除 `raise NotImplementedError()` 这一行。"
          "评分只读取写在那里的值，不会运行该单元格。每个答案后面的评分单元格在你的副本中是空的。"
          "开放题直接在题目下方的文本单元格中用文字作答，由评分人按评分细则打分。")
MARK_BEGIN = "=== BEGIN MARK SCHEME ==="
MARK_END = "=== END MARK SCHEME ==="


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
    if isinstance(question, FreeAnswer):
        return '"""<a few sentences>"""'
    return '"<a short text>"'


def mark_scheme(question: FreeAnswer) -> str:
    """The rubric and the model answer, for graders: nbgrader keeps it out of the students' copy."""
    lines = [MARK_BEGIN, "",
             f"**Rubric / 评分细则** ({question.points:g} points): tick each item the answer meets; the score is the "
             "sum of their points. Keyword hints only suggest where to look.", ""]
    for i, c in enumerate(question.rubric, start=1):
        hints = f" — *hints: {', '.join(escape.markdown(h) for h in c.hints)}*" if c.hints else ""
        lines.append(f"{i}. **{c.id}** ({c.points:g}): {c.text.get('en')} / {c.text.get('zh')}{hints}")
    lines += ["", "**Model answer / 参考答案**", "", question.model_answer.get("en").strip(), "",
              question.model_answer.get("zh").strip(), "", MARK_END]
    return "\n".join(lines)


def _task(grade_id: str, points: float, source: str) -> NotebookNode:
    """A read-only "manually graded task" cell worth `points` (nbgrader schema 3)."""
    meta = {"nbgrader": {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": cells.SCHEMA_VERSION,
                         "solution": False, "task": True,
                         "points": int(points) if float(points).is_integer() else float(points)}}
    return nbformat.v4.new_markdown_cell(source, id=cells.cell_id(grade_id), metadata=meta)


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
        text = question_markdown(n, q, v, "en") + "\n\n---\n\n" + question_markdown(n, q, v, "zh")
        if isinstance(q, FreeAnswer):  # graded by hand: the task (with the mark scheme), then the student's text
            nb_cells.append(_task(q.id, q.points, text + "\n\n" + mark_scheme(q)))
            answer_cell = nbformat.v4.new_markdown_cell(FREE_PLACEHOLDER, id=cells.cell_id(f"{q.id}-answer"))
            answer_cell.metadata["seqgrade"] = {"question": q.id}
            nb_cells.append(answer_cell)
            continue
        nb_cells.append(cells.text(f"{q.id}-question", text))
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
