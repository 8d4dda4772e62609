"""The course on a real JupyterHub, walked through in headless Chromium by three students and the instructor.

The hub is the one `make hub` starts (scripts/hub/localhub.py, in tests/hub/conftest.py), with the
students alice (a correct answer), bob (RNNCell and rnn_step ignore nonlinearity='relu') and mallory
(a hostile notebook: her code prints `HOSTILE` and raises it at import, and she adds a Markdown cell
holding it):

1. each student logs in, fetches a1_rnn from the Assignments tab, pastes her answers into the answer
   cells, runs Validate (alice and bob) and submits; alice also answers and submits the quiz;
2. the instructor collects both in formgrader, runs `seqgrade nbgrader autograde` in a JupyterLab
   terminal, reads each student's score and per-check results in formgrader, grades a quiz answer by
   hand, and generates and releases feedback;
3. each student fetches the feedback and opens it: check names and messages, never hidden test code;
4. neither formgrader nor mallory's feedback runs her script.

Every step leaves a screenshot in test-artifacts/test_course_on_jupyterhub/. The gradebook's student
ids are the hub's user names. The fixture stops the hub and checks by PID that nothing is left.
"""

from __future__ import annotations

import re
import sqlite3

import nbformat
import pytest

from grader.nbgrader.cells import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION
from tests.browser import FAILS_AT_IMPORT, HOSTILE, assert_shown_as_text, no_script_ran, visible_text, wait_for

from .pages import Formgrader, Lab, score_of

pytestmark = pytest.mark.xdist_group("hub")

ASSIGNMENT, NOTEBOOK = "a1_rnn", "rnn"
RELU = 'return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)'
FREE_ANSWER = ("A plain RNN multiplies the gradient by W_hh and tanh' once per step, so it shrinks "
               "geometrically over long distances; gates add a path that keeps it.")


