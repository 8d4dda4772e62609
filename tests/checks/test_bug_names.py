"""Failures name their bug: every in-tree mutant's first failing check says which bug it is.

The mutants are graded once per assignment by tests/checks/test_assignment_checks.py (same
xdist group, same process cache); these tests read those results. A bug in an assignment's
catalogue (solutions/checks/<id>/bugs.py) is named by its fingerprint (`CheckResult.bug`); a
bug whose results are right (a loop where the contract wants one batched operation) by the
failing check itself. The same bugs written into differently written correct code
(tests/checks/alternatives/) are named too: a fingerprint compares results, not source.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from tests.checks.bug_keywords import CHECK_NAMED, KEYWORDS
from tests.checks.grading import Mutant, grade_sources
from tests.checks.test_assignment_checks import ASSIGNMENTS, BY_ASSIGNMENT, _params, graded, mutants

REPO = Path(__file__).resolve().parents[2]


def catalogue(aid: str) -> dict:
    return {b.id: b for b in runpy.run_path(str(REPO / "solutions" / "checks" / aid / "bugs.py"))["BUGS"]}


def first_failure(result):
    return next((c for c in result.checks if c.status != "passed"), None)


@pytest.mark.parametrize("aid", BY_ASSIGNMENT)
def test_every_mutant_has_a_keyword(aid):
    names = {m.name for m in mutants(aid)}
    missing = sorted(names - set(KEYWORDS[aid]))
    assert not missing, f"add the words that name these bugs to tests/checks/bug_keywords.py: {missing}"
    assert not set(KEYWORDS[aid]) - names, "keywords of mutants that no longer exist"


@pytest.mark.parametrize("aid", BY_ASSIGNMENT)
def test_catalogue_and_mutants_agree(aid):
    """Each mutant whose results differ from the reference's is in the catalogue, with the same patches."""
    bugs = catalogue(aid)
    for m in mutants(aid):
        if m.name in CHECK_NAMED.get(aid, ()):
            assert m.name not in bugs, f"{m.name} is named by its check; it needs no fingerprint"
            continue
        assert m.name in bugs, (f"add {m.name} to solutions/checks/{aid}/bugs.py (same patches, and what to "
                                "tell a student whose code has this bug)")
        assert bugs[m.name].patches == tuple(tuple(p) for p in m.patches), f"{m.name}: patches differ"
    assert not set(bugs) - {m.name for m in mutants(aid)}, "every catalogue bug needs a mutant that tests it"


@pytest.mark.parametrize("aid, name", _params([(a, m.name) for a in ASSIGNMENTS for m in mutants(a)]))
def test_first_failing_check_names_the_bug(aid, name):
    result = graded(aid)[f"mutant:{name}"]
    first = first_failure(result)
    assert first is not None, f"{name} fails no check"
    assert KEYWORDS[aid][name] in first.message, f"{name}: {first.name} does not name the bug: {first.message}"
    if name not in CHECK_NAMED.get(aid, ()):
        assert first.bug == name, f"{name}: {first.name} names {first.bug!r}: {first.message}"
    named = {c.bug for c in result.checks if c.bug}
    assert named <= {name}, f"{name}: other checks name other bugs: {named}"


@pytest.mark.parametrize("aid", BY_ASSIGNMENT)
def test_correct_code_is_never_given_a_bug(aid):
    for key, result in graded(aid).items():
        if not key.startswith("mutant:"):
            assert not any(c.bug for c in result.checks), key


# The same bugs, written into the alternative correct implementations (other code, same results).
REWRITTEN = {
    "a1_rnn": ("loop_cells", [
        Mutant("whh_untransposed", [("pre = x @ w_ih.T + h @ w_hh.T", "pre = x @ w_ih.T + h @ w_hh")], set()),
    ]),
    "a2_gated": ("per_gate", [
        Mutant("gru_reset_before_matmul", [("n_h = h @ w_hh[2 * H:].T", "n_h = (r * h) @ w_hh[2 * H:].T"),
                                           ("n = torch.tanh(n_x + r * n_h)", "n = torch.tanh(n_x + n_h)")], set()),
        Mutant("gru_z_swapped", [("return n + z * (h - n)", "return h + z * (n - h)")], set()),
    ]),
    "a3_attention": ("bmm_where", [
        Mutant("missing_sqrt_dk", [("scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(E)",
                                    "scores = torch.bmm(q, k.transpose(1, 2))")], set()),
        Mutant("fully_masked_uniform", [
            ('scores = torch.where(keep, scores, torch.full_like(scores, float("-inf")))',
             "scores = torch.where(keep, scores, torch.full_like(scores, -1e9))"),
            ("safe = torch.where(alive, scores, torch.zeros_like(scores))", "safe = scores"),
            ("return torch.where(alive, w, torch.zeros_like(w))", "return w")], set()),
    ]),
    "a4_seq2seq": ("stepwise", [
        Mutant("greedy_no_pad_after_eos", [
            ("                if not done[b]:\n                    rows[b].append(best[b])\n"
             "                    done[b] = best[b] == eos_id",
             "                rows[b].append(best[b])\n                done[b] = done[b] or best[b] == eos_id")],
            set()),
    ]),
    "a5_transformer": ("torch_blocks_float_masks", [
        Mutant("no_embedding_scale", [("return table(tokens) * self.d_model ** 0.5 + pe.unsqueeze(0)",
                                       "return table(tokens) + pe.unsqueeze(0)")], set()),
    ]),
}


@pytest.mark.parametrize("aid", BY_ASSIGNMENT)
def test_bug_written_differently_is_named(aid):
    stem, rewritten = REWRITTEN[aid]
    source = (REPO / "tests" / "checks" / "alternatives" / aid / f"{stem}.py").read_text(encoding="utf-8")
    results = grade_sources(aid, {m.name: m.apply(source) for m in rewritten})
    for m in rewritten:
        first = first_failure(results[m.name])
        assert first is not None, f"{stem} with {m.name} passes every check"
        assert first.bug == m.name, f"{stem} with {m.name}: {first.name} says {first.message}"
        assert KEYWORDS[aid][m.name] in first.message
