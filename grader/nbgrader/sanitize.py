"""A submitted notebook's own cells, made inert before formgrader and nbgrader's feedback show them.

formgrader and ``nbgrader generate_feedback`` render the autograded notebook as HTML, and nbgrader's
templates pass a Markdown cell's HTML through unsanitized (nbconvert's ``sanitize_html`` does not reach
them), keep ``javascript:`` links, show raw cells marked ``text/html`` as HTML, and show the outputs
stored in the notebook file. Everything in a submitted notebook that a student can edit is the
student's, so a ``<script>`` there would run in the instructor's formgrader (with the instructor's
Jupyter session) or in a classmate's feedback. `StudentCellsAsText` runs first in
``seqgrade nbgrader autograde``:

- a Markdown cell the student can edit (no read-only nbgrader metadata: an added note, a free-text
  answer) is shown verbatim, as Markdown source in a fenced block the text cannot close;
- a raw cell the student can edit loses its output format, so it is never rendered as HTML;
- a code cell that is not an autograder test loses the outputs stored in the file: seqgrade does not
  run the notebook, so they are the student's claims, not results (nbgrader's own autograde replaces
  them by running it).

Read-only cells are the instructor's: nbgrader restores them from the gradebook before this runs.
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from .. import escape
from . import cells as nbcells


def _editable(cell) -> bool:
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    return not meta.get("locked")


class StudentCellsAsText(NbGraderPreprocessor):
    """See the module doc."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and _editable(cell):
            if cell.source.strip():
                cell.source = escape.markdown_code(cell.source, "markdown")
            cell.pop("attachments", None)
        elif cell.cell_type == "raw" and _editable(cell):
            cell.metadata.pop("format", None)
            cell.metadata.pop("raw_mimetype", None)
        elif cell.cell_type == "code" and not nbcells.is_test_cell(cell):
            cell.outputs = []
            cell.execution_count = None
        return cell, resources
