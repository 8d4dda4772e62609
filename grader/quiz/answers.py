"""Reading a class's answers: `<student_id>.yaml` files (question id -> answer) or filled-in notebooks.

A file that cannot be read or parsed becomes an `Answers` with a problem, never
an exception, so one bad file cannot stop a class from being graded. Only the
answers are read from a file: question structure, options and points always
come from the quiz (the key).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import QuizError
from .yamlsrc import parse_yaml

MAX_BYTES = 1_000_000
ANSWER_SUFFIXES = (".yaml", ".yml", ".ipynb")
ANSWERS_VAR = "ANSWERS"  # the dict a generated notebook fills in
# what an nbgrader quiz notebook's free-answer (Markdown) cell holds until the student writes there
FREE_PLACEHOLDER = "✍ Write your answer here, in English or Chinese. · 在此作答，中英文均可。"


@dataclass
class Answers:
    """One student's answers file."""

    student: str
    file: str  # its name, for messages
    values: dict[str, Any] | None = None  # question id -> answer; None when unreadable
    where: dict[str, str] = field(default_factory=dict)  # question id -> "file:line" (or "file: cell n")
    problems: list[str] = field(default_factory=list)  # whole-file problems (unparsable, not a mapping)
    content_hash: str = ""  # sha256 of the file's bytes
    submitted_at: datetime | None = None  # when the file was last written (UTC; the student's clock)
    refused: bool = False  # a link or not a regular file: never read

    def at(self, qid: str) -> str:
        return self.where.get(qid, self.file)


def read_answers(path: str | Path) -> Answers:
    """Read one answers file (a regular file, never a link: `grader.submissions`); problems are recorded."""
    from ..submissions import Refusal, read_regular_file

    p = Path(path)
    try:
        raw = read_regular_file(p.parent, [p.name], max_bytes=MAX_BYTES, what=p.name)
    except Refusal as exc:
        ans = Answers(student=p.stem, file=p.name, problems=[str(exc)])
        ans.refused = True
        return ans
    except OSError as exc:
        return Answers(student=p.stem, file=p.name, problems=[f"{p.name}: cannot read the file: {exc.strerror}"])
    ans = parse_answers(raw, p.name, p.stem)
    try:
        ans.submitted_at = datetime.fromtimestamp(os.lstat(p).st_mtime, tz=timezone.utc)
    except OSError:
        pass
    return ans


def parse_answers(raw: bytes, name: str, student: str) -> Answers:
    """Answers from the bytes of an answers file or notebook named `name`; problems are recorded, not raised."""
    ans = Answers(student=student, file=name)
    ans.content_hash = hashlib.sha256(raw).hexdigest()
    if len(raw) > MAX_BYTES:
        ans.problems.append(f"{name}: the file is larger than {MAX_BYTES // 1000} kB; an answers file "
                            "holds one short answer per question")
        return ans
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        ans.problems.append(f"{name}: not UTF-8 text; save the answers file as UTF-8")
        return ans
    try:
        if name.endswith(".ipynb"):
            _from_notebook(text, ans)
        else:
            _from_yaml(text, ans)
    except RecursionError:
        ans.values = None
        ans.problems.append(f"{name}: nested too deeply to be an answers file")
    return ans


def _from_yaml(text: str, ans: Answers) -> None:
    doc = parse_yaml(text, ans.file)
    if doc.problems:
        ans.problems += [f"{p.file}:{p.line}:{p.column}: {p.message}" for p in doc.problems]
        return
    if not isinstance(doc.data, dict):
        ans.problems.append(f"{ans.file}:1: expected a mapping of question id -> answer "
                            "(one line per question, e.g. `q1: b`)")
        return
    ans.values = {}
    for key, value in doc.data.items():
        qid = str(key)
        ans.values[qid] = value
        ans.where[qid] = f"{ans.file}:{doc.mark((key,), key=True).line}"


def _from_notebook(text: str, ans: Answers) -> None:
    """Answers from the cells tagged with metadata seqgrade.question: `ANSWERS["q1"] = <literal>`."""
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError):
        ans.problems.append(f"{ans.file}: not a Jupyter notebook (the JSON cannot be read)")
        return
    ans.values = {}
    for n, cell in enumerate(cells, start=1):
        meta = (cell.get("metadata") or {}).get("seqgrade") or {} if isinstance(cell, dict) else {}
        qid = meta.get("question") if isinstance(meta, dict) else None
        if not isinstance(qid, str):
            continue
        where = f"{ans.file}: cell {n}"
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        ans.where[qid] = where
        if cell.get("cell_type") == "markdown":  # a free answer, written as text
            ans.values[qid] = src.replace(FREE_PLACEHOLDER, "").strip() or None
            continue
        try:
            ans.values[qid] = _cell_answer(src, qid)
        except ValueError as exc:
            ans.problems.append(f"{where}: {exc}")


def _cell_answer(src: str, qid: str) -> Any:
    """The literal assigned to ANSWERS[qid] in a cell (parsed, never executed)."""
    try:
        tree = ast.parse(src)
    except SyntaxError as exc:
        raise ValueError(f"the answer cell of {qid!r} is not valid Python: {exc.msg} (line {exc.lineno})") from None
    value: Any = None
    for stmt in tree.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Subscript)
                and isinstance(stmt.targets[0].value, ast.Name) and stmt.targets[0].value.id == ANSWERS_VAR):
            try:
                value = ast.literal_eval(stmt.value)
            except (ValueError, SyntaxError, TypeError):
                raise ValueError(f"the answer to {qid!r} must be a plain value (a string, number, true/false "
                                 "or a list), not an expression") from None
    return value


def collect_answers(folder: str | Path) -> list[Answers]:
    """Every answers file of a folder, one per student, sorted by student id."""
    d = Path(folder)
    if not d.is_dir():
        raise QuizError(f"{d} is not a folder; give the folder holding the <student_id>.yaml answers files")
    from ..submissions import list_folder

    by_student: dict[str, list[Path]] = {}
    for e in list_folder(d):
        f = d / e.name
        if e.kind in ("file", "link", "other") and f.suffix in ANSWER_SUFFIXES and not e.name.startswith("."):
            by_student.setdefault(f.stem, []).append(f)
    if not by_student:
        raise QuizError(f"no answers files in {d}: expected <student_id>.yaml files (question id -> answer)")
    out = []
    for student, files in sorted(by_student.items()):
        if len(files) > 1:
            names = ", ".join(f.name for f in files)
            out.append(Answers(student=student, file=files[0].name,
                               problems=[f"{names}: more than one answers file for {student!r}; keep one"]))
        else:
            out.append(read_answers(files[0]))
    return out
