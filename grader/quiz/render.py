"""A student's version of a quiz, as Markdown and as a Jupyter notebook.

Only what the student may see goes in: their numbers, their option order, the
prompts and option texts, and how to answer. Never the explanations, which
options are correct, formulas, accepted answers or patterns, rubrics or model
answers.
The notebook is written as plain nbformat-4.5 JSON (no nbformat import needed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .answers import ANSWERS_VAR
from .model import FreeAnswer, MultipleChoice, Numeric, Ordering, Question, Quiz, SingleChoice, TrueFalse
from .ui_text import t
from .variants import Variant, student_version


def _points(p: float, lang: str) -> str:
    n = int(p) if float(p).is_integer() else p
    return f"{n} {t(lang, 'point' if n == 1 else 'points')}"


def hint(question: Question, variant: Variant, lang: str) -> str:
    """How to answer this question in the answers-file format."""
    if isinstance(question, SingleChoice):
        return t(lang, "hint_single")  # no example id: it could read as a hint
    if isinstance(question, MultipleChoice):
        return t(lang, "hint_multiple")
    if isinstance(question, TrueFalse):
        return t(lang, "hint_true_false")
    if isinstance(question, Numeric):
        if question.unit:
            return t(lang, "hint_numeric_unit", unit=variant.text(question.unit, lang))
        return t(lang, "hint_numeric")
    if isinstance(question, Ordering):
        return t(lang, "hint_ordering", example=", ".join(variant.item_order))
    if isinstance(question, FreeAnswer):
        return t(lang, "hint_free")
    return t(lang, "hint_short")


def choices(question: Question, variant: Variant, lang: str) -> list[tuple[str, str]]:
    """(id, text) of the options or items, in this student's display order."""
    if isinstance(question, (SingleChoice, MultipleChoice)):
        by_id = {o.id: o for o in question.options}
        return [(i, by_id[i].text.get(lang)) for i in variant.option_order]
    if isinstance(question, Ordering):
        by_id = {it.id: it for it in question.items}
        return [(i, by_id[i].text.get(lang)) for i in variant.item_order]
    return []


def question_markdown(n: int, question: Question, variant: Variant, lang: str) -> str:
    title = variant.text(question.title, lang) if question.title.by_lang else ""
    head = f"### {n}. {title}".rstrip() + f" ({_points(question.points, lang)}) · `{question.id}`"
    lines = [head, "", variant.text(question.prompt, lang).strip(), ""]
    for cid, text in choices(question, variant, lang):
        lines.append(f"- `{cid}`: {text}")
    if choices(question, variant, lang):
        lines.append("")
    lines.append(f"*{hint(question, variant, lang)}*")
    return "\n".join(lines)


def _template_line(question: Question) -> str:
    if isinstance(question, (MultipleChoice, Ordering)):
        return f"{question.id}: []"
    if isinstance(question, FreeAnswer):
        return f"{question.id}: |"  # a block scalar: the answer goes on the indented lines below
    return f"{question.id}: "


def render_markdown(quiz: Quiz, student: str, secret: str, lang: str = "en",
                    version: list[tuple[Question, Variant]] | None = None) -> str:
    """The student's quiz as Markdown, ending with an answers-file template.

    `version` is the student's version when it does not come from `secret` (a bundle's question file).
    """
    version = version if version is not None else student_version(quiz, student, secret)
    out = [f"# {quiz.title.get(lang)}", ""]
    if quiz.description.by_lang:
        out += [quiz.description.get(lang).strip(), ""]
    out += [f"{t(lang, 'student')}: `{student}` · {len(version)} {t(lang, 'questions')} · "
            f"{_points(quiz.max_score, lang)}", ""]
    for n, (q, v) in enumerate(version, start=1):
        out += ["---", "", question_markdown(n, q, v, lang), ""]
    out += ["---", "", f"## {t(lang, 'answers_file')}", "",
            t(lang, "answers_file_intro", file=f"{student}.yaml"), "", "```yaml"]
    out += [_template_line(q) for q, _ in version]
    out += ["```", ""]
    return "\n".join(out)


def _cell(kind: str, cid: str, source: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": kind, "id": cid, "metadata": metadata or {}, "source": source}
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def render_notebook(quiz: Quiz, student: str, secret: str, lang: str = "en",
                    version: list[tuple[Question, Variant]] | None = None) -> dict[str, Any]:
    """The student's quiz as an nbformat 4.5 notebook (a dict): a Markdown cell and an answer cell per question."""
    version = version if version is not None else student_version(quiz, student, secret)
    answers_file = f"{student}.yaml"
    intro = [f"# {quiz.title.get(lang)}", ""]
    if quiz.description.by_lang:
        intro += [quiz.description.get(lang).strip(), ""]
    intro += [f"{t(lang, 'student')}: `{student}` · {len(version)} {t(lang, 'questions')} · "
              f"{_points(quiz.max_score, lang)}", "", t(lang, "notebook_intro", file=answers_file)]
    cells = [_cell("markdown", "intro", "\n".join(intro)),
             _cell("code", "answers-init", f"{ANSWERS_VAR} = {{}}")]
    for n, (q, v) in enumerate(version, start=1):
        cells.append(_cell("markdown", f"q{n}-text", question_markdown(n, q, v, lang)))
        source = f'{ANSWERS_VAR}["{q.id}"] = None'
        if isinstance(q, FreeAnswer):
            source = f'{ANSWERS_VAR}["{q.id}"] = """\n\n"""  # your answer, between the quotes'
        cells.append(_cell("code", f"q{n}-answer", source, {"seqgrade": {"question": q.id}}))
    save = (f"# {t(lang, 'notebook_save')}\n"
            "import json, pathlib\n"
            f"_answers = {{k: v for k, v in {ANSWERS_VAR}.items() if v is not None}}\n"
            f'pathlib.Path("{answers_file}").write_text(json.dumps(_answers, ensure_ascii=False, indent=1), '
            'encoding="utf-8")\n'
            f'print("{t(lang, "saved", file=answers_file)}")')
    cells.append(_cell("code", "save-answers", save))
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "seqgrade": {"quiz": quiz.id, "student": student, "lang": lang},
        },
        "cells": cells,
    }


def write_rendered(quiz: Quiz, student: str, secret: str, lang: str, out_dir: str | Path,
                   version: list[tuple[Question, Variant]] | None = None) -> list[Path]:
    """Write `<quiz>-<student>.md` and `.ipynb` into `out_dir`; the paths written."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    md = d / f"{quiz.id}-{student}.md"
    nb = d / f"{quiz.id}-{student}.ipynb"
    md.write_text(render_markdown(quiz, student, secret, lang, version), encoding="utf-8")
    nb.write_text(json.dumps(render_notebook(quiz, student, secret, lang, version), ensure_ascii=False, indent=1)
                  + "\n", encoding="utf-8")
    return [md, nb]


def answers_template(quiz: Quiz, student: str) -> str:
    """An empty answers file for `student`: one line per question id, to fill in and hand in as `<student>.yaml`."""
    head = [f"# {student}'s answers to quiz {quiz.id}: write each answer after its question id",
            f"# (the questions: {quiz.id}-{student}.md, or `seqgrade quiz take {quiz.id} --student {student}`).",
            f"# Hand in this file as {student}.yaml."]
    return "\n".join(head + [_template_line(q) for q in quiz.questions]) + "\n"


def write_answers_template(quiz: Quiz, student: str, out_dir: str | Path) -> Path:
    """Write `<student>.yaml`, the empty answers file, into `out_dir`; its path."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{student}.yaml"
    path.write_text(answers_template(quiz, student), encoding="utf-8")
    return path
