"""Student text is made safe for each medium it is shown in (grader.escape)."""

from __future__ import annotations

import re

import pytest

from grader import escape

HOSTILE = "\x1b[2K\r40/40 ```\n# All checks passed\n<img src=x onerror=alert(1)>\u202e|x|\x07"


def test_terminal_makes_every_control_and_reordering_character_visible():
    s = escape.terminal(HOSTILE)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", s)
    assert "\\x1b[2K\\r40/40" in s and "<U+202E>" in s and "\n# All" in s  # newlines kept


def test_one_line_keeps_everything_on_one_line():
    assert "\n" not in escape.one_line(HOSTILE) and len(escape.one_line(HOSTILE, 10)) == 10


def test_html_leaves_no_markup():
    s = escape.html(HOSTILE)
    assert "<" not in s and ">" not in s and "&lt;img" in s


def test_markdown_escapes_markup_and_syntax():
    s = escape.markdown(HOSTILE)
    assert "<img" not in s and "\\`\\`\\`" in s and "\\#" in s


@pytest.mark.parametrize("fence", ["```", "````````", "``` ```"])
def test_a_code_block_cannot_be_closed_from_inside(fence):
    block = escape.markdown_code(f"a\n{fence}\n<script>x</script>")
    opening = block.split("\n", 1)[0].rstrip("text")
    inner = block[len(opening):-len(opening)]
    assert all(len(run) < len(opening) for run in re.findall(r"`+", inner))


def test_a_table_cell_has_no_column_breaks_or_lines():
    s = escape.markdown_cell("a | b\nc")
    assert "\n" not in s and "\\|" in s and " | " not in s.replace("\\|", "")


@pytest.mark.parametrize("name", ["..", ".", "", "a/b", "..\\x", ".hidden", "con:x", "x\x1by"])
def test_path_components_cannot_leave_their_folder(name):
    p = escape.path_component(name)
    assert p not in (".", "..", "") and "/" not in p and "\\" not in p and not p.startswith(".")
    assert p.isprintable()


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+1", "-1+1", "@SUM(A1)", "\tx"])
def test_csv_cells_never_start_a_formula(value):
    assert escape.csv_cell(value).startswith("'")


def test_plain_values_are_left_alone():
    assert escape.csv_cell("alice") == "alice" and escape.terminal("héllo 你好\tok") == "héllo 你好\tok"


def test_markdown_text_renders_as_written():
    """Rendered the way Jupyter renders Markdown, escaped text reads as the student wrote it (quotes included)."""
    import html

    import mistune

    text = "query's weights \"sum\" to 1 & <b>not</b> # [x](y) `z` *w*"
    for s in (escape.markdown(text), escape.markdown_cell(text)):
        page = mistune.html(s)
        assert "<b>" not in page
        assert html.unescape(page.strip().removeprefix("<p>").removesuffix("</p>")) == text
