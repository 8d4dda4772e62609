"""nbgrader's kinds of cells, built with nbformat: read-only text and code, answers, autograder tests.

Every cell carries nbgrader's metadata (schema version 3). A test cell's
grade_id is the check's (or question's) id, so the gradebook, formgrader and
``nbgrader export`` name scores the way seqgrade does.
"""

from __future__ import annotations

import re

import nbformat
from nbformat.notebooknode import NotebookNode

SCHEMA_VERSION = 3
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
_CELL_ID = re.compile(r"[^A-Za-z0-9_-]+")
# 0-point test cells that unpack what the test cells after them run (never a check's or question's id)
SETUP_PUBLIC = "setup-public-checks"
SETUP_HIDDEN = "setup-hidden-checks"
SETUP_QUIZ = "setup-quiz-key"


def cell_id(grade_id: str) -> str:
    """nbformat's cell id for a grade_id (letters, digits, - and _, at most 64 characters)."""
    return _CELL_ID.sub("-", grade_id)[:64] or "cell"


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = int(points) if float(points).is_integer() else float(points)
    return {"nbgrader": meta}


def text(grade_id: str, source: str) -> NotebookNode:
    """A read-only Markdown cell (instructions students cannot edit)."""
    return nbformat.v4.new_markdown_cell(source, id=cell_id(grade_id), metadata=_meta(grade_id, locked=True))


def given_code(grade_id: str, source: str) -> NotebookNode:
    """A read-only code cell: given code; nbgrader restores it before grading."""
    return nbformat.v4.new_code_cell(source, id=cell_id(grade_id), metadata=_meta(grade_id, locked=True))


def answer(grade_id: str, source: str) -> NotebookNode:
    """An answer cell ("autograded answer"): its ``### BEGIN SOLUTION`` regions become stubs."""
    return nbformat.v4.new_code_cell(source, id=cell_id(grade_id), metadata=_meta(grade_id, solution=True))


def test(grade_id: str, points: float, source: str) -> NotebookNode:
    """A read-only autograder test cell worth `points`."""
    return nbformat.v4.new_code_cell(source, id=cell_id(grade_id),
                                     metadata=_meta(grade_id, grade=True, locked=True, points=points))


def hidden(lines: list[str]) -> list[str]:
    """`lines` inside a hidden-tests region: in the source notebook only, never released."""
    return [BEGIN_HIDDEN, *lines, END_HIDDEN]


def is_test_cell(cell: dict) -> bool:
    """An autograder test cell: a grade cell that is not an answer (`grader.submissions.is_test_cell`)."""
    from ..submissions import is_test_cell as test_cell

    return test_cell(cell)


def notebook(cells: list[NotebookNode], extra_metadata: dict | None = None) -> NotebookNode:
    """A Python 3 notebook of `cells`."""
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if extra_metadata:
        nb.metadata["seqgrade"] = extra_metadata
    return nb
