"""Q&A quizzes written in YAML: the model, checks, per-student variants, grading and rendering.

Light on purpose: importing it never imports torch. Start from
`loader.load_quiz`, `grading.grade_quiz` and `render.render_markdown`;
the format is described in docs/quizzes.md.
"""
