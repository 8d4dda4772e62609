"""The loader that imports a lab's reference module or a learner's file."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.errors import UsageError
from grader.labs.loading import load_lab_modules, load_module, parse_impls, require


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_load_module_imports_a_file_under_the_given_name(tmp_path):
    module = load_module(write(tmp_path / "rnn.py", "ANSWER = 42\n"), "seqgrade_test_answer")
    assert module.ANSWER == 42
    assert module.__name__ == "seqgrade_test_answer"


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(UsageError, match="nope.py: no such file"):
        load_module(tmp_path / "nope.py", "seqgrade_test_missing")


def test_a_file_that_is_not_python_is_refused(tmp_path):
    with pytest.raises(UsageError, match="not a Python file"):
        load_module(write(tmp_path / "rnn.txt", "x = 1\n"), "seqgrade_test_txt")


def test_syntax_error_gives_file_and_line(tmp_path):
    path = write(tmp_path / "gated.py", "import torch\n\ndef f(:\n    pass\n")
    with pytest.raises(UsageError, match=r"gated\.py:3: syntax error"):
        load_module(path, "seqgrade_test_syntax")


def test_exception_while_importing_gives_the_line_in_the_file(tmp_path):
    path = write(tmp_path / "rnn.py", "x = 1\nraise RuntimeError('boom')\n")
    with pytest.raises(UsageError, match=r"rnn\.py:2: importing it raised RuntimeError: boom"):
        load_module(path, "seqgrade_test_raises")


@pytest.mark.parametrize(
    ("impls", "expected"),
    [
        (["x/gated.py"], {"gated": Path("x/gated.py")}),
        (["rnn=mine.py"], {"rnn": Path("mine.py")}),
        (["x/rnn.py", "gated=y/my_gates.py"], {"rnn": Path("x/rnn.py"), "gated": Path("y/my_gates.py")}),
    ],
    ids=["by-file-name", "module-equals-path", "two-files"],
)
def test_parse_impls_maps_files_to_modules(impls, expected):
    assert parse_impls(impls, ("rnn", "gated"), "vanishing") == expected


def test_parse_impls_accepts_any_name_when_the_lab_uses_one_module():
    assert parse_impls(["homework4.py"], ("seq2seq",), "attention") == {"seq2seq": Path("homework4.py")}


def test_parse_impls_says_which_files_a_lab_uses():
    with pytest.raises(UsageError, match=r"uses rnn\.py, gated\.py.*--impl rnn=homework\.py"):
        parse_impls(["homework.py"], ("rnn", "gated"), "vanishing")


def test_parse_impls_refuses_two_files_for_one_module():
    with pytest.raises(UsageError, match="two files for gated.py"):
        parse_impls(["a/gated.py", "gated=b.py"], ("rnn", "gated"), "memory")


def test_without_solutions_the_contract_modules_fall_back_to_torch(tmp_path):
    import torch

    loaded = load_lab_modules(("rnn", "gated", "attention"), tmp_path / "no-solutions")
    assert loaded.sources == {"rnn": "torch.nn", "gated": "torch.nn", "attention": "torch.nn"}
    assert require(loaded, "gated", "LSTM") is torch.nn.LSTM
    mha = require(loaded, "attention", "MultiHeadAttention")(8, 2)
    out, weights = mha(torch.randn(1, 5, 8), torch.randn(1, 5, 8), torch.randn(1, 5, 8))
    assert out.shape == (1, 5, 8) and weights.shape == (1, 2, 5, 5)


def test_seq2seq_has_no_torch_stand_in(tmp_path):
    with pytest.raises(UsageError, match=r"needs seq2seq\.py.*--impl seq2seq\.py"):
        load_lab_modules(("seq2seq",), tmp_path)


def test_impl_replaces_the_reference_and_is_named_in_sources(tmp_path, repo_root):
    mine = write(tmp_path / "gated.py", "from torch.nn import LSTM, GRU\n")
    loaded = load_lab_modules(("rnn", "gated"), repo_root / "solutions", {"gated": mine})
    assert loaded.sources == {"rnn": "solutions/rnn.py", "gated": f"impl: {mine}"}


def test_require_names_the_missing_attribute(tmp_path):
    mine = write(tmp_path / "gated.py", "from torch.nn import LSTM\n")
    loaded = load_lab_modules(("gated",), tmp_path, {"gated": mine})
    with pytest.raises(UsageError, match=r"gated\.py defines no GRU"):
        require(loaded, "gated", "LSTM", "GRU")
