"""What check authors use: the `check` marker, comparisons with helpful messages, draws.

A check is a pytest test function taking some of these fixtures:

- ``sub``: the submission, running in a sandboxed child (`grader.checks.submission`);
- ``ref``: the hidden reference module (hidden checks only);
- ``draw``: random sizes and tensors from the run's seed, the same for every
  submission of one run and different between runs;
- ``once``: ``once(fn)`` calls ``fn(draw)`` the first time only and caches the
  result for every later submission of the run (reference outputs, inputs).

Example::

    @check(points=2, description="RNNCell gives the reference's values")
    def test_rnncell_values(sub, ref, once):
        case = once(lambda d: make_case(d, ref))
        m = sub.new("RNNCell", **case.kwargs, dtype=torch.float64)
        sub.load_state_dict(m, case.state)
        got = sub.call(m, case.x, case.h).value
        assert_close(got, case.expected, "h'")

Helpers shared by an assignment's check files (``_cases.py``, ``_common.py``) and
their data files are loaded with ``load_cases(__file__)`` and
``load_tensors(__file__, "name.safetensors")``: a check file cannot import a sibling.
"""

from .casedata import load_cases, load_tensors
from .compare import CheckFailed, assert_close, assert_grad_close, expect_tensor, expect_tuple, fail, view_hint
from .draw import Draw
from .markers import check
from .optional import unless_missing

__all__ = [
    "CheckFailed", "Draw", "assert_close", "assert_grad_close", "check", "expect_tensor", "expect_tuple",
    "fail", "load_cases", "load_tensors", "unless_missing", "view_hint",
]
