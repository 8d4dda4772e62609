"""Q&A quizzes written in YAML: the model, checks, per-student variants, grading and rendering.

Light on purpose: importing it never imports torch. Start from
`loader.load_quiz`, `grading.grade_quiz` and `render.render_markdown`;
`lint.lint_quiz` measures guessability, and free answers are graded by hand
with `rubric` (what a review means), `reviewstore` (where reviews are kept)
and `review` (the terminal session). The format is described in docs/quizzes.md.
"""
