"""Whatever one submission's files contain, discovery and notebook reading never raise for it.

Property-based (Hypothesis) over notebook JSON and folder contents, on both paths that read
notebooks: `grader.submissions.discover` (grade, check, Dask, the demo) and the nbgrader
autograde reader. The bad submission becomes that student's error; the others are read.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.submissions import discover
from tests.course import ASSIGNMENTS

A1 = ASSIGNMENTS["a1_rnn"]
GOOD = "import torch\n\nclass RNNCell:\n    pass\n"

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
cell_like = st.fixed_dictionaries({}, optional={
    "cell_type": st.sampled_from(["code", "markdown", "raw"]) | json_values,
    "metadata": json_values | st.fixed_dictionaries({"nbgrader": json_values}),
    "source": st.text(max_size=40) | st.lists(st.text(max_size=10), max_size=3) | json_values,
    "outputs": json_values,
})
notebook_like = st.one_of(
    json_values,
    st.fixed_dictionaries({"cells": st.lists(cell_like | json_values, max_size=5)},
                          optional={"metadata": json_values, "nbformat": json_values}),
)
raw_text = st.one_of(
    notebook_like.map(json.dumps),
    st.text(max_size=200),
    st.integers(1, 5000).map(lambda n: '{"cells": ' + "[" * n + "]" * n + "}"),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _class(tmp: Path, text: str) -> Path:
    subs = tmp / "subs"
    if subs.exists():
        import shutil

        shutil.rmtree(subs)
    (subs / "bad").mkdir(parents=True)
    (subs / "bad" / "rnn.ipynb").write_text(text, encoding="utf-8", errors="surrogateescape")
    (subs / "good").mkdir()
    (subs / "good" / "rnn.py").write_text(GOOD, encoding="utf-8")
    return subs


@SETTINGS
@given(text=raw_text)
def test_discovery_never_raises_for_a_students_notebook(tmp_path, text):
    jobs = {j.student: j for j in discover(_class(tmp_path, text), A1)}
    assert jobs["good"].source == GOOD and not jobs["good"].error
    bad = jobs["bad"]
    assert (bad.source is None) == bool(bad.error)  # either a module or a clear error, never both or neither
    if bad.error:
        assert "bad/rnn.ipynb" in bad.error


@SETTINGS
@given(text=raw_text)
def test_the_nbgrader_reader_never_raises_for_a_students_notebook(tmp_path, text):
    from grader.nbgrader.autograde import _read, _Submission

    root = tmp_path / "submitted"
    nb = root / "bad" / "a1_rnn" / "rnn.ipynb"
    nb.parent.mkdir(parents=True, exist_ok=True)
    nb.write_text(text, encoding="utf-8", errors="surrogateescape")
    sub = _Submission("bad", nb)
    _read(sub, root, "a1_rnn", "rnn", "sqlite:///" + str(tmp_path / "gb.db"))
    assert (sub.notebook is None) == bool(sub.error)
    if sub.error:
        assert "bad/a1_rnn/rnn.ipynb" in sub.error


@SETTINGS
@given(names=st.lists(st.text(string.printable + "é\u202e\x1b", min_size=1, max_size=12), max_size=6))
def test_any_folder_names_give_one_job_each_and_never_raise(tmp_path, names):
    import shutil

    subs = tmp_path / "names"
    if subs.exists():
        shutil.rmtree(subs)
    subs.mkdir()
    made = set()
    for n in names:
        if "/" in n or n in (".", "..") or n.startswith(".") or "\x00" in n:
            continue
        try:
            (subs / n).mkdir()
            (subs / n / "rnn.py").write_text(GOOD, encoding="utf-8")
            made.add(n)
        except OSError:
            pass
    if not made:
        return
    jobs = discover(subs, A1)
    assert len(jobs) == len(made)
