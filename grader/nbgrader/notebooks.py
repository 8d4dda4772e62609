"""An assignment's nbgrader source notebook, generated from its reference and its checks.

Layout of ``source/<assignment>/<module>.ipynb``:

1. read-only explanation cells, in English and in Chinese: how the notebook is
   graded, then the assignment's README (what it teaches, the API, the
   conventions, the pitfalls);
2. the reference module split at its top-level definitions: a definition
   holding a ``### BEGIN SOLUTION`` region becomes an answer cell (nbgrader's
   ``generate_assignment`` turns the region into a stub, as ``seqgrade
   release`` does for starter files), the rest read-only given code;
3. one read-only autograder test cell per check, grade_id = the check's name,
   points = its points, each a one-line call into `grader.nbgrader.inkernel`.
   The check files are packed into 0-point setup test cells before them: the
   public ones visible, the hidden ones and the reference inside
   ``### BEGIN HIDDEN TESTS``. Setup cells are test cells so that every line
   that runs checks stays out of the module a notebook grades as.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from nbformat.notebooknode import NotebookNode

from ..catalog import Assignment
from ..config import CourseConfig
from ..errors import ConfigError
from . import bundle, cells
from .checklist import NotebookCheck

_BEGIN_RE = re.compile(r"^[ \t]*### BEGIN SOLUTION\s*$", re.MULTILINE)
SKIPPED_SECTIONS = ("What to submit", "Check your work")  # English headings; file-based, not for notebooks

INTRO_EN = """# {id} — {title}

