"""Which course a command works on: the nearest ``course/course.yaml`` at or above a folder.

A student runs ``seqgrade check a2_gated gated.py`` inside ``assignments/a2_gated/``
of the bundle; an instructor runs commands anywhere in the course repository.
Both find the course the way git finds its repository: from the given file's
folder (when a command names a file) or from the current folder, walking up to
the filesystem root, the first folder holding ``course/course.yaml`` is the
course. ``--course`` names the config and skips the search.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

CONFIG = Path("course") / "course.yaml"

NOT_FOUND = (
    "no course found: neither {where} nor any folder above it holds course/course.yaml. Run seqgrade inside "
    "the course: the student bundle's folder (seqgrade-student/) or any folder in it, or the course "
    "repository; or name the config with --course PATH/TO/course/course.yaml")


def find_course_config(start: Path) -> Path | None:
    """The first ``course/course.yaml`` in `start` (a folder, or a file's folder) or a folder above it."""
    p = Path(start).absolute()
    if not p.is_dir():
        p = p.parent
    for folder in (p, *p.parents):
        candidate = folder / CONFIG
        if candidate.is_file():
            return candidate
    return None


def course_config(course: Path | None, *starts: Path | None, required: bool = True) -> Path | None:
    """`course` when given; else the config found from each of `starts`, then from the current folder.

    Raises `ConfigError` saying what to do when none is found and `required`;
    returns None otherwise (the caller uses the defaults).
    """
    if course is not None:
        return Path(course)
    tried = [Path(s) for s in starts if s is not None] + [Path.cwd()]
    for start in tried:
        found = find_course_config(start)
        if found is not None:
            return found
    if required:
        where = " nor ".join(dict.fromkeys(str(_folder(s)) for s in tried))
        raise ConfigError(NOT_FOUND.format(where=where))
    return None


def _folder(p: Path) -> Path:
    p = p.absolute()
    return p if p.is_dir() else p.parent
