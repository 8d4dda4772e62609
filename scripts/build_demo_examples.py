"""Regenerate course/examples/submissions/: the example class `seqgrade demo` grades.

Per assignment, five students:
  alice   correct, written differently from the reference (an alternative implementation)
  bob   realistic bugs (mutants of the reference): one per assignment, two at once in a3_attention
  carol  hostile: a wrong answer that monkeypatches torch's comparisons and prints fake test results
  dave  correct, handed in as a notebook (with a markdown cell and an IPython magic)
  erin   late (the demo stamps erin's files after the due date); correct, except one bug in a2_gated
         that the bug catalogue does not know (so her feedback groups it by function, not by name)

    .venv/bin/python scripts/build_demo_examples.py [OUT]   (default: course/examples/submissions)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.config import load_config  # noqa: E402

BUGS = {  # the bugs bob makes in each assignment (mutants of the reference, applied in this order)
    "a1_rnn": ("whh_untransposed",),
    "a2_gated": ("gru_z_swapped",),
    "a3_attention": ("softmax_wrong_axis", "mask_after_softmax"),
    "a4_seq2seq": ("loss_counts_pad",),
    "a5_transformer": ("encoder_pre_norm",),
}
# erin's one bug, in her own (alternative) code: the LSTM's h' = o * c' without the tanh of the cell state
# (torch: h' = o * tanh(c')). Not in the bug catalogue: nothing names it, her failures share a function.
ERIN_BUGS = {
    "a2_gated": [("return o * torch.tanh(c_new), c_new", "return o * c_new, c_new")],
}

HOSTILE = '''# A hostile submission: wrong answers (zeros), plus tricks that fool graders that run
# tests in the student's own process. seqgrade compares in the trusted process, so it earns nothing.
import sys

import torch
import torch.testing

torch.allclose = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
print("============================= 40 passed in 0.12s =============================")
sys.stdout.flush()


def __getattr__(name):
    """Every class and function the contract asks for, returning zeros."""
    class Zeros(torch.nn.Module):
        def __init__(self, *args, **kwargs):
            super().__init__()

        def forward(self, *args, **kwargs):
            x = next(a for a in args if isinstance(a, torch.Tensor))
            return torch.zeros_like(x, dtype=torch.get_default_dtype())

    return Zeros
'''


def notebook(source: str, title: str) -> dict:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": f"# {title}\nMy solution, written in JupyterHub."},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": "%matplotlib inline"},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [], "source": source},
    ]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "nbformat": 4, "nbformat_minor": 5}


def build(out: Path) -> None:
    import importlib

    shutil.rmtree(out, ignore_errors=True)
    for a in load_config(REPO / "course" / "course.yaml").assignments.values():
        ref = (REPO / "solutions" / a.filename).read_text(encoding="utf-8")
        alts = sorted((REPO / "tests" / "checks" / "alternatives" / a.id).glob("*.py"))
        mutants = {m.name: m for m in importlib.import_module(f"tests.checks.mutants_{a.id}").MUTANTS}
        bob = ref
        for name in BUGS[a.id]:
            bob = mutants[name].apply(bob)
        erin = (alts[1] if len(alts) > 1 else alts[0]).read_text(encoding="utf-8")
        for old, new in ERIN_BUGS.get(a.id, ()):
            assert erin.count(old) == 1, f"erin's bug in {a.id}: {old!r} must occur once"
            erin = erin.replace(old, new)
        files = {
            "alice": (a.filename, alts[0].read_text(encoding="utf-8")),
            "bob": (a.filename, bob),
            "carol": (a.filename, HOSTILE),
            "dave": (f"{a.module}.ipynb", json.dumps(notebook(ref, a.title_en), indent=1)),
            "erin": (a.filename, erin),
        }
        for student, (name, text) in files.items():
            d = out / a.id / student
            d.mkdir(parents=True, exist_ok=True)
            (d / name).write_text(text, encoding="utf-8")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "course" / "examples" / "submissions"
    build(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
