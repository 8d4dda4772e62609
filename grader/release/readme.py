"""The student bundle's README (English, then Chinese): install in two commands, check, quiz, submit.

The install commands are the first ``bash`` block under "## Install"; the
release test runs exactly that block in a fresh folder, so what students read is
what is tested.
"""

from __future__ import annotations

from ..config import CourseConfig

EN = """\
**English** | [中文](#{anchor_zh})

# {name}: student bundle

## Install

You need Python 3.10 or newer (`python3 --version`). In this folder (the one holding this README), run:

```bash
python3 -m venv .venv
.venv/bin/python -m pip install -r requirements.txt
```

This installs seqgrade {version} (from `wheels/`) and torch {torch}, the CPU build of the version your
instructor's grader runs (about 1 GB, a few minutes). On Windows the two commands are
`py -m venv .venv` and `.venv\\Scripts\\python -m pip install -r requirements.txt`.
In every new terminal, run `source .venv/bin/activate` (Windows: `.venv\\Scripts\\activate`) first, so
that the `seqgrade` command is found.

## Assignments

{assignments_en}

Work in the assignment's folder, for example:

```bash
cd assignments/{first}
seqgrade check {first} {first_file}                       # the public checks: a table of what to fix
seqgrade submit {first} {first_file} --student YOUR_ID    # writes {first}-YOUR_ID.zip: hand in that file
```

`seqgrade check` works anywhere in this folder (it finds the course by looking for `course/course.yaml`
above you). The same file draws the same sizes each time, so you can compare runs; `--seed N` draws
others, and a failed check shows the sizes it used. Your instructor's hidden checks are more thorough:
passing the public ones is necessary, not sufficient. `seqgrade list` lists every public check.

## Quizzes

{quizzes_en}

Each quiz's questions are in `course/quizzes/<quiz>.yaml` (no answers). Some numbers differ from student
to student: always give your own student id.

```bash
seqgrade quiz take {first_quiz} --student YOUR_ID      # asks each question, writes YOUR_ID.yaml: hand in that file
seqgrade quiz render {first_quiz} --student YOUR_ID    # or: your sheet as Markdown and as a notebook
```
{roster_en}
## Lessons and labs

The lessons are in [`course/lessons/`](course/lessons/), in English and Chinese. Each lesson's claims can
be measured on your own code, for example `seqgrade lab vanishing --impl assignments/a2_gated/gated.py`.
"""

ZH = """\
# {name}：学生资料包

## 安装

需要 Python 3.10 或更高版本（`python3 --version`）。在本目录（即本 README 所在目录）中运行：

```bash
python3 -m venv .venv
.venv/bin/python -m pip install -r requirements.txt
```

这会安装 seqgrade {version}（来自 `wheels/`）和 torch {torch}：与教师评分器相同版本的 CPU 版（约 1 GB，需要几分钟）。
Windows 上这两条命令是 `py -m venv .venv` 和 `.venv\\Scripts\\python -m pip install -r requirements.txt`。
每打开一个新终端，先运行 `source .venv/bin/activate`（Windows：`.venv\\Scripts\\activate`），才能找到 `seqgrade` 命令。

## 作业

{assignments_zh}

在作业目录中工作，例如：

```bash
cd assignments/{first}
seqgrade check {first} {first_file}                       # 公开检查：列出需要修改的地方
seqgrade submit {first} {first_file} --student 你的学号    # 生成 {first}-你的学号.zip：提交这个文件
```

`seqgrade check` 在本目录的任何位置都能运行（它向上查找 `course/course.yaml` 来确定课程）。同一个文件每次抽取相同的尺寸，
便于比较前后两次运行；`--seed N` 抽取其他尺寸，未通过的检查会显示它使用的尺寸。教师的隐藏检查更严格：
通过公开检查是必要条件，而非充分条件。`seqgrade list` 列出所有公开检查。

## 测验

{quizzes_zh}

每个测验的题目在 `course/quizzes/<测验>.yaml` 中（不含答案）。部分数字因人而异：请始终使用你自己的学号。

```bash
seqgrade quiz take {first_quiz} --student 你的学号 --lang zh     # 逐题作答，生成 你的学号.yaml：提交这个文件
seqgrade quiz render {first_quiz} --student 你的学号 --lang zh   # 或者：生成你的 Markdown 题目和 notebook
```
{roster_zh}
## 讲义与实验

讲义在 [`course/lessons/`](course/lessons/) 中，有中英文两种版本。讲义中的结论可以用你自己的代码来测量，
例如 `seqgrade lab vanishing --impl assignments/a2_gated/gated.py`。
"""


def student_readme(cfg: CourseConfig, quizzes: list[str], roster: bool, torch: str, version: str) -> str:
    """The README of a bundle of `cfg` holding `quizzes` (per-student sheets when `roster`)."""
    rows_en = ["| assignment | file to complete | due |", "|---|---|---|"]
    rows_zh = ["| 作业 | 需要补全的文件 | 截止时间 |", "|---|---|---|"]
    for a in cfg.assignments.values():
        due = a.due.strftime("%Y-%m-%d %H:%M UTC") if a.due else "—"
        rows_en.append(f"| [`{a.id}`](assignments/{a.id}/README.md) {a.title_en} | `{a.filename}` | {due} |")
        rows_zh.append(f"| [`{a.id}`](assignments/{a.id}/README.zh.md) {a.title_zh or a.title_en} | "
                       f"`{a.filename}` | {due} |")
    first = next(iter(cfg.assignments.values()), None)
    quiz_links = ", ".join(f"[`{q}`](course/quizzes/{q}.yaml)" for q in quizzes) or "—"
    roster_en = ("\nYour own sheets are also ready: `course/quizzes/<quiz>/YOUR_ID/` holds `YOUR_ID.yaml`, the "
                 "answers file to fill in, and your questions as Markdown and as a notebook (`en/`, `zh/`).\n"
                 if roster else "")
    roster_zh = ("\n你的题目也已生成：`course/quizzes/<测验>/你的学号/` 中有待填写的答案文件 `你的学号.yaml`，以及 Markdown "
                 "和 notebook 形式的题目（`en/`、`zh/`）。\n" if roster else "")
    fields = dict(name=cfg.name, torch=torch, version=version,
                  first=first.id if first else "a1_rnn", first_file=first.filename if first else "rnn.py",
                  first_quiz=quizzes[0] if quizzes else "QUIZ",
                  assignments_en="\n".join(rows_en), assignments_zh="\n".join(rows_zh),
                  quizzes_en=f"Quizzes: {quiz_links}.", quizzes_zh=f"测验：{quiz_links}。",
                  roster_en=roster_en, roster_zh=roster_zh)
    zh = ZH.format(**fields)
    anchor = zh.splitlines()[0].lstrip("# ").strip().lower().replace(" ", "-")
    return EN.format(anchor_zh=_anchor(anchor), **fields) + "\n" + zh


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation removed, spaces as hyphens."""
    import re

    return re.sub(r"[^\w\- ]", "", heading, flags=re.UNICODE).replace(" ", "-")


def install_commands(text: str, heading: str = "## Install") -> list[str]:
    """The commands of the first ```bash block under `heading` of a README (comments and blank lines left out)."""
    lines = text.splitlines()
    start = lines.index(heading)
    begin = next(i for i in range(start, len(lines)) if lines[i].strip() == "```bash")
    end = next(i for i in range(begin + 1, len(lines)) if lines[i].strip() == "```")
    return [ln.strip() for ln in lines[begin + 1:end] if ln.strip() and not ln.strip().startswith("#")]