def _answer(source: str) -> str:
    """A reference answer cell as a student would write it: the solution, without nbgrader's markers."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))


def correct(grade_id: str, code: str) -> str:
    return code


def buggy(grade_id: str, code: str) -> str:
    """rnn_step ignores nonlinearity='relu' (so RNNCell and RNN do too)."""
    if grade_id.endswith("rnn_step"):
        assert code.count(RELU) == 1, "the reference changed: rnn_step's relu line is not in it once"
        return code.replace(RELU, "return torch.tanh(pre)")
    return code


def hostile(grade_id: str, code: str) -> str:
    return code + "\n\n\n" + FAILS_AT_IMPORT if grade_id.endswith("rnn_backward") else code


def hidden_test_lines(source_nb, released_nb) -> list[str]:
    """The code lines of the hidden test regions of the instructor's notebook that students never got
    (feedback must show none of them)."""
    given = {line.strip() for cell in released_nb.cells for line in cell.source.splitlines()}
    lines = []
    for cell in source_nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() == BEGIN_HIDDEN:
                inside = True
            elif line.strip() == END_HIDDEN:
                inside = False
            elif inside and len(line.strip()) > 12 and line.strip() not in given:
                lines.append(line.strip())
    assert lines, "the source notebook has no hidden tests"
    return lines


def solution_cells(nb) -> list[tuple[int, str]]:
    return [(i, c.metadata["nbgrader"]["grade_id"]) for i, c in enumerate(nb.cells)
            if c.metadata.get("nbgrader", {}).get("solution")]


def test_course_on_jupyterhub(hub, browser):
    inst, b = hub.inst, browser
    url, quiz = inst.url, inst.quiz
    course = inst.course_dir
    source = nbformat.read(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: _answer(c.source) for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    quiz_source = nbformat.read(course / "source" / quiz / f"{quiz}.ipynb", as_version=4)
    quiz_answers = {c.metadata["nbgrader"]["grade_id"]: _answer(c.source) for c in quiz_source.cells
                    if c.metadata.get("nbgrader", {}).get("solution")}
    full = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in source.cells
            if c.metadata.get("nbgrader", {}).get("grade")}
    hidden = hidden_test_lines(source, nbformat.read(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                                                     as_version=4))
    alice, bob, mallory = hub.user("alice"), hub.user("bob"), hub.user("mallory")

    # ---------------------------------------------------------------- 1. students fetch, answer, validate, submit
    labs: dict[str, Lab] = {}

    def log_in(user: str) -> Lab:
        """`user`'s own browser window, logged in to the hub (the first time) and showing JupyterLab."""
        if b.switch(user):
            labs[user] = Lab(b, url, user, inst.password)
            labs[user].login()
        return labs[user]

    def student_submits(user: str, write, validate: str | None, extra_markdown: str | None = None) -> None:
        lab = log_in(user)
        assert lab.menu_items("Nbgrader") == ["Assignment List"], "a student sees more than the Assignments tab"
        b.shot(f"{user}-lab")
        lab.assignments()
        b.shot(f"{user}-assignments")
        lab.fetch(ASSIGNMENT)
        path = hub.home(user) / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        mine = nbformat.read(path, as_version=4)
        lab.open_notebook(ASSIGNMENT, NOTEBOOK, len(mine.cells))
        expect = {}
        for index, grade_id in solution_cells(mine):
            expect[index] = write(grade_id, answers[grade_id])
            lab.paste(index, expect[index])
        if extra_markdown is not None:  # a Markdown cell of her own, at the end
            lab.add_cell_below(len(mine.cells) - 1, markdown=True)
            lab.paste(len(mine.cells), extra_markdown, markdown=True)
            expect[len(mine.cells)] = extra_markdown
        lab.save(path, expect)
        b.shot(f"{user}-answered")
        if validate is not None:
            result = lab.validate()
            b.shot(f"{user}-validated")
            assert validate in result, f"{user}'s Validate said:\n{result}"
            lab.close_dialog()
        submitted = lab.submit(ASSIGNMENT)
        b.shot(f"{user}-submitted")
        assert ASSIGNMENT in submitted
        if user == alice:  # the quiz as well
            lab.fetch(quiz)
            qpath = hub.home(user) / quiz / f"{quiz}.ipynb"
            qnb = nbformat.read(qpath, as_version=4)
            lab.open_notebook(quiz, quiz, len(qnb.cells))
            qexpect = {}
            for index, grade_id in solution_cells(qnb):
                qexpect[index] = quiz_answers[grade_id]
                lab.paste(index, qexpect[index])
            for index, cell in enumerate(qnb.cells):  # free-text answers: the Markdown cell after a task
                if cell.cell_type == "markdown" and cell.metadata.get("seqgrade", {}).get("question"):
                    qexpect[index] = FREE_ANSWER
                    lab.paste(index, FREE_ANSWER, markdown=True)
            lab.save(qpath, qexpect)
            b.shot(f"{user}-quiz-answered")
            lab.submit(quiz)
            b.shot(f"{user}-quiz-submitted")
        hub.watch()

    student_submits(alice, correct, "Success! Your notebook passes all the tests.")
    student_submits(bob, buggy, "test_public_rnncell_matches_torch")
    student_submits(mallory, hostile, None, extra_markdown=f"My notes {HOSTILE}")

    # ---------------------------------------------------------------- 2. the instructor grades
    lab = log_in(inst.instructor)
    assert {"Assignment List", "Course List", "Formgrader"} <= set(lab.menu_items("Nbgrader"))
    b.shot("instructor-lab")
    fg = Formgrader(lab)
    for item in (ASSIGNMENT, quiz):
        text = fg.collect(item)
        b.shot(f"formgrader-collected-{item}")
        assert "Successfully collected" in text
        fg.close_modal()
    home = hub.home(inst.instructor)
    rc = lab.terminal(f"cd ~/course && {{ seqgrade nbgrader autograde {ASSIGNMENT} && seqgrade nbgrader autograde "
                      f"{quiz}; }} 2>&1 | tee ~/autograde.log; echo ${{PIPESTATUS[0]}} > ~/autograde.rc",
                      home / "autograde.rc", timeout=900)
    b.shot("instructor-terminal-autograde")
    log = (home / "autograde.log").read_text(errors="replace")
    assert rc == 0, f"seqgrade nbgrader autograde failed ({rc}):\n{log[-4000:]}"
    assert "not a readable notebook" not in log, log[-4000:]
    hub.watch()

    # student ids in the gradebook are the hub's user names
    from nbgrader.api import Gradebook

    with sqlite3.connect(inst.hub_dir / "jupyterhub.sqlite") as db:
        hub_users = {row[0] for row in db.execute("select name from users")}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "seqgrade") as gb:
        ids = {s.student_id for s in gb.assignment_submissions(ASSIGNMENT)}
        cells = {s.student_id: {g.name: g.score for g in s.notebooks[0].grades}
                 for s in gb.assignment_submissions(ASSIGNMENT)}
    assert ids == {alice, bob, mallory} and ids <= hub_users

    scores = fg.submissions(ASSIGNMENT, NOTEBOOK)
    b.shot("formgrader-scores")
    total = sum(full.values())
    assert set(scores) == ids
    assert score_of(scores[alice][0]) == (total, total)
    assert 0 < score_of(scores[bob][0])[0] < total
    assert score_of(scores[mallory][0])[0] == 0
    for student in (alice, bob):
        assert score_of(scores[student][0])[0] == pytest.approx(sum(cells[student].values()))

    for student in (alice, bob, mallory):  # formgrader shows seqgrade's score and result for every check
        fg.open_submission(scores[student][1])
        b.shot(f"formgrader-{student}")
        shown = fg.cell_results()
        assert {gid for gid, pts in full.items() if pts > 0} <= set(shown), student
        for grade_id, (score, output) in shown.items():
            assert float(score) == pytest.approx(cells[student][grade_id]), (student, grade_id)
            if full.get(grade_id):
                verdict = "passed" if cells[student][grade_id] == full[grade_id] else "CheckNotPassed"
                assert verdict in output, (student, grade_id, output)
        if student == bob:
            failed = {gid for gid, s in cells[bob].items() if s < full[gid]}
            assert "test_rnn_relu" in failed and "test_rnn_values" not in failed
            assert "nonlinearity" in shown["test_rnn_relu"][1]
        if student == mallory:
            no_script_ran(b.driver, "formgrader, mallory's submission")
            assert_shown_as_text(b.driver)

    # one answer graded by hand: the quiz's free-response answer (a manually graded task cell), half its
    # points, with a comment. Until the quiz has one (the `free` question type), the instructor overrides
    # the score of an autograded question instead.
    quiz_scores = fg.submissions(quiz, quiz)
    fg.open_submission(quiz_scores[alice][1])
    tasks = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in quiz_source.cells
             if c.metadata.get("nbgrader", {}).get("task")}
    graded = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in quiz_source.cells
              if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("points", 0) > 0}
    by_hand, points = next(iter(tasks.items())) if tasks else next(iter(graded.items()))
    comment = "Graded by hand in the browser test." if tasks else None
    if tasks:
        assert FREE_ANSWER in visible_text(b.driver), "alice's free-text answer is not in formgrader"
    fg.grade_by_hand(by_hand, points / 2, comment)

    def recorded() -> bool:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "seqgrade") as gb:
            grade = gb.find_grade(by_hand, quiz, quiz, alice)
            comments = [c.manual_comment for c in gb.find_submission_notebook(quiz, quiz, alice).comments]
            return grade.manual_score == points / 2 and (comment is None or comment in comments)

    wait_for(recorded, 60, f"formgrader to save {by_hand}'s score graded by hand")
    b.shot("formgrader-quiz-graded-by-hand")

    for item in (ASSIGNMENT, quiz):
        fg.generate_feedback(item)
        b.shot(f"formgrader-feedback-generated-{item}")
        fg.close_modal()
        fg.release_feedback(item)
        b.shot(f"formgrader-feedback-released-{item}")
        fg.close_modal()
    hub.watch()

    # ---------------------------------------------------------------- 3. students read their feedback
    def read_feedback(user: str, item: str, notebook: str) -> str:
        lab = log_in(user)
        if not b.driver.current_url.startswith(f"{lab.base}/lab"):
            b.driver.get(f"{lab.base}/lab")
            lab.lab_ready()
        lab.fetch_feedback(item)
        b.shot(f"{user}-feedback-fetched-{item}")
        pages = sorted((hub.home(user) / item / "feedback").glob(f"*/{notebook}.html"))
        assert len(pages) == 1, f"{user}'s feedback for {item}: {pages}"
        rel = pages[0].relative_to(hub.home(user))
        b.driver.get(f"{lab.base}/files/{rel}")  # "Open in New Browser Tab"
        b.until(lambda d: d.execute_script("return document.readyState") == "complete", 60, "the feedback page")
        b.shot(f"{user}-feedback-{item}")
        no_script_ran(b.driver, f"{user}'s feedback for {item}")
        text = visible_text(b.driver)
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{user}'s feedback shows hidden test code: {leaked[:3]}"
        hub.watch()
        return text

    text = read_feedback(bob, ASSIGNMENT, NOTEBOOK)
    assert f"Score: {sum(cells[bob].values()):.1f} / {total:.1f}" in text
    assert "test_rnn_relu" in text and "honour the nonlinearity argument" in text
    assert re.search(r"test_rnn_values: passed", text)
    text = read_feedback(alice, ASSIGNMENT, NOTEBOOK)
    assert f"Score: {total:.1f} / {total:.1f}" in text
    text = read_feedback(alice, quiz, quiz)
    assert f"(Score: {points / 2:.1f} / {points:.1f})" in text, "the score graded by hand is not in the feedback"
    assert comment is None or comment in text
    text = read_feedback(mallory, ASSIGNMENT, NOTEBOOK)
    assert_shown_as_text(b.driver)
