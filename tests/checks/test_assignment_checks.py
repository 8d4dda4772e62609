"""Every assignment's checks, tested the same way, from one table.

For each assignment: the reference and the alternative correct implementations
(tests/checks/alternatives/<id>/*.py) get full marks; every realistic bug
(tests/checks/mutants_<id>.py: MUTANTS) loses the checks named for it; the
public checks alone pass the reference and catch the mutants in PUBLIC_CAUGHT;
the failure messages in MESSAGES name the bug.

One assignment's sources are graded once, in one real pytest session with a
real sandbox (hidden and public checks), then once more with the public checks
only; its tests share one xdist group so that a single worker does that work.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tests.checks.grading import Mutant, assert_mutant_caught, grade_sources, reference_source

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Spec:
    """What the tests demand of one assignment's checks."""

    min_mutants: int = 12
    points: tuple[float, float] | None = None  # the reference's max_score must lie in this range
    min_checks: int = 1  # checks, public and hidden
    min_public_checks: int = 1

    @staticmethod
    def mutants_module(aid: str) -> ModuleType:
        return importlib.import_module(f"tests.checks.mutants_{aid}")


SPECS = {
    "a1_rnn": Spec(min_mutants=12, points=(20, 50)),
    "a2_gated": Spec(min_mutants=12, points=(20, 50)),
    "a3_attention": Spec(min_mutants=14, min_checks=20, min_public_checks=5),
    "a4_seq2seq": Spec(min_mutants=12, points=(20, 50)),
    "a5_transformer": Spec(min_mutants=12, min_checks=12, min_public_checks=4),
}


def alternatives(aid: str) -> list[Path]:
    return sorted((HERE / "alternatives" / aid).glob("*.py"))


def mutants(aid: str) -> list[Mutant]:
    return Spec.mutants_module(aid).MUTANTS


def public_caught(aid: str) -> dict[str, set[str]]:
    return Spec.mutants_module(aid).PUBLIC_CAUGHT


def messages(aid: str) -> list[tuple[str, str, list[str]]]:
    return Spec.mutants_module(aid).MESSAGES


@functools.cache
def graded(aid: str) -> dict:
    """Every source of `aid` graded with all checks: {"reference" | "alt:<stem>" | "mutant:<name>": result}."""
    ref = reference_source(aid)
    sources = {"reference": ref}
    sources.update({f"alt:{p.stem}": p.read_text(encoding="utf-8") for p in alternatives(aid)})
    sources.update({f"mutant:{m.name}": m.apply(ref) for m in mutants(aid)})
    return grade_sources(aid, sources)


@functools.cache
def graded_public(aid: str) -> dict:
    """The reference and the PUBLIC_CAUGHT mutants graded with the public checks only."""
    ref = reference_source(aid)
    by_name = {m.name: m for m in mutants(aid)}
    sources = {"reference": ref}
    sources.update({f"mutant:{n}": by_name[n].apply(ref) for n in public_caught(aid)})
    return grade_sources(aid, sources, hidden=False)


def _failures(result) -> str:
    bad = [f"{c.name} [{c.status}]: {c.message}" for c in result.checks if c.status != "passed"]
    return f"{result.student}: {result.score}/{result.max_score}" + (f" ({result.error})" if result.error else "") \
        + "".join("\n  " + b for b in bad)


def _params(rows, n_id: int = 2):
    """pytest params, each in its assignment's xdist group (one worker grades an assignment once)."""
    return [pytest.param(*row, id="-".join(str(x) for x in row[:n_id]), marks=pytest.mark.xdist_group(row[0]))
            for row in rows]


ASSIGNMENTS = list(SPECS)
BY_ASSIGNMENT = [pytest.param(a, id=a, marks=pytest.mark.xdist_group(a)) for a in ASSIGNMENTS]


@pytest.mark.parametrize("aid", BY_ASSIGNMENT)
def test_there_are_enough_alternatives_and_mutants(aid):
    names = [m.name for m in mutants(aid)]
    assert len(alternatives(aid)) >= 2
    assert len(names) >= SPECS[aid].min_mutants
    assert len(set(names)) == len(names)
    assert set(public_caught(aid)) <= set(names)
    assert {m for m, _, _ in messages(aid)} <= set(names)


@pytest.mark.parametrize("aid", BY_ASSIGNMENT)
def test_reference_gets_full_marks(aid):
    r = graded(aid)["reference"]
    assert not r.error, r.error
    assert r.score == r.max_score, _failures(r)
    assert len(r.checks) >= SPECS[aid].min_checks
    assert any(c.visibility == "public" for c in r.checks)
    assert any(c.visibility == "hidden" for c in r.checks)
    if SPECS[aid].points:
        lo, hi = SPECS[aid].points
        assert lo <= r.max_score <= hi, r.max_score


@pytest.mark.parametrize("aid, stem", _params([(a, p.stem) for a in ASSIGNMENTS for p in alternatives(a)]))
def test_alternative_gets_full_marks(aid, stem):
    r = graded(aid)[f"alt:{stem}"]
    assert not r.error, r.error
    assert r.score == r.max_score, _failures(r)


@pytest.mark.parametrize("aid, name", _params([(a, m.name) for a in ASSIGNMENTS for m in mutants(a)]))
def test_mutant_is_caught(aid, name):
    mutant = next(m for m in mutants(aid) if m.name == name)
    assert_mutant_caught(mutant, graded(aid)[f"mutant:{name}"])


@pytest.mark.parametrize("aid", BY_ASSIGNMENT)
def test_reference_passes_public_checks(aid):
    r = graded_public(aid)["reference"]
    assert r.checks and all(c.visibility == "public" for c in r.checks)
    assert len(r.checks) >= SPECS[aid].min_public_checks
    assert r.score == r.max_score, _failures(r)


@pytest.mark.parametrize("aid, name", _params([(a, n) for a in ASSIGNMENTS for n in sorted(public_caught(a))]))
def test_public_checks_catch_mutant(aid, name):
    expected = public_caught(aid)[name]
    assert expected, f"{aid}/{name}: PUBLIC_CAUGHT names no check"
    m = next(m for m in mutants(aid) if m.name == name)
    result = graded_public(aid)[f"mutant:{name}"]
    assert all(c.visibility == "public" for c in result.checks)
    assert_mutant_caught(Mutant(m.name, m.patches, fails=expected, note=m.note), result)


@pytest.mark.parametrize("aid, mutant, check, words",
                         _params([(a, *row) for a in ASSIGNMENTS for row in messages(a)], n_id=3))
def test_failure_message_says_what_to_fix(aid, mutant, check, words):
    result = graded(aid)[f"mutant:{mutant}"]
    msg = next((c.message for c in result.checks if c.name == check), None)
    assert msg is not None, f"{aid}: no check named {check}"
    for w in words:
        assert w in msg, f"{aid}: {mutant} / {check}: {w!r} not in the message: {msg}"
