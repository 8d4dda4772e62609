"""What a hub instance serves: nbgrader's settings by role, the checkout's grader package, and the course
built by `seqgrade nbgrader init` in the instructor's home, with one assignment and one quiz released."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import string
from pathlib import Path

from hub_instance import COURSE_ID, COURSE_PARTS, HERE, REPO, HubError, Instance
from hub_users import run_as

def _render(template: str, **values) -> str:
    return string.Template((HERE / template).read_text(encoding="utf-8")).substitute(values)


def render_role_configs(inst: Instance) -> dict[str, str]:
    """{path relative to jupyter/: text} of nbgrader's and Jupyter's settings for each role."""
    return {
        "student/nbgrader_config.py": _render("student/nbgrader_config.py", course_id=COURSE_ID,
                                              exchange=str(inst.exchange)),
        "student/jupyter_server_config.json": _render("student/jupyter_server_config.json"),
        "student/labconfig/page_config.json": _render("student/labconfig/page_config.json"),
        "instructor/nbgrader_config.py": _render("instructor/nbgrader_config.py", course_dir=str(inst.course_dir)),
        "instructor/jupyter_server_config.json": _render("instructor/jupyter_server_config.json"),
        "instructor/labconfig/page_config.json": _render("instructor/labconfig/page_config.json"),
    }


def copy_grader(inst: Instance) -> None:
    """This checkout's seqgrade (the grader package only, as students get it) in the instance's ``lib/``,
    first on every user's PYTHONPATH: the hub runs the code of the checkout that started it."""
    lib = inst.path / "lib"
    if lib.exists():
        shutil.rmtree(lib)
    shutil.copytree(REPO / "grader", lib / "grader", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for dirpath, dirnames, filenames in os.walk(lib):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)


def _copy_course(inst: Instance) -> Path:
    """The instructor's clone of the course repository: course/, solutions/, assignments/, theirs only."""
    dest = inst.home(inst.instructor) / "seqgrade"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir()
    for part in COURSE_PARTS:
        shutil.copytree(REPO / part, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pw = pwd.getpwnam(inst.instructor)
    for dirpath, dirnames, filenames in os.walk(dest):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for f in filenames:
            os.chown(os.path.join(dirpath, f), pw.pw_uid, pw.pw_gid)
    os.chown(dest, pw.pw_uid, pw.pw_gid)
    return dest


def set_due_dates(course_yaml: Path, assignment: str, quiz: str, when: str) -> None:
    """Make `assignment` (its own ``due:``) and `quiz` (in the top-level ``due:`` mapping) due at `when`,
    editing the lines in place so the file keeps its comments."""
    text = course_yaml.read_text(encoding="utf-8")
    block = re.compile(rf"(^  {re.escape(assignment)}:[ \t]*\n(?:(?:    .*)?\n)*?    due:[ \t]*)(\S+)", re.M)
    text, n = block.subn(lambda m: m.group(1) + when, text, count=1)
    if n != 1:
        raise HubError(f"{course_yaml}: no `due:` line under assignments: {assignment}: to set the demo's due date")
    if re.search(r"^due:[ \t]*\{\}[ \t]*$", text, re.M):
        text = re.sub(r"^due:[ \t]*\{\}[ \t]*$", f"due:\n  {quiz}: {when}", text, count=1, flags=re.M)
    elif re.search(r"^due:[ \t]*$", text, re.M):
        text = re.sub(rf"^  {re.escape(quiz)}:.*\n", "", text, flags=re.M)
        text = re.sub(r"^due:[ \t]*$", f"due:\n  {quiz}: {when}", text, count=1, flags=re.M)
    else:
        raise HubError(f"{course_yaml}: no top-level `due:` mapping to set the quiz's due date in")
    course_yaml.write_text(text, encoding="utf-8")


def build_course(inst: Instance) -> None:
    """As the instructor: `seqgrade nbgrader init`, then generate and release the assignment and the quiz."""
    clone = _copy_course(inst)
    home = inst.home(inst.instructor)
    course_yaml = clone / "course" / "course.yaml"
    set_due_dates(course_yaml, inst.assignment, inst.quiz, inst.due)
    shown = run_as(inst, inst.instructor, [f"{inst.venv}/bin/python", "-c", DUE_CHECK, course_yaml,
                                           inst.assignment, inst.quiz], home).split()
    if shown != [inst.due, inst.due]:
        raise HubError(f"{course_yaml}: the demo's due dates did not take (seqgrade reads {shown}, not {inst.due})")
    if inst.course_dir.exists():
        shutil.rmtree(inst.course_dir)
    init = ["seqgrade", "nbgrader", "init", inst.course_dir, "--course", clone / "course" / "course.yaml",
            "--assignment", inst.assignment, "--quiz", inst.quiz, "--exchange", inst.exchange,
            "--course-id", COURSE_ID]
    for pattern in inst.checks:
        init += ["--checks", pattern]
    run_as(inst, inst.instructor, init, home)
    for item in (inst.assignment, inst.quiz):
        run_as(inst, inst.instructor, ["nbgrader", "generate_assignment", item], inst.course_dir)
        run_as(inst, inst.instructor, ["nbgrader", "release_assignment", item], inst.course_dir)


DUE_CHECK = """import sys
from grader.config import load_config
cfg = load_config(sys.argv[1])
print(*(cfg.due_date(i).isoformat() for i in sys.argv[2:]))"""


def write_role_configs(inst: Instance) -> None:
    for rel, text in render_role_configs(inst).items():
        path = inst.path / "jupyter" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for dirpath, dirnames, filenames in os.walk(inst.path / "jupyter"):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
