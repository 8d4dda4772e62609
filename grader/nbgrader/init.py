"""``seqgrade nbgrader init``: an nbgrader course folder generated from the course.

It writes ``nbgrader_config.py``, the manifest, one source notebook per
assignment (``source/<assignment>/<module>.ipynb``) and per quiz
(``source/<quiz>/<quiz>.ipynb``), and the due dates of course.yaml into
nbgrader's gradebook. Everything is built and checked before anything is
written, so a bad check file or quiz leaves the folder as it was.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path

from ..config import CourseConfig
from ..errors import ConfigError, UsageError
from . import config as nbconfig
from .checklist import collect_checks, select


@dataclass
class InitReport:
    """What `init_course` wrote."""

    course_dir: Path
    written: list[Path] = field(default_factory=list)
    items: dict[str, str] = field(default_factory=dict)  # nbgrader assignment id -> "6 test cells, 8 points"
    skipped: list[str] = field(default_factory=list)  # "a5_transformer: it has no checks yet"
    config_kept: bool = False  # nbgrader_config.py existed and was left alone


def _quiz_files(cfg: CourseConfig, names: tuple[str, ...]) -> list[Path]:
    from ..quiz.loader import find_quiz_file

    if names:
        return [find_quiz_file(n, cfg.quizzes_dir) for n in names]
    return sorted(cfg.quizzes_dir.glob("*.y*ml")) if cfg.quizzes_dir.is_dir() else []


def init_course(course_dir: Path, cfg: CourseConfig, *, assignments: tuple[str, ...] = (),
                quizzes: tuple[str, ...] = (), check_patterns: tuple[str, ...] = (),
                course_id: str = "seqgrade", exchange: str = nbconfig.DEFAULT_EXCHANGE, timeout: int = 120,
                force: bool = False, seed: int | None = None) -> InitReport:
    """Generate the nbgrader course folder `course_dir`; assignments and quizzes default to all of them."""
    import nbformat

    from ..quiz.loader import load_quiz
    from .notebooks import assignment_notebook
    from .quiz_notebook import VARIANT, packed_key, quiz_notebook

    if cfg.source is None:
        raise ConfigError("seqgrade nbgrader init needs the course config (course/course.yaml): run it from the "
                          "course folder or give --course")
    course_dir = Path(course_dir).resolve()
    config_text = nbconfig.render_config(course_id, exchange, timeout)
    everything = not assignments and not quizzes
    seed = random.SystemRandom().randrange(1 << 62) if seed is None else seed
    report = InitReport(course_dir)
    notebooks: dict[str, tuple[str, object]] = {}  # id -> (notebook name, notebook)
    manifest = nbconfig.Manifest(course_config=str(cfg.source))
    matched: set[str] = set()

    for aid in (list(cfg.assignments) if everything else list(assignments)):
        a = cfg.assignment(aid)
        try:
            checks = collect_checks(a, cfg)
        except ConfigError as exc:
            if not everything or "has no checks" not in str(exc):
                raise
            report.skipped.append(f"{a.id}: it has no checks yet")
            continue
        chosen = select(checks, check_patterns)
        matched.update(p for p in check_patterns for c in checks if _match(c.name, p))
        if not chosen:
            if everything:
                report.skipped.append(f"{a.id}: no check matches --checks")
                continue
            raise UsageError(f"--checks {' '.join(check_patterns)} matches no check of {a.id}; its checks are: "
                             f"{', '.join(c.name for c in checks)}")
        try:
            nb = assignment_notebook(a, cfg, chosen, seed)
        except ConfigError as exc:
            if not everything:
                raise
            report.skipped.append(f"{a.id}: {exc}")
            continue
        notebooks[a.id] = (a.module, nb)
        manifest.items[a.id] = nbconfig.Item(kind="assignment", notebook=a.module, checks=[c.name for c in chosen])
        report.items[a.id] = f"{len(chosen)} test cells, {sum(c.points for c in chosen):g} points"
    unmatched = [p for p in check_patterns if p not in matched]
    if unmatched:
        raise UsageError(f"--checks {' '.join(unmatched)} matches no check of the chosen assignments")

    if everything or quizzes:
        for path in _quiz_files(cfg, quizzes):
            quiz = load_quiz(path, cfg.languages)
            if quiz.id in notebooks:
                raise ConfigError(f"{path}: the quiz id {quiz.id!r} is also an assignment id; rename the quiz")
            lang = cfg.languages[0] if cfg.languages else "en"
            key = packed_key(quiz, path, cfg.secret, lang)
            notebooks[quiz.id] = (quiz.id, quiz_notebook(quiz, key, cfg.secret))
            manifest.items[quiz.id] = nbconfig.Item(kind="quiz", notebook=quiz.id, quiz_file=str(path.resolve()),
                                                    variant=VARIANT, key=key)
            report.items[quiz.id] = f"{len(quiz.questions)} questions, {quiz.max_score:g} points"
    if not notebooks:
        raise UsageError("nothing to generate: no assignment with checks and no quiz was chosen")

    existing = [i for i in notebooks if (course_dir / "source" / i).exists()]
    if existing and not force:
        raise UsageError(f"{course_dir / 'source'} already holds {', '.join(existing)}; "
                         "add --force to replace them (your edits to those notebooks would be lost)")

    # -- write ---------------------------------------------------------------
    course_dir.mkdir(parents=True, exist_ok=True)
    config_path = course_dir / nbconfig.CONFIG_FILE
    if config_path.exists() and not force:
        report.config_kept = True
    else:
        config_path.write_text(config_text, encoding="utf-8")
        report.written.append(config_path)
    try:
        old = nbconfig.read_manifest(course_dir)
        manifest.items = {**old.items, **manifest.items}
    except ConfigError:
        pass
    report.written.append(manifest.write(course_dir))
    for item_id, (name, nb) in notebooks.items():
        path = course_dir / "source" / item_id / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
        report.written.append(path)
    _record_due_dates(course_dir, cfg, list(notebooks))
    return report


def _match(name: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name, pattern)


def _record_due_dates(course_dir: Path, cfg: CourseConfig, item_ids: list[str]) -> None:
    """Put course.yaml's due dates into nbgrader's gradebook (nbgrader stores naive UTC)."""
    from nbgrader.coursedir import CourseDirectory

    dated = [i for i in item_ids if cfg.due_date(i) is not None]
    if not dated:
        return
    nb_cfg = nbconfig.load_nbgrader_config(course_dir)
    coursedir = CourseDirectory(config=nb_cfg)
    with nbconfig.open_gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for item_id in dated:
            due = cfg.due_date(item_id).astimezone(timezone.utc).replace(tzinfo=None)
            gb.update_or_create_assignment(item_id, duedate=due)
