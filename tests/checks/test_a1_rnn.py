"""The a1_rnn checks, tested: the reference and alternative correct implementations get full marks;
every realistic bug (tests/checks/mutants_a1_rnn.py) loses the checks named for it; failure
messages tell a student what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checks.grading import assert_mutant_caught, grade_sources, reference_source
from tests.checks.mutants_a1_rnn import MUTANTS, PUBLIC_MUTANTS

AID = "a1_rnn"
ALTERNATIVES = sorted((Path(__file__).parent / "alternatives" / AID).glob("*.py"))
BY_NAME = {m.name: m for m in MUTANTS}


def _failures(result) -> str:
    bad = [f"{c.name} [{c.status}]: {c.message}" for c in result.checks if c.status != "passed"]
    return "\n".join(bad) or (result.error or "no failing check")


@pytest.fixture(scope="module")
def graded():
    ref = reference_source(AID)
    sources = {"reference": ref}
    sources.update({f"alt:{p.stem}": p.read_text(encoding="utf-8") for p in ALTERNATIVES})
    sources.update({f"mutant:{m.name}": m.apply(ref) for m in MUTANTS})
    return grade_sources(AID, sources)


@pytest.fixture(scope="module")
def graded_public():
    ref = reference_source(AID)
    sources = {"reference": ref}
    sources.update({f"mutant:{n}": BY_NAME[n].apply(ref) for n in PUBLIC_MUTANTS})
    return grade_sources(AID, sources, hidden=False)


def test_there_are_enough_alternatives_and_mutants():
    assert len(ALTERNATIVES) >= 2
    assert len(MUTANTS) >= 12
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


def test_reference_gets_full_marks(graded):
    r = graded["reference"]
    assert r.score == r.max_score, _failures(r)
    assert 20 <= r.max_score <= 45


@pytest.mark.parametrize("path", ALTERNATIVES, ids=[p.stem for p in ALTERNATIVES])
def test_alternative_gets_full_marks(graded, path):
    r = graded[f"alt:{path.stem}"]
    assert r.score == r.max_score, _failures(r)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(graded, mutant):
    assert_mutant_caught(mutant, graded[f"mutant:{mutant.name}"])


def test_reference_passes_public_checks(graded_public):
    r = graded_public["reference"]
    assert r.checks and all(c.visibility == "public" for c in r.checks)
    assert r.score == r.max_score, _failures(r)


@pytest.mark.parametrize("name", sorted(PUBLIC_MUTANTS))
def test_public_checks_catch_mutant(graded_public, name):
    m = BY_NAME[name]
    public = type(m)(m.name, m.patches, fails=PUBLIC_MUTANTS[name], note=m.note)
    assert_mutant_caught(public, graded_public[f"mutant:{name}"])


def _message(graded, mutant, check):
    r = graded[f"mutant:{mutant}"]
    return next(c.message for c in r.checks if c.name == check)


@pytest.mark.parametrize("mutant, check, words", [
    ("whh_untransposed", "test_rnncell_values", ["transpose weight_hh"]),
    ("detached_hidden", "test_rnn_gradients", ["does not flow back", ".detach()"]),
    ("outputs_alias_last_state", "test_rnn_values", ["equals the last one", "in place"]),
    ("bias_hh_missing", "test_rnncell_values", ["missing bias_hh"]),
    ("nonlinearity_ignored", "test_rnncell_relu", ["nonlinearity"]),
    ("reverse_not_rereversed", "test_rnn_bidirectional", ["reverse", "index t"]),
    ("batch_first_output_ignored", "test_rnn_batch_first", ["batch_first=True", "[B, T, D*H]"]),
    ("batch_first_reshape", "test_rnn_batch_independence", ["not reshape"]),
    ("h_n_from_last_output", "test_rnn_bidirectional", ["h_n", "after reading the FIRST step"]),
    ("hx_ignored", "test_rnn_values", ["hx = zeros"]),
    ("hx_rows_direction_major", "test_rnn_multilayer_bidirectional", ["layer * D + direction"]),
    ("runs_backwards_in_time", "test_rnn_causality", ["x_0..x_t"]),
    ("cell_unbatched_not_squeezed", "test_rnncell_shapes", ["unbatched result", "squeeze"]),
    ("whh_untransposed", "test_rnn_values", ["transpose weight_hh"]),
    ("bptt_no_recurrent_term", "test_rnn_backward", ["a_{t+1} W_hh"]),
    ("bptt_no_recurrent_term", "test_rnn_backward_long", ["dies out faster"]),
    ("bptt_dwhh_uses_h_t", "test_rnn_backward", ["h_{t-1}"]),
    ("bptt_tanh_derivative_of_previous_state", "test_rnn_backward", ["1 - h_t^2"]),
    ("bptt_dh0_without_whh", "test_rnn_backward", ["a_0 W_hh"]),
    ("detached_hidden", "test_rnn_long_sequence", ["dies out faster"]),
    ("activation_missing", "test_rnn_long_sequence", ["|h|"]),
])
def test_failure_message_says_what_to_fix(graded, mutant, check, words):
    msg = _message(graded, mutant, check)
    for w in words:
        assert w in msg, f"{mutant} / {check}: {w!r} not in the message: {msg}"
