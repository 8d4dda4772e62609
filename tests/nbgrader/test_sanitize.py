"""What a student wrote in a notebook reaches formgrader and feedback as inert text (grader/nbgrader/sanitize.py).

The browser sees the whole path in tests/browser/test_hostile_views.py; these pin the preprocessor itself.
"""

from __future__ import annotations

import nbformat

from grader.nbgrader import cells
from grader.nbgrader.sanitize import StudentCellsAsText

HTML = '<img src=x onerror="alert(1)"> <script>alert(2)</script>\n```\nclosed\n````'


def run(nb):
    return StudentCellsAsText().preprocess(nb, {"nbgrader": {}})[0]


def test_a_students_markdown_becomes_a_code_block_it_cannot_close():
    nb = cells.notebook([nbformat.v4.new_markdown_cell(HTML)])
    out = run(nb).cells[0].source
    fence = out.splitlines()[0]
    assert fence.startswith("`````") and fence.endswith("markdown")  # longer than any backtick run inside
    assert out.splitlines()[-1] == fence.rstrip("markdown") and HTML in out


def test_the_instructors_read_only_cells_are_left_alone():
    given = cells.text("intro", "**How to answer** <b>bold</b>")
    test = cells.test("test_x", 1, "check()")
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="test_x: passed\n")]
    out = run(cells.notebook([given, test])).cells
    assert out[0].source == "**How to answer** <b>bold</b>" and out[1].outputs == test.outputs


def test_raw_html_cells_and_stored_outputs_lose_what_would_render():
    raw = nbformat.v4.new_raw_cell(HTML, metadata={"format": "text/html", "raw_mimetype": "text/html"})
    code = cells.answer("rnn-step", "x = 1")
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/html": HTML})]
    code.execution_count = 3
    plain = nbformat.v4.new_code_cell("print('all checks passed')", execution_count=1,
                                      outputs=[nbformat.v4.new_output("stream", name="stdout", text="40/40\n")])
    out = run(cells.notebook([raw, code, plain])).cells
    assert "format" not in out[0].metadata and "raw_mimetype" not in out[0].metadata and out[0].source == HTML
    assert out[1].outputs == [] and out[1].execution_count is None and out[1].source == "x = 1"
    assert out[2].outputs == []


def test_an_empty_markdown_cell_stays_empty():
    assert run(cells.notebook([nbformat.v4.new_markdown_cell("  ")])).cells[0].source == "  "
