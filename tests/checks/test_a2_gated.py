"""The a2_gated checks, tested: the reference and alternative correct implementations get full marks;
every realistic bug (tests/checks/mutants_a2_gated.py) loses the checks named for it; failure
messages tell a student what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checks.grading import assert_mutant_caught, grade_sources, reference_source
from tests.checks.mutants_a2_gated import MUTANTS, PUBLIC_MUTANTS

AID = "a2_gated"
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
    ("lstm_gate_order_ifog", "test_lstmcell_values", ["i, f, o, g", "i, f, g, o"]),
    ("lstm_gate_order_ifog", "test_lstm_values", ["i, f, o, g"]),
    ("lstm_forget_gate_unused", "test_lstmcell_values", ["forget gate is not applied"]),
    ("lstm_cell_state_dropped", "test_lstmcell_values", ["previous cell state is dropped"]),
    ("lstm_cell_state_dropped", "test_lstm_long_sequence", ["dies out faster", "cell state"]),
    ("lstm_cell_not_carried", "test_lstm_long_sequence", ["dies out faster"]),
    ("lstm_cell_not_carried", "test_lstm_values", ["not carried"]),
    ("gru_runs_backwards_in_time", "test_gru_values", ["backwards in time"]),
    ("lstm_tanh_output_gate", "test_lstmcell_values", ["output gate uses tanh"]),
    ("lstm_c_n_returned_as_h_n", "test_lstm_values", ["c_n where h_n belongs"]),
    ("lstm_detached_cell_state", "test_lstm_long_sequence", ["dies out faster"]),
    ("lstm_reverse_not_rereversed", "test_bidirectional", ["reversed time order"]),
    ("lstm_h_n_from_last_output", "test_bidirectional", ["FIRST step"]),
    ("lstm_c0_ignored", "test_lstm_values", ["c0 = zeros"]),
    ("lstmcell_unbatched_not_squeezed", "test_cell_shapes", ["unbatched"]),
    ("gru_reset_before_matmul", "test_grucell_values", ["before the matmul", "r * (W_hn h + b_hn)"]),
    ("gru_b_hn_outside_reset", "test_grucell_values", ["b_hn", "inside"]),
    ("gru_z_swapped", "test_grucell_values", ["z and 1 - z are swapped"]),
    ("gru_z_swapped", "test_gru_long_sequence", ["dies out faster", "(1 - z) * n + z * h"]),
    ("gru_gate_order_zrn", "test_grucell_values", ["z, r, n"]),
    ("gru_bias_hh_missing", "test_gru_values", ["bias_hh is missing"]),
    ("gru_detached_hidden", "test_gru_gradients", ["does not flow back"]),
    ("gru_outputs_alias_last_state", "test_gru_values", ["equals the last one"]),
    ("gru_hx_rows_direction_major", "test_multilayer_bidirectional", ["layer * D + direction"]),
    ("gru_runs_backwards_in_time", "test_causality", ["x_0..x_t"]),
    ("batch_first_output_ignored", "test_batch_first", ["[B, T, D*H]"]),
    ("batch_first_reshape", "test_batch_independence", ["not reshape"]),
    ("deep_layers_input_size_H", "test_parameters", ["D*H"]),
])
def test_failure_message_says_what_to_fix(graded, mutant, check, words):
    msg = _message(graded, mutant, check)
    for w in words:
        assert w in msg, f"{mutant} / {check}: {w!r} not in the message: {msg}"
