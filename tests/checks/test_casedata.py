"""grader.checks.load_cases / load_tensors: helper modules and data files beside a check file."""

import pytest
import torch
from safetensors.torch import save_file

from grader.checks import load_cases, load_tensors
from grader.errors import UsageError


def test_a_helper_is_loaded_once_and_shared_by_every_check_file(tmp_path):
    (tmp_path / "_cases.py").write_text("import itertools\nCOUNTER = itertools.count()\nFIRST = next(COUNTER)\n")
    a = load_cases(tmp_path / "test_a.py")
    b = load_cases(tmp_path / "test_b.py")
    assert a is b
    assert a.FIRST == 0 and next(a.COUNTER) == 1


def test_an_edited_helper_is_a_new_module_never_a_stale_one(tmp_path):
    helper = tmp_path / "_cases.py"
    helper.write_text("VALUE = 1\n")
    assert load_cases(tmp_path / "test_a.py").VALUE == 1
    helper.write_text("VALUE = 2\n")
    assert load_cases(tmp_path / "test_a.py").VALUE == 2


def test_helpers_of_two_courses_with_the_same_name_stay_apart(tmp_path):
    for course, value in (("one", 1), ("two", 2)):
        (tmp_path / course).mkdir()
        (tmp_path / course / "_common.py").write_text(f"VALUE = {value}\n")
    assert load_cases(tmp_path / "one" / "test_x.py", "_common").VALUE == 1
    assert load_cases(tmp_path / "two" / "test_x.py", "_common").VALUE == 2


def test_a_helper_that_raises_is_not_cached(tmp_path):
    (tmp_path / "_cases.py").write_text("raise ValueError('broken helper')\n")
    with pytest.raises(ValueError, match="broken helper"):
        load_cases(tmp_path / "test_a.py")
    with pytest.raises(ValueError, match="broken helper"):
        load_cases(tmp_path / "test_a.py")


def test_a_missing_helper_names_the_check_file(tmp_path):
    with pytest.raises(UsageError, match="test_a.py.*_cases.py"):
        load_cases(tmp_path / "test_a.py")


def test_tensors_come_from_the_data_folder(tmp_path):
    (tmp_path / "data").mkdir()
    save_file({"x": torch.arange(3.0)}, str(tmp_path / "data" / "x.safetensors"))
    assert torch.equal(load_tensors(tmp_path / "test_a.py", "x.safetensors")["x"], torch.arange(3.0))
    with pytest.raises(UsageError, match="seqgrade release"):
        load_tensors(tmp_path / "test_a.py", "missing.safetensors")
