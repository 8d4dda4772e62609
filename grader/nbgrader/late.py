"""nbgrader's late-penalty step, with the course's one late policy (`grader.late`) and extensions.

``seqgrade nbgrader autograde`` installs it as ``AssignLatePenalties.plugin_class``;
the submission time nbgrader judges is the trusted one seqgrade gave it (see
`grader.times` and docs/security.md), never the student's timestamp.txt.
"""

from __future__ import annotations

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Unicode


class SeqgradeLatePolicy(LateSubmissionPlugin):
    """The penalty (in points) of `grader.late.late_decision` for this student and item."""

    course_config = Unicode("", help="The seqgrade course.yaml whose late policy applies").tag(config=True)
    item = Unicode("", help="The assignment or quiz id").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        from datetime import timedelta, timezone

        from ..config import load_config
        from ..late import late_decision

        cfg = load_config(self.course_config or None)
        due = cfg.due_date(self.item)
        if due is None:
            return None
        if total_seconds_late <= 0:
            return None
        # nbgrader measured lateness against the class's due date (seqgrade nbgrader init wrote it);
        # turn it back into the submission time, which the policy judges against the student's own due date
        submitted = (due + timedelta(seconds=float(total_seconds_late))).astimezone(timezone.utc)
        decision = late_decision(cfg, self.item, student_id, submitted.isoformat())
        return round(score * decision.penalty, 6) if decision.penalty else None
