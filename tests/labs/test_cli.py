"""``seqgrade lab``: options, help, errors, and no torch import until a lab runs."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from grader.cli import cli, main
from grader.labs import LABS
from grader.labs.cli import lab

from .conftest import is_png, read_csv


def test_help_lists_every_lab_and_an_example():
    result = CliRunner().invoke(lab, ["--help"])
    assert result.exit_code == 0
    for name in LABS:
        assert name in result.output
    assert "seqgrade lab vanishing --impl gated.py" in result.output
    for option in ("--impl", "--out", "--course", "--quick"):
        assert option in result.output


def test_top_level_help_lists_lab():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "lab" in result.output


def test_unknown_lab_is_a_usage_error():
    result = CliRunner().invoke(lab, ["nonexistent"])
    assert result.exit_code == 2
    assert "vanishing" in result.output


def test_importing_the_command_does_not_import_torch_or_matplotlib():
    code = "import sys, grader.cli, grader.labs.cli; print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_impl_runs_the_students_file_and_writes_plot_and_csv(tmp_path, repo_root):
    student = tmp_path / "gated.py"
    student.write_text("from torch.nn import LSTM, GRU  # a learner who re-exports torch\n", encoding="utf-8")
    out = tmp_path / "plots"
    result = CliRunner().invoke(
        lab, ["cost", "--quick", "--impl", str(student), "--out", str(out),
              "--course", str(repo_root / "course" / "course.yaml")])
    assert result.exit_code == 0, result.output
    assert f"gated: impl: {student}" in result.output
    assert is_png(out / "cost.png")
    rows = read_csv(out / "cost.csv")
    assert {r["model"] for r in rows} == {"RNN", "GRU", "LSTM"}


def run_main(args):
    """``seqgrade ARGS`` as the console script runs it; the exit code."""
    try:
        main(args)
    except SystemExit as exc:
        return exc.code
    return 0


def test_a_broken_impl_exits_with_the_usage_code_and_the_line(tmp_path, capsys, repo_root):
    student = tmp_path / "rnn.py"
    student.write_text("class RNN:\n    def __init__(self\n", encoding="utf-8")
    code = run_main(["lab", "cost", "--quick", "--impl", str(student), "--out", str(tmp_path),
                     "--course", str(repo_root / "course" / "course.yaml")])
    assert code == 2
    assert f"{student}:2: syntax error" in capsys.readouterr().err


def test_a_student_module_that_fails_when_called_is_reported_with_its_error(tmp_path, capsys, repo_root):
    student = tmp_path / "rnn.py"
    student.write_text("class RNN:\n    def __init__(self, *a, **k):\n        raise NotImplementedError('TODO')\n",
                       encoding="utf-8")
    code = run_main(["lab", "cost", "--quick", "--impl", str(student), "--out", str(tmp_path),
                     "--course", str(repo_root / "course" / "course.yaml")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"RNN(16, 16) failed in impl: {student}: NotImplementedError: TODO" in err


def test_a_course_without_solutions_measures_torchs_modules(tmp_path):
    """A learner's machine has no solutions/: the labs fall back to torch's own RNN and attention."""
    course = tmp_path / "course.yaml"
    course.write_text("name: mine\nroot: .\n", encoding="utf-8")
    out = tmp_path / "plots"
    result = CliRunner().invoke(lab, ["parallel", "--quick", "--course", str(course), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "rnn: torch.nn; attention: torch.nn" in result.output
    assert is_png(out / "parallel.png")
