"""A sample of `make mutation` (tests/checks/mutation.py): a few mutants under a few seeds each.

The mutants are among those whose catch depends most on the drawn case (beam search, bidirectional
final states, three layers); the full sweep runs every mutant under 20 seeds.
"""

from __future__ import annotations

import pytest

from tests.checks.mutation import Sweep, close_sandbox, run_seed

SAMPLE = {
    "a2_gated": ("gru_reset_before_matmul", "lstm_h_n_from_last_output", "gru_layers_read_first_output"),
    "a4_seq2seq": ("beam_extends_finished", "beam_state_not_reordered", "greedy_no_stop"),
}
SEEDS = (11, 12, 13)


@pytest.fixture(scope="module")
def sweep():
    try:
        runs = [run_seed(aid, seed, names) for aid, names in SAMPLE.items() for seed in SEEDS]
    finally:
        close_sandbox()
    return Sweep(runs, 0.0)


@pytest.mark.xdist_group("mutation_sample")
def test_sampled_mutants_are_caught_on_every_seed(sweep):
    assert not sweep.failures(), "\n".join(sweep.failures())


@pytest.mark.xdist_group("mutation_sample")
def test_sampled_mutants_are_named_on_every_seed(sweep):
    for r in sweep.runs:
        unnamed = sorted(m for m, how in r.named.items() if how != "exact")
        assert not unnamed, f"{r.aid} seed {r.seed}: not named by the first failing check: {unnamed}"
    assert "| a2_gated | 3 | 3 (100%) |" in sweep.names_table()
