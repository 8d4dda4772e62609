"""The a5_transformer checks, tested: the reference and independent correct implementations get
full marks, every mutant loses the checks named for its bug, and the messages say what to fix."""

from __future__ import annotations

import pytest

from tests.checks.grading import REPO, assert_mutant_caught, failed_checks, grade_sources, reference_source
from tests.checks.mutants_a5_transformer import MUTANTS, PUBLIC_CAUGHT

AID = "a5_transformer"
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
    assert len(MUTANTS) >= 12
    assert len(ALTERNATIVES) >= 2
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


def test_reference_gets_full_marks(graded):
    r = graded["reference"]
    assert r.score == r.max_score, _report(r)
    assert len(r.checks) >= 12


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
    assert len(r.checks) >= 4


@pytest.mark.parametrize("name", sorted(PUBLIC_CAUGHT))
def test_public_checks_catch_mutant(graded_public, name):
    failed = failed_checks(graded_public[f"mutant_{name}"])
    assert PUBLIC_CAUGHT[name] <= failed, f"{name}: public checks failed {sorted(failed)}"


@pytest.mark.parametrize("mutant,check,words", [
    ("encoder_pre_norm", "test_encoder_layer_values", ["pre-norm", "post-norm"]),
    ("encoder_no_ffn_residual", "test_encoder_layer_values", ["no residual connection"]),
    ("decoder_no_relu", "test_decoder_layer_values", ["no ReLU"]),
    ("decoder_norm2_norm3_swapped", "test_decoder_layer_values", ["norm2 and norm3 are swapped"]),
    ("memory_mask_ignored", "test_decoder_layer_values", ["memory_mask is not passed"]),
    ("no_embedding_scale", "test_transformer_values", ["sqrt(d_model)"]),
    ("no_positional_encoding", "test_transformer_values", ["no positional encoding"]),
    ("decoder_not_causal", "test_decoder_causality", ["causal mask"]),
    ("decoder_not_causal", "test_transformer_values", ["not causal"]),
    ("target_padding_not_masked", "test_transformer_values", ["target padding"]),
    ("cross_attention_ignores_source_padding", "test_padding_and_batch_independence", ["source padding"]),
    ("cross_attention_ignores_source_padding", "test_transformer_values", ["cross-attention attends source padding"]),
    ("encoder_ignores_source_padding", "test_transformer_values", ["encoder's self-attention attends source padding"]),
    ("embedding_without_padding_idx", "test_transformer_gradients", ["padding_idx=0"]),
    ("memory_detached", "test_transformer_gradients", ["no gradient reached"]),
    ("greedy_includes_bos", "test_greedy_decode", ["BOS"]),
    ("greedy_no_pad_after_eos", "test_greedy_decode", ["filled with 0"]),
    ("greedy_no_early_stop", "test_greedy_decode", ["stop as soon as every row has"]),
    ("mha_loop_over_heads", "test_layers_parallel", ["grows with the number of heads: do not loop over heads"]),
    ("encoder_ffn_loop_over_positions", "test_layers_parallel",
     ["the number of tensor operations grows with the sequence length: do not loop over positions"]),
])
def test_failure_messages_say_what_to_fix(graded, mutant, check, words):
    msg = _message(graded[f"mutant_{mutant}"], check)
    for w in words:
        assert w in msg, f"{mutant}/{check}: {w!r} not in {msg!r}"
