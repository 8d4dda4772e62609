"""Messages that point the right way (issue 12, items 4 and 5), each a test of the message text.

Graded on code written elsewhere, a5 failures from fully masked rows, pad positions and decoding
were reported without their cause, and the GRU long-sequence message pointed a student with a
reset-gate placement bug at the update equation. A function not written yet cost points in
checks that do not need it, and was reported once per check.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.checks.optional import unless_missing
from grader.checks.optional import is_missing
from grader.sandbox.client import SubmissionRaised
from tests.checks.grading import grade_sources, reference_source
from tests.checks.test_assignment_checks import graded

REPO = Path(__file__).resolve().parents[2]
A2 = pytest.mark.xdist_group("a2_gated")
A4 = pytest.mark.xdist_group("a4_seq2seq")
A5 = pytest.mark.xdist_group("a5_transformer")


def _check(result, name):
    return next(c for c in result.checks if c.name == name)


def _first_failure(result):
    return next(c for c in result.checks if c.status != "passed")


# ----------------------------------------------------------------------------- a5: fully masked rows, padding, decoding
@A5
def test_a5_fully_masked_row_names_the_nan_and_the_rule():
    first = _first_failure(graded("a5_transformer")["mutant:float_mask_dead_row_nan"])
    assert first.bug == "float_mask_dead_row_nan"
    assert "fully masked rows" in first.message and "NaN" in first.message
    assert "zero weights" in first.message, first.message


@A5
def test_a5_target_padding_names_the_mask_it_needs():
    first = _first_failure(graded("a5_transformer")["mutant:target_padding_not_masked"])
    assert first.bug == "target_padding_not_masked"
    assert "target pad positions" in first.message and "(tgt_in != pad)" in first.message, first.message


@A5
def test_a5_unknown_difference_at_pad_positions_says_they_are_padding():
    """A bug outside the catalogue: the logits at target pad positions are zeroed. No fingerprint,
    but the message says where the values differ and that those positions are padding."""
    ref = reference_source("a5_transformer")
    old = "        return self.generator(x)  # (B, T, Vt)"
    assert ref.count(old) == 1
    source = ref.replace(old, "        return self.generator(x).masked_fill((tgt_in == 0).unsqueeze(-1), 0.0)")
    result = grade_sources("a5_transformer", {"zeroed_pads": source})["zeroed_pads"]
    msg = _check(result, "test_transformer_values").message
    assert "a pad position of tgt_in" in msg, msg
    assert "first at batch item" in msg and "target position" in msg, msg
    assert not _check(result, "test_transformer_values").bug


@A5
@pytest.mark.parametrize("mutant, words", [
    ("greedy_no_pad_after_eos", ["keeps generating in rows that have finished", "pad (0)"]),
    ("greedy_first_position_logits", ["LAST position's logits"]),
    ("greedy_no_early_stop", ["stops as soon as every row has produced EOS"]),
    ("greedy_includes_bos", ["without BOS"]),
])
def test_a5_decoding_failures_name_their_cause(mutant, words):
    first = _first_failure(graded("a5_transformer")[f"mutant:{mutant}"])
    assert first.bug == mutant, first.message
    for w in words:
        assert w in first.message, first.message


# ----------------------------------------------------------------------------- a2: the GRU on long sequences
def _gru_long_hint() -> str:
    """The check's hint, read from its source (importing a check file outside a grading session is not done)."""
    tree = ast.parse((REPO / "solutions" / "checks" / "a2_gated" / "test_long_sequences.py").read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "HINTS")
    return ast.literal_eval(node.value)["GRU"][0]


def test_gru_long_sequence_hint_does_not_single_out_the_update_equation():
    """A gradient that dies out too fast can come from the reset gate as much as from z: the hint names both."""
    hint = _gru_long_hint()
    assert "r * (W_hn h + b_hn)" in hint and "after the matmul" in hint
    assert hint.index("r * (W_hn h + b_hn)") < hint.index("(1 - z) * n + z * h")


@A2
def test_gru_reset_gate_placement_is_named_on_every_gru_check_it_fails():
    result = graded("a2_gated")["mutant:gru_reset_before_matmul"]
    failed = [c for c in result.checks if c.status != "passed"]
    assert failed
    for c in failed:
        assert c.bug == "gru_reset_before_matmul", f"{c.name}: {c.message}"
        assert c.message.startswith("Known bug: your GRU applies the reset gate before W_hn"), c.message
    long_seq = _check(result, "test_gru_long_sequence")
    if long_seq.status != "passed":
        assert "r * (W_hn h + b_hn)" in long_seq.message.split("Details:")[0]


# ----------------------------------------------------------------------------- item 4: a function not written yet
def _without(source: str, method: str, signature_end: str) -> str:
    """`source` with `method`'s body replaced by the starter's TODO (NotImplementedError)."""
    at = source.index(f"    def {method}(")
    body = source.index(signature_end, at) + len(signature_end)
    return source[:body] + f'\n        raise NotImplementedError("TODO: Seq2Seq.{method}")' + source[body:]


@A4
def test_missing_beam_search_is_reported_once_and_costs_only_the_checks_that_need_it():
    ref = reference_source("a4_seq2seq")
    source = _without(ref, "beam_search", '"""The best of ``beam_size`` hypotheses per row: ``src [B,S]`` -> tokens '
                                          '``[B, <=max_len]``."""')
    full = graded("a4_seq2seq")["reference"]
    result = grade_sources("a4_seq2seq", {"no_beam": source})["no_beam"]
    failed = [c for c in result.checks if c.status != "passed"]
    assert failed, "a missing beam_search must cost the beam search checks"
    for c in result.checks:
        if c.name.startswith("test_shapes") or c.name == "test_public_shapes":
            assert c.status == "passed", f"{c.name} does not need beam_search: {c.message}"
    first = [c for c in failed if "Seq2Seq.beam_search is not written yet" in c.message]
    assert len(first) == 1, [c.message for c in failed]
    for c in failed:
        if c is not first[0]:
            assert f"needs Seq2Seq.beam_search, which is not written yet (reported in {first[0].name})" in c.message, \
                c.message
    lost = {c.name for c in failed}
    assert result.score == full.max_score - sum(c.max_score for c in full.checks if c.name in lost)


def test_unless_missing_skips_only_a_missing_function():
    stub = SubmissionRaised("NotImplementedError", "TODO: Seq2Seq.beam_search", "seq2seq.py:300 in beam_search")
    absent = SubmissionRaised("AttributeError", "'Seq2Seq' object has no attribute 'beam_search'", "")
    other = SubmissionRaised("RuntimeError", "shapes cannot be multiplied", "seq2seq.py:310 in beam_search")
    for exc in (stub, absent):
        with unless_missing("beam_search"):
            raise exc
    with pytest.raises(SubmissionRaised):
        with unless_missing("beam_search"):
            raise other
    assert not is_missing("AttributeError", "'Seq2Seq' object has no attribute 'beam_search'", "", ("greedy_decode",))
    assert not is_missing("AttributeError", "'Tensor' object has no attribute 'foo'", "seq2seq.py:3 in f")
