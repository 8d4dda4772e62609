"""The benchmark tools that separate what a change costs: a checkout with another version's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import swap_checks

REPO = Path(__file__).resolve().parents[1]


def _other_checkout(root: Path) -> Path:
    """A stand-in for an older checkout: its own a5 checks, in the layout of the time (no assignments table)."""
    (root / "course").mkdir(parents=True)
    (root / "course" / "course.yaml").write_text("name: old\n", encoding="utf-8")
    (root / "assignments" / "a5_transformer" / "checks").mkdir(parents=True)
    (root / "assignments" / "a5_transformer" / "checks" / "test_public_old.py").write_text("# old public\n")
    hidden = root / "solutions" / "checks" / "a5_transformer"
    hidden.mkdir(parents=True)
    (hidden / "test_old.py").write_text("# old hidden\n")
    (hidden / "bugs.py").write_text("# old catalogue\n")
    return root


def test_the_checks_are_the_other_checkout_s_and_everything_else_is_this_one_s(tmp_path):
    other = _other_checkout(tmp_path / "old")
    out = tmp_path / "out"
    swap_checks.build(other, out, "a5_transformer", keep=["test_parallel_measured.py"])
    hidden = out / "solutions" / "checks" / "a5_transformer"
    assert (out / "assignments" / "a5_transformer" / "checks" / "test_public_old.py").read_text() == "# old public\n"
    assert not (out / "assignments" / "a5_transformer" / "checks" / "test_public_layers.py").exists()
    assert (hidden / "test_old.py").read_text() == "# old hidden\n"
    assert not (hidden / "test_configurations.py").exists()  # this checkout's own checks are gone ...
    mine = REPO / "solutions" / "checks" / "a5_transformer"
    assert (hidden / "test_parallel_measured.py").read_bytes() == (mine / "test_parallel_measured.py").read_bytes()
    assert (hidden / "bugs.py").read_bytes() == (mine / "bugs.py").read_bytes()  # ... but the grader's catalogue
    assert (out / "grader" / "checks" / "parallel.py").read_bytes() == (REPO / "grader/checks/parallel.py").read_bytes()
    assert (out / "solutions" / "transformer.py").is_file()


def test_a_kept_file_that_does_not_exist_is_refused_and_an_existing_folder_is_never_overwritten(tmp_path):
    other = _other_checkout(tmp_path / "old")
    with pytest.raises(SystemExit, match="test_nothing.py"):
        swap_checks.build(other, tmp_path / "out", "a5_transformer", keep=["test_nothing.py"])
    assert not (tmp_path / "out").exists()
    (tmp_path / "taken").mkdir()
    with pytest.raises(SystemExit, match="exists"):
        swap_checks.build(other, tmp_path / "taken", "a5_transformer", keep=[])
