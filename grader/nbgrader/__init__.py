"""seqgrade on nbgrader (JupyterHub): the course as nbgrader notebooks, graded out of the kernel.

`init` writes an nbgrader course folder (`config` for nbgrader_config.py and
seqgrade's manifest, `notebooks` and `quiz_notebook` for the source notebooks,
built from `cells` and packed with `bundle`); `inkernel` is what the notebooks'
test cells run under plain ``nbgrader autograde``; `autograde` grades the same
submissions in seqgrade's sandbox and writes the scores into nbgrader's
gradebook. `cli` is the ``seqgrade nbgrader`` command group.
"""
