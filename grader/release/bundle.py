"""The student bundle: starter code, public checks, READMEs, the contract, lessons, quiz questions and seqgrade.

What is copied is an allow-list (assignments/, docs/contract.md, the lessons, a student course
config without the secret, each quiz's question file); `solutions/`, hidden
checks, quiz keys and the gradebook are never read into it. Quiz question
files sit where the quizzes sit in the repository (``course/quizzes/<id>.yaml``)
so the lessons' and READMEs' links work in both. The bundle installs in two
commands: its README gives them, `requirements.txt` pins the grader's torch
(CPU build) and points at seqgrade's own wheel (``wheels/``, the `grader`
package only). `audit_bundle` double-checks the result.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..config import CourseConfig
from ..errors import SeqgradeError, UsageError
from .readme import student_readme

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints")
FORBIDDEN_MARKERS = ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "solutions/checks")
# keys of a quiz file that grade (or explain) rather than ask; a question file holds none of them
ANSWER_KEYS = frozenset({"answer", "correct", "accept", "patterns", "explanation", "examples", "rubric",
                         "model_answer", "formula", "tolerance", "key_phrases", "hints", "secret"})
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


@dataclass(frozen=True)
class Bundle:
    folder: Path  # OUT/seqgrade-student/
    zip: Path  # OUT/seqgrade-student.zip
    wheel: Path  # the seqgrade wheel inside the folder
    torch: str  # the pinned torch version


def read_roster(path: Path) -> list[str]:
    """Student ids, one per line (blank lines and # comments skipped); UsageError naming a bad line."""
    students: list[str] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        sid = line.split("#", 1)[0].strip()
        if not sid:
            continue
        if not STUDENT_ID.match(sid):
            raise UsageError(f"{path}:{n}: {sid!r} is not a usable student id (letters, digits and _ . @ -; it "
                             "names the student's files)")
        if sid.casefold() in {s.casefold() for s in students}:
            raise UsageError(f"{path}:{n}: {sid!r} is listed twice")
        students.append(sid)
    if not students:
        raise UsageError(f"{path} lists no student ids (one per line)")
    return students


def torch_version() -> str:
    """The torch the grader runs (without a local label such as +cpu): what the bundle pins."""
    try:
        return importlib.metadata.version("torch").split("+", 1)[0]
    except importlib.metadata.PackageNotFoundError:
        raise SeqgradeError("torch is not installed here, so the bundle cannot pin the grader's version") from None


def requirements_text(torch: str, requires: tuple[str, ...], wheel: str, torch_index: str | None) -> str:
    """requirements.txt: torch pinned to the grader's version (CPU build), seqgrade's dependencies and wheel."""
    lines = ["# Install with, from this folder:  python -m pip install -r requirements.txt",
             f"# torch {torch}, the version the grader runs; its CPU build (no GPU packages, ~1 GB installed)."]
    if torch_index:
        lines += ["# The CPU build comes from PyTorch's CPU index (pip still uses its usual index for the rest).",
                  f"--extra-index-url {torch_index}"]
    lines.append(f"torch=={torch}")
    lines.append("# seqgrade's own dependencies (also declared by its wheel)")
    lines += sorted(r for r in requires if not r.replace(" ", "").startswith("torch"))
    lines += ["# seqgrade itself (the grader package only)", f"./wheels/{wheel}"]
    return "\n".join(lines) + "\n"


def build_bundle(cfg: CourseConfig, out: Path, students: list[str] | None = None,
                 languages: list[str] | None = None, torch_index: str | None = TORCH_CPU_INDEX) -> Bundle:
    """Write OUT/seqgrade-student/ and OUT/seqgrade-student.zip."""
    from .wheel import build_wheel

    root = out / "seqgrade-student"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    assignments = {}
    for a in cfg.assignments.values():  # each one's starter folder and public checks, never anything else
        dest = root / "assignments" / a.id
        if a.starter_dir.is_dir():
            shutil.copytree(a.starter_dir, dest, ignore=_IGNORE)
        if a.public_checks.is_dir() and not (dest / "checks").exists():
            shutil.copytree(a.public_checks, dest / "checks", ignore=_IGNORE)
        assignments[a.id] = {"module": a.module, "title": {"en": a.title_en, "zh": a.title_zh},
                             "starter": f"assignments/{a.id}", "public_checks": f"assignments/{a.id}/checks",
                             **({"due": a.due.isoformat()} if a.due else {}),
                             **({"points": a.points} if a.points else {})}
    lessons = cfg.root / "course" / "lessons"
    if lessons.is_dir():
        shutil.copytree(lessons, root / "course" / "lessons", ignore=_IGNORE)
    contract = cfg.root / "docs" / "contract.md"  # the assignments' READMEs link ../../docs/contract.md
    if contract.is_file():
        (root / "docs").mkdir()
        text = contract.read_text(encoding="utf-8")
        (root / "docs" / "contract.md").write_text(_unlink_instructor_docs(text, root / "docs"), encoding="utf-8")
    (root / "course").mkdir(exist_ok=True)
    student_cfg = {"name": cfg.name, "root": "..", "languages": cfg.languages, "assignments": assignments,
                   "due": {k: v.isoformat() for k, v in cfg.due.items()}}
    (root / "course" / "course.yaml").write_text(
        "# Student copy of the course config (no secret, no gradebook).\n"
        + yaml.safe_dump(student_cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    quizzes = _quizzes(cfg, root / "course" / "quizzes", students, languages or cfg.languages)
    wheel = build_wheel(root / "wheels")
    torch = torch_version()
    (root / "requirements.txt").write_text(requirements_text(torch, wheel.requires, wheel.path.name, torch_index),
                                           encoding="utf-8")
    (root / "README.md").write_text(student_readme(cfg, quizzes, students is not None, torch, wheel.version),
                                    encoding="utf-8")
    problems = audit_bundle(root, cfg)
    if problems:
        shutil.rmtree(root)
        raise SeqgradeError("the bundle would leak, so nothing was written: " + "; ".join(problems[:10]))
    zpath = out / "seqgrade-student.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(root.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(out))
    return Bundle(root, zpath, wheel.path, torch)


_DOC_LINK = re.compile(r"\[([^\[\]]+)\]\(([\w./-]+\.md)(#[\w-]*)?\)")


def _unlink_instructor_docs(text: str, folder: Path) -> str:
    """Links to docs the bundle does not ship (the instructor's, e.g. writing-checks.md) become plain text."""
    def keep_or_text(m: re.Match) -> str:
        return m.group(0) if (folder / m.group(2)).is_file() else f"{m.group(1)} (in the course repository)"
    return _DOC_LINK.sub(keep_or_text, text)


def _quizzes(cfg: CourseConfig, dest: Path, students: list[str] | None, languages: list[str]) -> list[str]:
    """Each quiz's question file; with a roster, each student's sheets and empty answers file. The quiz ids."""
    from ..quiz.loader import load_quiz
    from ..quiz.public import question_file_text
    from ..quiz.render import write_answers_template, write_rendered

    files = sorted(cfg.quizzes_dir.glob("*.yaml")) if cfg.quizzes_dir.is_dir() else []
    ids = []
    for f in files:
        quiz = load_quiz(f, cfg.languages)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / f"{quiz.id}.yaml").write_text(question_file_text(quiz, cfg.secret), encoding="utf-8")
        ids.append(quiz.id)
        for student in students or []:
            folder = dest / quiz.id / student
            write_answers_template(quiz, student, folder)
            for lang in languages:
                write_rendered(quiz, student, cfg.secret, lang, folder / lang)
    return ids


def audit_bundle(root: Path, cfg: CourseConfig) -> list[str]:
    """Everything in the bundle that must not be there (empty when clean)."""
    from .wheel import wheel_problems, wheel_texts

    problems = []
    solution_texts = {}
    for f in sorted(cfg.solutions_dir.rglob("*.py")) if cfg.solutions_dir.is_dir() else []:
        if f.name != "__init__.py" and "__pycache__" not in f.parts:
            solution_texts[f.name] = f.read_text(encoding="utf-8")
    for f in root.rglob("*"):
        if f.is_symlink():
            problems.append(f"{f.relative_to(root)} is a symbolic link")
            continue
        if not f.is_file():
            continue
        rel = f.relative_to(root)
        if "solutions" in rel.parts:
            problems.append(f"{rel} comes from solutions/")
        if f.suffix == ".whl":
            problems += wheel_problems(f)
            for name, text in wheel_texts(f).items():
                if text in solution_texts.values():
                    problems.append(f"{rel}: {name} is a copy of a reference solution")
                if cfg.secret and cfg.secret != CourseConfig.secret and cfg.secret in text:  # the default is public
                    problems.append(f"{rel}: {name} contains the course secret")
            continue
        try:
            text = f.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for marker in FORBIDDEN_MARKERS:
            if marker in text:
                problems.append(f"{rel} contains {marker!r}")
        if f.suffix == ".py" and text in solution_texts.values():
            problems.append(f"{rel} is a copy of a reference solution")
        if cfg.secret and cfg.secret in text:
            problems.append(f"{rel} contains the course secret")
        if rel.parts[:2] == ("course", "quizzes") and f.suffix == ".yaml" and len(rel.parts) == 3:
            problems += [f"{rel} holds {k!r}" for k in sorted(_keys(yaml.safe_load(text)) & ANSWER_KEYS)]
    return problems


def _keys(node) -> set[str]:
    if isinstance(node, dict):
        return {str(k) for k in node} | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()
