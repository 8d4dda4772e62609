"""What the gradebook turns into: exports, feedback and the class report."""
