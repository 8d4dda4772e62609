"""Hidden checks, one folder per assignment. Never shipped to students."""