**How this notebook works.** Write your code in the cells marked `YOUR CODE HERE` (replace each
`raise NotImplementedError()`), keeping every name and signature. Run the cells from top to bottom.
The test cells at the end are the checks, one cell per check with its points: the public ones run here
on your code (nbgrader's *Validate* button runs them all); the hidden ones are empty in your copy and run
when your instructor grades. All your code cells are graded together as one module, `{filename}`, in a
sandbox: code outside functions must run quickly and without errors, and IPython magics are ignored."""

INTRO_ZH = """# {id} — {title}

**如何使用本笔记本。** 在标有 `YOUR CODE HERE` 的单元格中编写代码（替换每个 `raise NotImplementedError()`），
不要改动任何名称和函数签名。请从上到下依次运行各单元格。末尾的测试单元格就是各项检查，每个单元格一项检查并标明分值：
公开检查在这里直接检查你的代码（nbgrader 的 *Validate* 按钮会全部运行）；隐藏检查在你的副本中是空的，由教师评分时运行。
你的所有代码单元格会合在一起作为一个模块 `{filename}` 在沙箱中评分：函数之外的代码必须能很快运行完且不出错，IPython 魔法命令会被忽略。"""

CHECKS_INTRO = """## Checks · 检查

One cell per check, with its points. A check passes or fails as a whole; a failing check says what to fix.
Hidden checks show only their name here: they run when your work is graded.

每个单元格是一项检查并标明分值。一项检查整体通过或不通过；未通过时会说明要修改什么。
隐藏检查在这里只显示名称，评分时才会运行。"""


@dataclass(frozen=True)
class Chunk:
    """A run of top-level code that becomes one cell."""

    code: str
    solution: bool  # holds a solution region: an answer cell
    names: tuple[str, ...]  # the functions and classes it defines


# --------------------------------------------------------------------------- the reference, in cells
def split_module(source: str, filename: str) -> list[Chunk]:
    """Cut a module at its top-level statements: each one with a solution region alone, the rest grouped.

    Unindented comments directly above a definition (and blank lines between them) go with it;
    indented ones (a ``### END SOLUTION`` after a function's last line) stay with the code before.
    """
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise ConfigError(f"{filename}:{exc.lineno}: the reference does not parse: {exc.msg}") from None
    lines = source.splitlines(keepends=True)
    if not tree.body:
        return [Chunk(source.strip("\n"), False, ())] if source.strip() else []
    starts = [1]
    for prev, node in zip(tree.body, tree.body[1:]):
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        s = first
        while s - 1 > prev.end_lineno and (not lines[s - 2].strip() or lines[s - 2].startswith("#")):
            s -= 1
        while s < first and not lines[s - 1].strip():  # leading blank lines stay with the previous block
            s += 1
        starts.append(s)
    ends = [s - 1 for s in starts[1:]] + [len(lines)]
    blocks = []
    for node, begin, end in zip(tree.body, starts, ends):
        code = "".join(lines[begin - 1:end])
        names = (node.name,) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else ()
        blocks.append(Chunk(code, bool(_BEGIN_RE.search(code)), names))
    chunks: list[Chunk] = []
    pending: list[Chunk] = []

    def flush() -> None:
        if pending:
            chunks.append(Chunk("".join(b.code for b in pending).strip("\n"), False,
                                tuple(n for b in pending for n in b.names)))
            pending.clear()

    for b in blocks:
        if b.solution:
            flush()
            chunks.append(Chunk(b.code.strip("\n"), True, b.names))
        else:
            pending.append(b)
    flush()
    return [c for c in chunks if c.code.strip()]


def code_cells(assignment: Assignment, source: str) -> list[NotebookNode]:
    """The reference as explained answer cells and read-only given cells."""
    out = []
    for k, chunk in enumerate(split_module(source, assignment.filename), start=1):
        names = ", ".join(f"`{n}`" for n in chunk.names) or "imports and helpers"
        names_zh = "、".join(f"`{n}`" for n in chunk.names) or "导入与辅助代码"
        if chunk.solution:
            gid = f"{assignment.module}-{chunk.names[0] if chunk.names else k}"
            out.append(cells.text(f"{gid}-task", (
                f"**Write** {names}: fill in the parts marked `YOUR CODE HERE` (the docstring says what to "
                f"compute).\n\n**编写** {names_zh}：补全标有 `YOUR CODE HERE` 的部分（文档字符串说明了要计算什么）。")))
            out.append(cells.answer(gid, chunk.code))
        else:
            gid = f"{assignment.module}-given-{k}"
            out.append(cells.text(f"{gid}-note", f"Given, read-only: {names}.\n\n已给出（只读）：{names_zh}。"))
            out.append(cells.given_code(gid, chunk.code))
    if not any(c.metadata["nbgrader"]["solution"] for c in out):
        raise ConfigError(f"solutions/{assignment.filename} has no '### BEGIN SOLUTION' region: "
                          "a notebook needs at least one part for students to write")
    return out


# --------------------------------------------------------------------------- the README, in cells
def readme_sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(title line, [(heading, section text)]) of a README; the language switch line is dropped."""
    title, sections, current = "", [], None
    for line in text.splitlines():
        if line.startswith("## "):
            current = [line[3:].strip(), [line]]
            sections.append(current)
        elif line.startswith("# ") and not title and current is None:
            title = line[2:].strip()
        elif current is not None:
            current[1].append(line)
    return title, [(h, "\n".join(body).strip()) for h, body in sections]


def explanation_cells(assignment: Assignment, cfg: CourseConfig) -> list[NotebookNode]:
    """The bilingual introduction and the assignment's README, English then Chinese."""
    out = [cells.text(f"{assignment.module}-intro-en", INTRO_EN.format(
               id=assignment.id, title=assignment.title_en, filename=assignment.filename)),
           cells.text(f"{assignment.module}-intro-zh", INTRO_ZH.format(
               id=assignment.id, title=assignment.title_zh, filename=assignment.filename))]
    folder = assignment.starter_dir
    en_file, zh_file = folder / "README.md", folder / "README.zh.md"
    if not en_file.is_file():
        return out
    _, en = readme_sections(en_file.read_text(encoding="utf-8"))
    keep = [i for i, (h, _) in enumerate(en) if not h.startswith(SKIPPED_SECTIONS)]
    out.append(cells.text(f"{assignment.module}-readme-en", "\n\n".join(en[i][1] for i in keep)))
    if zh_file.is_file():
        _, zh = readme_sections(zh_file.read_text(encoding="utf-8"))
        zh_keep = [i for i in keep if i < len(zh)] if len(zh) == len(en) else list(range(len(zh)))
        out.append(cells.text(f"{assignment.module}-readme-zh", "\n\n".join(zh[i][1] for i in zh_keep)))
    return out


# --------------------------------------------------------------------------- the checks, in cells
def _bundle(checks: list[NotebookCheck], folder: Path, prefix: str, module: str, seed: int,
            reference: Path | None) -> str:
    files = bundle.read_tree(folder, prefix)
    meta = {"module": module, "seed": seed,
            "checks": {c.name: {"file": f"{prefix}/{c.file.relative_to(folder.resolve()).as_posix()}",
                                "points": c.points} for c in checks}}
    if reference is not None:
        files[f"reference/{reference.name}"] = reference.read_bytes()
        meta["reference"] = f"reference/{reference.name}"
    return bundle.pack(files, meta)


def _course_path(folder: Path, cfg: CourseConfig) -> str:
    """Where the check folder lies in the course: packed there, pytest gives its checks the node ids (and so
    the seeds) of a grading run."""
    try:
        return folder.resolve().relative_to(cfg.root.resolve()).as_posix()
    except ValueError:
        return folder.name


def _points(p: float) -> str:
    return f"{p:g} point" + ("" if p == 1 else "s")


def test_cells(assignment: Assignment, cfg: CourseConfig, checks: list[NotebookCheck],
               seed: int) -> list[NotebookNode]:
    """A setup cell per kind of check (the packed files, 0 points), then one test cell per check."""
    out = [cells.text(f"{assignment.module}-checks", CHECKS_INTRO)]
    public = [c for c in checks if c.visibility == "public"]
    hidden = [c for c in checks if c.visibility == "hidden"]
    if public:
        packed = _bundle(public, assignment.public_checks, _course_path(assignment.public_checks, cfg),
                         assignment.module, seed, None)
        out.append(cells.test(cells.SETUP_PUBLIC, 0, "\n".join([
            f"# The public checks of {assignment.id}, packed: run this cell before the checks below (0 points).",
            "from grader.nbgrader.inkernel import KernelChecks",
            f'_public_checks = KernelChecks.unpack("""\n{packed}\n""")'])))
    for c in public:
        out.append(cells.test(c.name, c.points, "\n".join([
            f"# Public check {c.name} ({_points(c.points)}): {c.description}".rstrip(": "),
            f'_public_checks.run("{c.name}", globals()).verify()'])))
    if hidden:
        packed = _bundle(hidden, assignment.hidden_checks, _course_path(assignment.hidden_checks, cfg),
                         assignment.module, seed, assignment.reference)
        out.append(cells.test(cells.SETUP_HIDDEN, 0, "\n".join([
            "# The hidden checks: added when your work is graded (0 points).", *cells.hidden([
                "from grader.nbgrader.inkernel import KernelChecks",
                f'_hidden_checks = KernelChecks.unpack("""\n{packed}\n""")'])])))
    for c in hidden:
        out.append(cells.test(c.name, c.points, "\n".join([
            f"# Hidden check {c.name} ({_points(c.points)}): {c.description}".rstrip(": "),
            *cells.hidden([f'_hidden_checks.run("{c.name}", globals()).verify()'])])))
    return out


def assignment_notebook(assignment: Assignment, cfg: CourseConfig, checks: list[NotebookCheck],
                        seed: int) -> NotebookNode:
    """The whole source notebook of `assignment` with the test cells of `checks`."""
    reference = assignment.reference
    if not reference.is_file():
        raise ConfigError(f"{reference} does not exist: the notebook is generated from the reference")
    if not checks:
        raise ConfigError(f"{assignment.id} has no checks to put in a notebook")
    nb_cells = (explanation_cells(assignment, cfg)
                + code_cells(assignment, reference.read_text(encoding="utf-8"))
                + test_cells(assignment, cfg, checks, seed))
    return cells.notebook(nb_cells, {"assignment": assignment.id, "module": assignment.module,
                                     "checks": [c.name for c in checks]})
