"""The check files' `seqgrade_check` marker, known to this test session.

`grader.nbgrader.inkernel` imports check files in the calling process (a
notebook kernel, or these tests). Under pytest's --strict-markers the marker
must be registered, as the grading engine's own pytest session does.
"""


def pytest_configure(config):
    config.addinivalue_line("markers", "seqgrade_check(points, description, timeout): a graded seqgrade check")
