"""The parallelism checks measured from outside the child fail an honest loop, and pass a correct implementation.

`measured_growth` decides a pass on one timed call per configuration and measures a suspicious growth
again (the fastest of REPEATS counted calls) before it reports anything. These tests hold both halves:
a plain loop over positions, heads or source positions, with no tampering, fails the measured check with
its own message (not as tampering: its counts grow too), and the reference, graded in the same session,
passes every one of them.
"""

from __future__ import annotations

import pytest

from tests.checks import mutants_a3_attention, mutants_a4_seq2seq, mutants_a5_transformer
from tests.checks.grading import grade_sources, reference_source

CASES = [
    ("a3_attention", mutants_a3_attention, "sdpa_loop_over_positions", "test_sdpa_parallel_measured",
     "grew by"),
    ("a3_attention", mutants_a3_attention, "mha_loop_over_heads", "test_mha_parallel_measured", "loops over heads"),
    ("a4_seq2seq", mutants_a4_seq2seq, "attn_loop_over_source", "test_attention_decoder_parallel_measured",
     "loops over source positions"),
    ("a5_transformer", mutants_a5_transformer, "encoder_ffn_loop_over_positions",
     "test_encoder_layer_parallel_measured", "loops over positions"),
]


@pytest.mark.parametrize("assignment,mutants,mutant,check,words", CASES, ids=[c[2] for c in CASES])
def test_an_honest_loop_fails_the_measured_check_and_the_reference_passes(assignment, mutants, mutant, check,
                                                                         words):
    m = next(x for x in mutants.MUTANTS if x.name == mutant)
    ref = reference_source(assignment)
    results = grade_sources(assignment, {"loop": m.apply(ref), "reference": ref})
    got = {c.name: c for c in results["loop"].checks}[check]
    assert got.status == "failed", (got.status, got.message)
    assert "measured from outside your process" in got.message and words in got.message, got.message
    assert not any(f.kind == "tampering" for f in results["loop"].flags), results["loop"].flags
    passed = {c.name: c for c in results["reference"].checks}[check]
    assert passed.status == "passed", passed.message


# Burning CPU time does not hide a loop: spent on every call alike, it cancels out of the growth (big minus
# base); spent on the small configuration only, the big call is still far slower than a correct one's.
SPIN = '''
import time as _time
_looped_sdpa = scaled_dot_product_attention


def scaled_dot_product_attention(query, key, value, *args, **kwargs):
    if {when}:
        end = _time.thread_time() + 0.04
        while _time.thread_time() < end:
            pass
    return _looped_sdpa(query, key, value, *args, **kwargs)
'''


@pytest.mark.parametrize("when", ["True", "query.size(-2) <= 8 and query.size(0) <= 8"],
                         ids=["on_every_call", "on_the_small_configuration"])
def test_cpu_burnt_to_hide_a_loop_does_not_hide_it(when):
    loop = next(x for x in mutants_a3_attention.MUTANTS if x.name == "sdpa_loop_over_positions")
    ref = reference_source("a3_attention")
    results = grade_sources("a3_attention", {"spin": loop.apply(ref) + SPIN.format(when=when), "reference": ref})
    got = {c.name: c for c in results["spin"].checks}["test_sdpa_parallel_measured"]
    assert got.status != "passed" and "measured from outside your process" in got.message, (got.status, got.message)
    assert results["reference"].score == results["reference"].max_score


# A repeated measurement must not be of the same inputs: a child that remembers its answers pays for the loop
# once, and any "fastest of several calls" on the same inputs would then time the cache, not the loop. On a
# cache hit it runs one tensor operation, so the counters see work.
MEMO = '''
_looped_sdpa = scaled_dot_product_attention
_answers = {}


def scaled_dot_product_attention(query, key, value, *args, **kwargs):
    k = (query.numpy().tobytes(), key.numpy().tobytes(), value.numpy().tobytes(), tuple(query.shape), repr(args),
         repr(sorted(kwargs.items())))
    if k not in _answers:
        _answers[k] = _looped_sdpa(query, key, value, *args, **kwargs)
    out, weights = _answers[k]
    return out + 0, weights
'''


def test_a_loop_that_remembers_its_answers_is_not_timed_from_its_cache():
    loop = next(x for x in mutants_a3_attention.MUTANTS if x.name == "sdpa_loop_over_positions")
    ref = reference_source("a3_attention")
    results = grade_sources("a3_attention", {"memo": loop.apply(ref) + MEMO, "reference": ref})
    got = {c.name: c for c in results["memo"].checks}["test_sdpa_parallel_measured"]
    assert got.status != "passed" and "measured from outside your process" in got.message, (got.status, got.message)
    assert results["reference"].score == results["reference"].max_score
