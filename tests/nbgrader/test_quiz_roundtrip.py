"""A quiz notebook through nbgrader: plain ``nbgrader autograde`` and ``seqgrade nbgrader autograde`` agree,
and a free answer is graded by hand as formgrader does it.

Submissions are placed as ``nbgrader collect`` leaves them
(``submitted/<student>/<quiz>/<quiz>.ipynb`` and ``timestamp.txt``); the
exchange itself is exercised by test_roundtrip.py. One test, so ``pytest -n 2``
never runs it twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.config import load_config
from grader.quiz.loader import load_quiz
from grader.nbgrader.quiz_notebook import MARK_BEGIN
from grader.quiz.answers import FREE_PLACEHOLDER
from grader.quiz.model import FreeAnswer, MultipleChoice, SingleChoice

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
QUIZ = "q1_rnn_basics"


def run(args: list, cwd: Path, home: Path, ok: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(home), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if ok and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-5000:]}")
    return proc


def scores(course: Path) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "seqgrade") as gb:
        return {s.student_id: {g.name: g.auto_score for g in s.notebooks[0].grades}
                for s in gb.assignment_submissions(QUIZ)}


def place(course: Path, student: str, nb) -> None:
    folder = course / "submitted" / student / QUIZ
    folder.mkdir(parents=True)
    if isinstance(nb, str):
        (folder / f"{QUIZ}.ipynb").write_text(nb, encoding="utf-8")
    else:
        nbformat.write(nb, folder / f"{QUIZ}.ipynb")
    (folder / "timestamp.txt").write_text("2026-09-01 10:00:00.000000 UTC\n", encoding="utf-8")


def test_quiz_round_trip(tmp_path_factory):
    """Both autograders agree on a quiz, partial credit included; seqgrade reads answers without running them."""
    top = tmp_path_factory.mktemp("nbgrader-quiz")
    course, home, marker = top / "course", top / "home", top / "answer-cell-ran.txt"
    home.mkdir()
    run([BIN / "seqgrade", "nbgrader", "init", course, "--course", REPO / "course" / "course.yaml",
         "--quiz", QUIZ, "--exchange", top / "exchange"], REPO, home)
    run([BIN / "nbgrader", "generate_assignment", QUIZ], course, home)
    languages = load_config(REPO / "course" / "course.yaml").languages
    quiz = load_quiz(REPO / "course" / "quizzes" / f"{QUIZ}.yaml", languages)
    multiple = next(q for q in quiz.questions if isinstance(q, MultipleChoice) and len(q.correct_ids) > 1)
    single = next(q for q in quiz.questions if isinstance(q, SingleChoice))
    wrong = next(o.id for o in single.options if not o.correct)
    free = next(q for q in quiz.questions if isinstance(q, FreeAnswer))
    source = nbformat.read(course / "source" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    key = {c.metadata["seqgrade"]["question"]: c.source.split("### BEGIN SOLUTION\n")[1].split("\n###")[0]
           for c in source.cells if "seqgrade" in c.metadata and c.cell_type == "code"}
    alice_text = "Seq2Seq is an encoder-decoder **architecture**; LSTM or GRU cells are its parts. <script>x</script>"
    key[free.id] = alice_text

    # the students' copy shows the free question but neither its rubric nor its model answer
    release = (course / "release" / QUIZ / f"{QUIZ}.ipynb").read_text(encoding="utf-8")
    assert free.prompt.get("en").split("?")[0] in release
    for secret in (MARK_BEGIN, free.rubric[0].text.get("en"), free.model_answer.get("en")[:60]):
        assert secret not in release

    def filled(answers: dict[str, str]):
        nb = nbformat.read(course / "release" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
        for c in nb.cells:
            qid = c.metadata.get("seqgrade", {}).get("question")
            if qid:
                c.source = answers.get(qid, c.source.replace("raise NotImplementedError()", ""))
        return nb

    place(course, "alice", filled(key))
    place(course, "bob", filled({
        multiple.id: f"ANSWERS[{multiple.id!r}] = {sorted(multiple.correct_ids)[:1]!r}",
        single.id: f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
                   f"ANSWERS[{single.id!r}] = {wrong!r}"}))
    run([BIN / "nbgrader", "autograde", QUIZ], course, home)
    plain = scores(course)
    assert plain["alice"][free.id] is None, "a free answer is left for a person to grade"
    assert marker.exists(), "plain nbgrader runs answer cells"
    marker.unlink()
    place(course, "eve", "{ this is not a notebook")
    proc = run([BIN / "seqgrade", "nbgrader", "autograde", QUIZ, "--force"], course, home, ok=False)
    secure = scores(course)

    # both paths agree; alice has every automatic point, and her free answer awaits a grader
    assert plain["alice"] == {"setup-quiz-key": 0.0, **{q.id: None if q is free else q.points for q in quiz.questions}}
    assert secure["alice"] == plain["alice"] and secure["bob"] == plain["bob"]
    # one of several correct options earns part of the points, on both paths
    for path in (plain, secure):
        assert 0 < path["bob"][multiple.id] < multiple.points and path["bob"][single.id] == 0
    # seqgrade reads the value an answer cell assigns; it never runs the cell
    assert not marker.exists()
    # eve's unreadable notebook never reaches nbgrader: it is recorded alone as 0, with the reason, and named;
    # alice and bob are read and recorded
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "eve" in proc.stdout and "not a valid notebook" in proc.stdout and "must not read" in proc.stdout
    assert "alice" not in proc.stderr and "bob" not in proc.stderr, proc.stderr
    assert secure["eve"] and all(v in (None, 0) for v in secure["eve"].values())

    # what formgrader shows the grader: the task with its rubric and model answer, then alice's answer
    graded = nbformat.read(course / "autograded" / "alice" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    task = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == free.id)
    assert task.metadata.nbgrader["task"] and task.metadata.nbgrader["points"] == free.points
    assert MARK_BEGIN in task.source and all(c.text.get("en") in task.source for c in free.rubric)
    answer = graded.cells[graded.cells.index(task) + 1]
    # the student's own Markdown is shown to the grader as text, verbatim, in a fence it cannot close
    assert answer.cell_type == "markdown" and answer.source.startswith("```") and alice_text in answer.source
    assert answer.source.rstrip().endswith("```") and answer.source.count("```") == 2
    assert FREE_PLACEHOLDER not in answer.source

    # graded by hand through nbgrader's gradebook API, as formgrader's grade and comment handlers do
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "seqgrade") as gb:
        grade = gb.find_grade(free.id, QUIZ, QUIZ, "alice")
        assert grade.needs_manual_grade and grade.auto_score is None
        grade = gb.find_grade_by_id(grade.id)
        grade.manual_score = free.points - 1
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        comment = gb.find_comment_by_id(gb.find_comment(free.id, QUIZ, QUIZ, "alice").id)
        comment.manual_comment = "Say why LSTM and GRU cells are used."
        gb.db.commit()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "seqgrade") as gb:
        sub = gb.find_submission_notebook(QUIZ, QUIZ, "alice")
        automatic = sum(q.points for q in quiz.questions if q is not free)
        assert sub.score == automatic + free.points - 1 and not sub.needs_manual_grade
        assert sub.max_score == quiz.max_score
    # and the score lands in nbgrader's export, like every other score
    run([BIN / "nbgrader", "export", "--to", top / "grades.csv"], course, home)
    rows = (top / "grades.csv").read_text(encoding="utf-8").splitlines()
    alice = next(r.split(",") for r in rows if ",alice," in f",{r},")
    header = rows[0].split(",")
    assert float(alice[header.index("raw_score")]) == automatic + free.points - 1
