"""Cases shared by the hidden a5_transformer checks (not a check file itself).

Check files cannot import a sibling (pytest runs with --import-mode=importlib),
so each loads this file with `grader.checks.load_cases(__file__)`.
"""

from __future__ import annotations


def decoding_state(d, m):
    """A state_dict for `m` whose greedy outputs vary from row to row and step to step: perturbed weights,
    LayerNorms that are not the identity, a generator with a wide spread of logits, and a pad token that is
    never emitted (a trained model does not emit it)."""
    st = d.perturb_state(m, 0.5)
    for k in st:
        if ".norm" in k and k.endswith("weight"):
            st[k] = 1 + d.uniform(*st[k].shape, lo=-0.3, hi=0.3)
        elif ".norm" in k and k.endswith("bias"):
            st[k] = st[k] * 0.2
    st["generator.weight"] = d.uniform(*st["generator.weight"].shape, lo=-2.0, hi=2.0)
    st["generator.bias"] = st["generator.bias"] * 0.1
    st["generator.bias"][0] = -50.0
    return st
