"""The a4_seq2seq checks: the reference and two other correct implementations get full marks, every
mutant loses the checks named for its bug, and the failure messages say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checks.grading import assert_mutant_caught, failed_checks, grade_sources, reference_source
from tests.checks.mutants_a4_seq2seq import MUTANTS

ID = "a4_seq2seq"
ALTERNATIVES = sorted((Path(__file__).parent / "alternatives" / ID).glob("*.py"))


@pytest.fixture(scope="module")
def results():
    ref = reference_source(ID)
    sources = {"reference": ref}
    sources.update({f"alt_{p.stem}": p.read_text(encoding="utf-8") for p in ALTERNATIVES})
    sources.update({f"mutant_{m.name}": m.apply(ref) for m in MUTANTS})
    return grade_sources(ID, sources)


def _failures(result) -> str:
    return "\n".join(f"{c.name}: {c.status}: {c.message}" for c in result.checks if c.status != "passed")


def test_alternatives_exist():
    assert len(ALTERNATIVES) >= 2


@pytest.mark.parametrize("student", ["reference"] + [f"alt_{p.stem}" for p in ALTERNATIVES])
def test_correct_implementations_get_full_marks(results, student):
    r = results[student]
    assert r.error is None or r.error == "", r.error
    assert r.score == r.max_score, _failures(r)


def test_points_in_range(results):
    r = results["reference"]
    assert 20 <= r.max_score <= 40, r.max_score
    assert any(c.visibility == "public" for c in r.checks)
    assert any(c.visibility == "hidden" for c in r.checks)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_caught(results, mutant):
    assert_mutant_caught(mutant, results[f"mutant_{mutant.name}"])


def _message(results, mutant: str, check: str) -> str:
    for c in results[f"mutant_{mutant}"].checks:
        if c.name == check:
            return c.message
    raise AssertionError(f"no check {check}")


@pytest.mark.parametrize("mutant, check, words", [
    ("attn_softmax_wrong_axis", "test_public_attention_weights", ["softmax dimension"]),
    ("attn_softmax_wrong_axis", "test_attention_decoder_values", ["softmax dimension"]),
    ("attn_unmasked", "test_attention_decoder_values", ["src_mask"]),
    ("attn_unmasked", "test_public_attention_weights", ["padded", "src_mask"]),
    ("attn_concat_order", "test_attention_decoder_values", ["[context; embedding]"]),
    ("attn_lstm_query_c", "test_attention_decoder_values", ["cell state c"]),
    ("attn_query_after_step", "test_attention_decoder_values", ["before"]),
    ("enc_state_after_padding", "test_encoder_values", ["last real token"]),
    ("enc_outputs_not_zeroed", "test_encoder_values", ["0 at padded positions"]),
    ("loss_counts_pad", "test_sequence_loss", ["pad tokens are counted"]),
    ("loss_nan_all_pad", "test_public_sequence_loss", ["NaN"]),
    ("tf_feeds_targets", "test_public_teacher_forcing", ["earlier step"]),
    ("tf_feeds_targets", "test_seq2seq_values", ["shifted left"]),
    ("tf_shifted_again", "test_public_teacher_forcing", ["do not shift"]),
    ("greedy_includes_bos", "test_greedy_decode", ["BOS"]),
    ("greedy_no_pad_after_eos", "test_decode_format", ["after its EOS"]),
    ("greedy_no_stop", "test_decode_format", ["every row has produced EOS"]),
    ("detached_encoder_outputs", "test_seq2seq_gradients", ["encoder", "detach"]),
    ("dec_ignores_state", "test_decoder_values", ["initial state"]),
    ("dec_ignores_state", "test_public_decoder_vs_torch", ["initial state"]),
    ("beam_returns_last", "test_beam_search", ["best hypothesis"]),
    ("beam_length_normalised", "test_beam_search", ["length normalisation"]),
    ("beam_extends_finished", "test_beam_search", ["only by pad"]),
    ("loss_mean_with_pad", "test_public_sequence_loss", ["ignore"]),
])
def test_failure_messages(results, mutant, check, words):
    msg = _message(results, mutant, check)
    for w in words:
        assert w in msg, f"{mutant} / {check}: {w!r} not in the message: {msg}"


def test_public_checks_alone():
    """The public checks (what students run) pass the reference and catch a few mutants."""
    ref = reference_source(ID)
    picked = [m for m in MUTANTS if m.name in {"loss_nan_all_pad", "attn_softmax_wrong_axis", "greedy_no_pad_after_eos",
                                               "enc_state_after_padding"}]
    res = grade_sources(ID, {"reference": ref, **{m.name: m.apply(ref) for m in picked}}, hidden=False)
    r = res["reference"]
    assert r.score == r.max_score, _failures(r)
    assert all(c.visibility == "public" for c in r.checks)
    for m in picked:
        failed = failed_checks(res[m.name])
        public_expected = {n for n in m.fails if n.startswith("test_public_")}
        assert public_expected and public_expected <= failed, (m.name, failed)
