"""Grading: one pytest session of checks over a stream of submissions, locally or in a pool."""
