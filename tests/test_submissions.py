"""Finding a class's submissions: one folder per student, a module or a notebook, bad input named.

`discover` raises only when the folder as a whole cannot be graded; one
student's problem becomes a Job with an error (graded as zero with that
message) so the rest of the class is still graded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.catalog import get_assignment
from grader.submissions import discover, notebook_to_module
from grader.errors import SubmissionsError

A1 = get_assignment("a1_rnn")
A3 = get_assignment("a3_attention")
CODE = "import torch\n\nclass RNNCell:\n    pass\n"


def student(root: Path, name: str, files: dict[str, str | bytes]) -> Path:
    d = root / name
    d.mkdir(parents=True)
    for fname, content in files.items():
        if isinstance(content, bytes):
            (d / fname).write_bytes(content)
        else:
            (d / fname).write_text(content, encoding="utf-8")
    return d


def notebook(*cells: tuple[str, str | list[str]]) -> str:
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": kind, "metadata": {}, "source": src,
                   **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                  for kind, src in cells],
    })


def only(jobs):
    assert len(jobs) == 1, jobs
    return jobs[0]


# -- the folder as a whole ---------------------------------------------------------

def test_missing_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(SubmissionsError, match=r"does not exist") as e:
        discover(tmp_path / "nowhere", A1)
    assert "nowhere" in str(e.value)


def test_a_file_instead_of_a_folder_is_an_error(tmp_path):
    f = tmp_path / "rnn.py"
    f.write_text(CODE)
    with pytest.raises(SubmissionsError, match="is not a folder"):
        discover(f, A1)


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(SubmissionsError, match="no student folders"):
        discover(tmp_path, A1)


@pytest.mark.parametrize("stray", ["rnn.py", "alice.ipynb"], ids=["module", "notebook"])
def test_stray_files_at_the_top_suggest_student_folders(tmp_path, stray):
    (tmp_path / stray).write_text(CODE)
    with pytest.raises(SubmissionsError) as e:
        discover(tmp_path, A1)
    msg = str(e.value)
    assert stray in msg
    assert "folder named after the student" in msg and f"alice/{A1.filename}" in msg


def test_hidden_folders_are_not_students(tmp_path):
    student(tmp_path, ".ipynb_checkpoints", {"rnn.py": CODE})
    student(tmp_path, "alice", {"rnn.py": CODE})
    assert [j.student for j in discover(tmp_path, A1)] == ["alice"]


def test_files_beside_student_folders_are_ignored(tmp_path):
    student(tmp_path, "alice", {"rnn.py": CODE})
    (tmp_path / "roster.csv").write_text("alice\n")
    assert [j.student for j in discover(tmp_path, A1)] == ["alice"]


def test_jobs_come_sorted_by_student(tmp_path):
    for name in ["carol", "alice", "bob"]:
        student(tmp_path, name, {"rnn.py": CODE})
    assert [j.student for j in discover(tmp_path, A1)] == ["alice", "bob", "carol"]


# -- one student's folder ----------------------------------------------------------

def test_module_file_becomes_the_job_source(tmp_path):
    student(tmp_path, "alice", {"rnn.py": CODE})
    job = only(discover(tmp_path, A1))
    assert (job.student, job.module, job.source, job.error) == ("alice", "rnn", CODE, "")
    assert job.filename == "alice/rnn.py"


@pytest.mark.parametrize("assignment,wrong", [(A1, "RNN.py"), (A1, "my_rnn.py"), (A3, "Attention.py")],
                         ids=["a1-uppercase", "a1-prefixed", "a3-uppercase"])
def test_wrongly_named_module_says_rename(tmp_path, assignment, wrong):
    student(tmp_path, "alice", {wrong: CODE})
    job = only(discover(tmp_path, assignment))
    assert job.source is None
    assert f"rename {wrong} to {assignment.filename}" in job.error


def test_unrelated_python_files_are_listed(tmp_path):
    student(tmp_path, "alice", {"main.py": CODE, "helpers.py": CODE})
    job = only(discover(tmp_path, A1))
    assert job.source is None
    assert "no rnn.py" in job.error and "helpers.py" in job.error and "main.py" in job.error


def test_folder_without_python_says_so(tmp_path):
    student(tmp_path, "alice", {"notes.txt": "I did not finish"})
    job = only(discover(tmp_path, A1))
    assert job.source is None
    assert "no rnn.py or notebook in alice/" in job.error and "no Python file" in job.error


def test_empty_student_folder_is_graded_as_missing(tmp_path):
    (tmp_path / "alice").mkdir()
    job = only(discover(tmp_path, A1))
    assert job.source is None and "no Python file" in job.error


def test_module_wins_over_a_notebook(tmp_path):
    student(tmp_path, "alice", {"rnn.py": CODE, "draft.ipynb": notebook(("code", "x = 1"))})
    job = only(discover(tmp_path, A1))
    assert job.source == CODE and job.filename == "alice/rnn.py"


# -- notebooks ---------------------------------------------------------------------

def test_notebook_code_cells_become_the_module(tmp_path):
    nb = notebook(("markdown", "# My RNN\nsome prose"),
                  ("code", ["import torch\n", "x = 1\n"]),
                  ("raw", "raw text"),
                  ("code", "y = x + 1"))
    student(tmp_path, "alice", {"rnn.ipynb": nb})
    job = only(discover(tmp_path, A1))
    assert job.error == "" and job.filename == "alice/rnn.ipynb"
    namespace: dict = {}
    exec(compile(job.source, job.filename, "exec"), namespace)
    assert namespace["y"] == 2
    assert "My RNN" not in job.source and "raw text" not in job.source


@pytest.mark.parametrize("line", ["%matplotlib inline", "%%time", "!pip install torch", "    %timeit f()"],
                         ids=["line-magic", "cell-magic", "shell", "indented-magic"])
def test_notebook_magics_and_shell_lines_are_commented_out(line):
    src = notebook_to_module(notebook(("code", f"if True:\n{line}\n    z = 3\nz = 3")), "nb.ipynb")
    namespace: dict = {}
    exec(compile(src, "nb.ipynb", "exec"), namespace)  # would be a SyntaxError if kept
    assert namespace["z"] == 3
    assert "# (notebook magic) " + line.strip() in src


def test_notebook_with_any_name_is_used(tmp_path):
    student(tmp_path, "alice", {"assignment1 (1).ipynb": notebook(("code", "x = 1"))})
    job = only(discover(tmp_path, A1))
    assert job.error == "" and "x = 1" in job.source


@pytest.mark.parametrize("content,detail", [
    ("{not json", "JSON error at line 1"),
    ('{"cells": 3}', "no list of cells"),
    ("[]", "no list of cells"),
], ids=["not-json", "cells-not-a-list", "not-an-object"])
def test_invalid_notebook_names_the_file(tmp_path, content, detail):
    student(tmp_path, "alice", {"rnn.ipynb": content})
    job = only(discover(tmp_path, A1))
    assert job.source is None
    assert "alice/rnn.ipynb is not a valid notebook" in job.error and detail in job.error


def test_several_notebooks_are_an_error_listing_them(tmp_path):
    student(tmp_path, "alice", {"a.ipynb": notebook(("code", "x = 1")), "b.ipynb": notebook(("code", "x = 2"))})
    job = only(discover(tmp_path, A1))
    assert job.source is None
    assert "several notebooks" in job.error and "a.ipynb" in job.error and "b.ipynb" in job.error


# -- encodings and names -----------------------------------------------------------

def test_non_utf8_folder_name_is_an_error_for_that_student_only(tmp_path):
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"caf\xe9"))
    (Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9"))) / "rnn.py").write_text(CODE)
    student(tmp_path, "alice", {"rnn.py": CODE})
    jobs = {j.student: j for j in discover(tmp_path, A1)}
    assert jobs["alice"].source == CODE
    (bad,) = [j for name, j in jobs.items() if name != "alice"]
    assert bad.source is None
    assert "not valid UTF-8" in bad.error and "rename" in bad.error
    bad.student.encode("utf-8")  # the id stored in the gradebook is valid text


def test_non_utf8_file_content_is_an_error_naming_the_file_and_byte(tmp_path):
    student(tmp_path, "alice", {"rnn.py": b"# caf\xe9\nx = 1\n"})
    job = only(discover(tmp_path, A1))
    assert job.source is None
    assert "alice/rnn.py is not UTF-8 text (byte 5)" in job.error
    assert job.content_hash  # still hashed: a fixed file is noticed as changed


def test_decomposed_unicode_folder_name_is_normalized(tmp_path):
    student(tmp_path, "Jose\u0301", {"rnn.py": CODE})
    assert only(discover(tmp_path, A1)).student == "Jos\u00e9"


def test_ids_differing_only_by_case_are_both_duplicates(tmp_path):
    student(tmp_path, "Alice", {"rnn.py": CODE})
    student(tmp_path, "alice", {"rnn.py": CODE})
    student(tmp_path, "bob", {"rnn.py": CODE})
    jobs = {j.student: j for j in discover(tmp_path, A1)}
    assert set(jobs) == {"Alice", "alice", "bob"}
    for name in ("Alice", "alice"):
        assert jobs[name].source is None
        assert "duplicate student id" in jobs[name].error
        assert "'Alice'" in jobs[name].error and "'alice'" in jobs[name].error
    assert jobs["bob"].source == CODE


# -- content hash ----------------------------------------------

def test_content_hash_changes_with_content_only(tmp_path):
    d = student(tmp_path, "alice", {"rnn.py": CODE})
    student(tmp_path, "bob", {"rnn.py": CODE})
    first = {j.student: j.content_hash for j in discover(tmp_path, A1)}
    assert first["alice"] == first["bob"]  # the same bytes, the same hash
    os.utime(d / "rnn.py", (1_600_000_000, 1_600_000_000))
    assert {j.student: j.content_hash for j in discover(tmp_path, A1)} == first  # touching is not changing
    (d / "rnn.py").write_text(CODE + "# changed\n")
    second = {j.student: j.content_hash for j in discover(tmp_path, A1)}
    assert second["alice"] != first["alice"] and second["bob"] == first["bob"]
