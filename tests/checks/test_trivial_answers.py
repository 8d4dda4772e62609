"""No check awards points for an answer that computes nothing.

The demo's hostile student returns zeros from every contract name (and
monkeypatches torch's comparisons in its own process). Property checks such
as "constant operation count" or "fully masked rows give 0" are satisfied by
zeros too, so each must also demand correct values; this test holds every
assignment's checks, public and hidden, to that.
"""

import pytest

from tests.course import ASSIGNMENTS
from tests.checks.grading import REPO, grade_sources


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS), ids=list(ASSIGNMENTS))
def test_an_all_zeros_submission_scores_nothing(assignment):
    a = ASSIGNMENTS[assignment]
    source = (REPO / "course" / "examples" / "submissions" / a.id / "carol" / a.filename).read_text()
    result = grade_sources(a.id, {"zeros": source}, timeout_cap=5.0)["zeros"]
    earned = [(c.name, c.score) for c in result.checks if c.score > 0]
    assert earned == [], f"checks that reward an all-zeros implementation: {earned}"
    assert result.max_score > 0
