"""Hidden reference solutions, one self-contained file per assignment.

Never shipped to students: `seqgrade release` generates `assignments/` from these
files by clearing every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region.
"""
