"""The lessons in course/lessons/: both languages, working links, runnable code, lab plots."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from grader.labs import LABS

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "course"
LESSONS = COURSE / "lessons"
TOPICS = ["01_seq2seq", "02_rnn", "03_lstm", "04_gru", "05_rnn_attention", "06_self_attention",
          "07_attention_compared"]
LANGS = ["en", "zh"]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"```python\n(.*?)```", re.S)


def lesson(topic: str, lang: str) -> Path:
    return LESSONS / f"{topic}.{lang}.md"


def relative_links(path: Path) -> list[str]:
    return [t for t in LINK.findall(path.read_text(encoding="utf-8"))
            if not t.startswith(("http://", "https://", "#", "mailto:"))]


def targets(path: Path) -> set[Path]:
    return {(path.parent / t.split("#")[0]).resolve() for t in relative_links(path)}


ALL = [(t, g) for t in TOPICS for g in LANGS]
IDS = [f"{t}.{g}" for t, g in ALL]


def test_every_topic_has_an_english_and_a_chinese_lesson_and_nothing_else():
    expected = {lesson(t, g).name for t, g in ALL}
    assert {p.name for p in LESSONS.glob("*.md")} == expected


@pytest.mark.parametrize(("topic", "lang"), ALL, ids=IDS)
def test_every_relative_link_resolves(topic, lang):
    path = lesson(topic, lang)
    missing = [t for t in relative_links(path) if not (path.parent / t.split("#")[0]).exists()]
    assert not missing, f"{path.name}: broken links {missing}"


@pytest.mark.parametrize(("topic", "lang"), ALL, ids=IDS)
def test_links_its_assignment_quiz_and_a_lab_plot(topic, lang):
    found = targets(lesson(topic, lang))
    assert any(p.parent.parent == (REPO / "assignments").resolve() for p in found), "no assignment link"
    assert any(p.parent == (COURSE / "quizzes").resolve() and p.suffix == ".yaml" for p in found), "no quiz link"
    assert any(p.parent == (LESSONS / "figures").resolve() and p.suffix == ".png" for p in found), "no lab plot"


@pytest.mark.parametrize("topic", TOPICS)
def test_both_languages_link_the_same_quizzes_figures_and_assignments(topic):
    def key(p: Path) -> str:  # README.zh.md and README.md are the same assignment
        return str(p).replace("README.zh.md", "README.md").replace(".zh.md", ".md").replace(".en.md", ".md")

    en, zh = ({key(p) for p in targets(lesson(topic, g))} for g in LANGS)
    assert en == zh


@pytest.mark.parametrize(("topic", "lang"), ALL, ids=IDS)
def test_names_only_labs_that_exist(topic, lang):
    text = lesson(topic, lang).read_text(encoding="utf-8")
    named = set(re.findall(r"seqgrade lab (\w+)", text))
    assert named, "the lesson names no lab"
    assert named <= set(LABS)


def _without_docstrings(source: str) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@pytest.mark.parametrize("topic", TOPICS)
def test_chinese_code_is_the_english_code_with_translated_comments(topic):
    en, zh = (CODE.findall(lesson(topic, g).read_text(encoding="utf-8")) for g in LANGS)
    assert len(en) == len(zh)
    for a, b in zip(en, zh):
        assert _without_docstrings(a) == _without_docstrings(b)


@pytest.mark.parametrize("topic", TOPICS)
def test_the_code_cells_run(topic, capsys):
    blocks = CODE.findall(lesson(topic, "en").read_text(encoding="utf-8"))
    assert blocks, "a lesson has at least one runnable code cell"
    namespace: dict = {"__name__": "__lesson__"}
    for block in blocks:  # one notebook: the cells share a namespace, in order
        exec(compile(block, str(lesson(topic, "en")), "exec"), namespace)
    assert "False" not in capsys.readouterr().out.split()  # every printed check holds


@pytest.mark.parametrize(("topic", "lang"), ALL, ids=IDS)
def test_opens_as_a_notebook_with_jupytext(topic, lang):
    import jupytext  # installed with the nbgrader extra, which the project's venv has

    notebook = jupytext.read(lesson(topic, lang))
    kinds = [cell.cell_type for cell in notebook.cells]
    assert "code" in kinds and "markdown" in kinds


def test_every_figure_is_a_small_png_that_a_lesson_shows():
    shown = set().union(*(targets(lesson(t, g)) for t, g in ALL))
    figures = sorted((LESSONS / "figures").glob("*"))
    assert {p.name for p in figures} == {f"{name}.png" for name in LABS}
    for path in figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size < 150_000
        assert path.resolve() in shown, f"{path.name} is shown by no lesson"


def test_course_readme_shows_a_lab_plot_and_links_every_lesson():
    readme = COURSE / "README.md"
    found = targets(readme)
    assert (LESSONS / "figures" / "vanishing.png").resolve() in found
    assert "![" in readme.read_text(encoding="utf-8")
    for t, g in ALL:
        assert lesson(t, g).resolve() in found
    broken = [t for t in relative_links(readme) if not (readme.parent / t.split("#")[0]).exists()]
    assert not broken
