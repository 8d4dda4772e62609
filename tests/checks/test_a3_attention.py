"""The a3_attention checks, tested: the reference and independent correct implementations get
full marks, every mutant loses the checks named for its bug, and the messages say what to fix."""

from __future__ import annotations

import pytest

from tests.checks.grading import REPO, assert_mutant_caught, failed_checks, grade_sources, reference_source
from tests.checks.mutants_a3_attention import MUTANTS, PUBLIC_CAUGHT

AID = "a3_attention"
ALTERNATIVES = sorted((REPO / "tests" / "checks" / "alternatives" / AID).glob("*.py"))
BY_NAME = {m.name: m for m in MUTANTS}


@pytest.fixture(scope="module")
def graded():
    ref = reference_source(AID)
    sources = {"reference": ref}
    sources.update({f"alt_{p.stem}": p.read_text(encoding="utf-8") for p in ALTERNATIVES})
    sources.update({f"mutant_{m.name}": m.apply(ref) for m in MUTANTS})
    return grade_sources(AID, sources)


@pytest.fixture(scope="module")
def graded_public():
    ref = reference_source(AID)
    sources = {"reference": ref}
    sources.update({f"mutant_{name}": BY_NAME[name].apply(ref) for name in PUBLIC_CAUGHT})
    return grade_sources(AID, sources, hidden=False)


def _report(result) -> str:
    bad = [f"{c.name} [{c.status}]: {c.message}" for c in result.checks if c.status != "passed"]
    return f"{result.student}: {result.score}/{result.max_score}" + (f" ({result.error})" if result.error else "") + \
        "".join("\n  " + b for b in bad)


def _message(result, check: str) -> str:
    return next(c.message for c in result.checks if c.name == check)


def test_enough_mutants_and_alternatives():
    assert len(MUTANTS) >= 14
    assert len(ALTERNATIVES) >= 2
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


def test_reference_gets_full_marks(graded):
    r = graded["reference"]
    assert r.score == r.max_score, _report(r)
    assert len(r.checks) >= 20


@pytest.mark.parametrize("path", ALTERNATIVES, ids=[p.stem for p in ALTERNATIVES])
def test_alternative_gets_full_marks(graded, path):
    r = graded[f"alt_{path.stem}"]
    assert r.score == r.max_score, _report(r)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(graded, mutant):
    assert_mutant_caught(mutant, graded[f"mutant_{mutant.name}"])


def test_public_checks_pass_on_the_reference(graded_public):
    r = graded_public["reference"]
    assert r.score == r.max_score, _report(r)
    assert all(c.visibility == "public" for c in r.checks)
    assert len(r.checks) >= 5


@pytest.mark.parametrize("name", sorted(PUBLIC_CAUGHT))
def test_public_checks_catch_mutant(graded_public, name):
    failed = failed_checks(graded_public[f"mutant_{name}"])
    assert PUBLIC_CAUGHT[name] <= failed, f"{name}: public checks failed {sorted(failed)}"


@pytest.mark.parametrize("mutant,check,words", [
    ("softmax_wrong_axis", "test_softmax_over_keys", ["over the queries instead of the keys", "softmax dimension"]),
    ("softmax_wrong_axis", "test_sdpa_values", ["softmax dimension"]),
    ("missing_sqrt_dk", "test_sdpa_values", ["not divided by sqrt(d_k)"]),
    ("scale_by_dk", "test_sdpa_values", ["divided by d_k instead of sqrt(d_k)"]),
    ("inverted_mask", "test_mask_convention", ["True = may attend"]),
    ("mask_after_softmax", "test_mask_convention", ["after the softmax"]),
    ("mask_with_zero", "test_mask_convention", ["-inf"]),
    ("fully_masked_nan", "test_fully_masked_rows", ["NaN"]),
    ("fully_masked_uniform", "test_fully_masked_rows", ["uniform"]),
    ("causal_strict", "test_causal_mask", ["off by one"]),
    ("heads_merged_without_transpose", "test_mha_values", ["without transposing back"]),
    ("qkv_chunk_order", "test_mha_values", ["swapped"]),
    ("out_proj_missing", "test_mha_values", ["out_proj is not applied"]),
    ("out_proj_before_merge", "test_mha_values", ["out_proj is applied before the heads are merged"]),
    ("sdpa_loop_over_positions", "test_sdpa_parallel",
     ["the number of tensor operations grows with the sequence length: do not loop over positions"]),
    ("mha_loop_over_heads", "test_mha_parallel", ["grows with the number of heads", "do not loop over heads"]),
    ("mha_in_proj_data", "test_mha_gradients", ["no gradient reached"]),
    ("additive_no_tanh", "test_additive_values", ["no tanh"]),
    ("general_w_transposed", "test_general_values", ["W is transposed"]),
    ("pe_sin_cos_swapped", "test_positional_encoding", ["sin and cos are swapped"]),
    ("pe_exponent_i_over_d", "test_positional_encoding", ["exponent"]),
    ("manual_softmax_overflow", "test_large_scores", ["NaN or inf", "row maximum"]),
])
def test_failure_messages_say_what_to_fix(graded, mutant, check, words):
    msg = _message(graded[f"mutant_{mutant}"], check)
    for w in words:
        assert w in msg, f"{mutant}/{check}: {w!r} not in {msg!r}"
