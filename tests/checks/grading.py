"""Grade sources with the real engine (real pytest, real sandbox) from the project's tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.catalog import get_assignment
from grader.checks.plugin import Job
from grader.config import load_config
from grader.engine.session import run_session
from grader.results import SubmissionResult

REPO = Path(__file__).resolve().parents[2]


def reference_source(assignment_id: str) -> str:
    a = get_assignment(assignment_id)
    return (REPO / "solutions" / a.filename).read_text(encoding="utf-8")


def grade_sources(assignment_id: str, sources: dict[str, str], *, hidden: bool = True,
                  seed: int = 20261130, **session_options) -> dict[str, SubmissionResult]:
    """{student: source} -> {student: result}, all in one pytest session."""
    a = get_assignment(assignment_id)
    cfg = load_config(REPO / "course" / "course.yaml")
    results: dict[str, SubmissionResult] = {}
    jobs = [Job(student, a.module, src, filename=f"{student}/{a.filename}") for student, src in sources.items()]
    run_session(a, jobs, lambda r: results.__setitem__(r.student, r), cfg=cfg, hidden=hidden, seed=seed,
                **session_options)
    return results


@dataclass
class Mutant:
    """A realistic bug: textual patches applied to the reference source.

    Each ``(old, new)`` pair must match exactly once, so a mutant breaks loudly
    when the reference changes instead of silently testing nothing.
    """

    name: str
    patches: list[tuple[str, str]]
    fails: set[str]  # checks that must lose points on this bug
    note: str = ""  # what the bug is, in words
    extra: dict = field(default_factory=dict)

    def apply(self, source: str) -> str:
        for old, new in self.patches:
            n = source.count(old)
            if n != 1:
                raise AssertionError(f"mutant {self.name}: {old!r} occurs {n} times in the reference")
            source = source.replace(old, new)
        return source


def failed_checks(result: SubmissionResult) -> set[str]:
    return {c.name for c in result.checks if c.status != "passed"}


def base_name(check_name: str) -> str:
    """`test_x[float32]` -> `test_x` (a mutant may name a parametrized check without its id)."""
    return check_name.split("[", 1)[0]


def assert_mutant_caught(m: Mutant, result: SubmissionResult) -> None:
    failed = failed_checks(result)
    failed_bases = {base_name(n) for n in failed}
    missing = {n for n in m.fails if n not in failed and n not in failed_bases}
    assert not missing, (
        f"mutant {m.name} ({m.note}) was not caught by {sorted(missing)}; it failed {sorted(failed)}"
    )
    assert result.score < result.max_score
