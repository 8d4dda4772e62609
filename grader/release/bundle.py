"""The student bundle: starter code, public checks, READMEs, the contract, lessons and quizzes, never answers.

What is copied is an allow-list (assignments/, docs/contract.md, the lessons, a student course
config without the secret); `solutions/`, hidden checks, quiz keys and the
gradebook are never read into it. `audit_bundle` double-checks the result.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import yaml

from ..config import CourseConfig

STUDENT_README = """# {name}: student bundle

Install seqgrade (your instructor tells you how), then from this folder:

    seqgrade check a1_rnn assignments/a1_rnn/rnn.py

Each `assignments/aN_*/` folder holds the starter file to complete, a README
(English and Chinese) and the public checks. Your instructor's hidden checks
are more thorough: passing the public ones is necessary, not sufficient.
Quizzes are under `quizzes/` (answer in the YAML template or the notebook).

# {name}：学生资料包

安装 seqgrade 后，在本目录运行 `seqgrade check a1_rnn assignments/a1_rnn/rnn.py`。
每个 `assignments/aN_*/` 目录包含需要补全的起始代码、中英文说明和公开检查。
教师的隐藏检查更严格：通过公开检查是必要条件，而非充分条件。测验在 `quizzes/` 下。
"""

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints")
FORBIDDEN_MARKERS = ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "solutions/checks")


def build_bundle(cfg: CourseConfig, out: Path, students: list[str] | None = None,
                 languages: list[str] | None = None) -> tuple[Path, Path]:
    """Write OUT/seqgrade-student/ and OUT/seqgrade-student.zip; returns both paths."""
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
        shutil.copy2(contract, root / "docs" / "contract.md")
    (root / "course").mkdir(exist_ok=True)
    student_cfg = {"name": cfg.name, "root": "..", "languages": cfg.languages, "assignments": assignments,
                   "due": {k: v.isoformat() for k, v in cfg.due.items()}}
    (root / "course" / "course.yaml").write_text(
        "# Student copy of the course config (no secret, no gradebook).\n"
        + yaml.safe_dump(student_cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (root / "README.md").write_text(STUDENT_README.format(name=cfg.name), encoding="utf-8")
    _quizzes(cfg, root / "quizzes", students, languages or cfg.languages)
    problems = audit_bundle(root, cfg)
    if problems:
        shutil.rmtree(root)
        from ..errors import SeqgradeError

        raise SeqgradeError("the bundle would leak, so nothing was written: " + "; ".join(problems[:10]))
    zpath = out / "seqgrade-student.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(root.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(out))
    return root, zpath


def _quizzes(cfg: CourseConfig, dest: Path, students: list[str] | None, languages: list[str]) -> None:
    from ..quiz.loader import load_quiz
    from ..quiz.render import write_rendered

    files = sorted(cfg.quizzes_dir.glob("*.yaml")) if cfg.quizzes_dir.is_dir() else []
    for f in files:
        quiz = load_quiz(f, cfg.languages)
        for student in students or ["sample"]:
            for lang in languages:
                folder = dest / quiz.id / (student if students else "sample") / lang
                write_rendered(quiz, student, cfg.secret, lang, folder)


def audit_bundle(root: Path, cfg: CourseConfig) -> list[str]:
    """Everything in the bundle that must not be there (empty when clean)."""
    problems = []
    solution_texts = {}
    for f in sorted(cfg.solutions_dir.glob("*.py")) if cfg.solutions_dir.is_dir() else []:
        if f.name != "__init__.py":
            solution_texts[f.name] = f.read_text(encoding="utf-8")
    for f in root.rglob("*"):
        if not f.is_file():
            continue
        rel = f.relative_to(root)
        if "solutions" in rel.parts:
            problems.append(f"{rel} comes from solutions/")
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
    return problems
