"""seqgrade: a course and auto-grading toolkit for sequence models."""

__version__ = "0.1.0"
