"""Bug fingerprints: name the known bug a failed check's results match.

While a check runs, `RecordingSubmission` keeps a transcript of its remote
calls (what was sent, what came back). When the check fails, the grader
replays the same calls in its own process on each known-bug variant of the
reference (`solutions/checks/<id>/bugs.py`); if every answer the student's
code gave equals a variant's, the message names that bug. Student code is
never run again for it. Public checks are fingerprinted like hidden ones when
the instructor grades; on a student's machine (no reference, no catalogue)
they say where the values first differ and what that position means
(`grader.checks.positions`).

- `transcript`: the recording (`Call`, `RecordingSubmission`);
- `local`: runs recorded calls on a trusted module, answering as the sandbox does;
- `answers`: comparing two answers, and digests of requests;
- `catalogue`: the `Bug` record and the variants built from it;
- `diagnose`: the `Fingerprinter` the grading plugin calls after each check;
- `sources`: where the variants' answers come from (`VariantCode`), and `for_run`;
- `missing`: functions a submission has not written yet, reported once by name.
"""

from .catalogue import Bug

__all__ = ["Bug"]
