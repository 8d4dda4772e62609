"""Hostile student text in a real browser: seqgrade's feedback, nbgrader's feedback and formgrader run none of it.

Two hostile students put `HOSTILE` (HTML with ``<img onerror>``, ``<script>``, ``<svg onload>``, an
``<iframe srcdoc>``, a Markdown fence that closes itself, a forged "All checks passed" heading, a
``javascript:`` link and terminal escapes) everywhere they control: what their code prints, the text of
the exceptions it raises (at import: a submission-level error; in RNNCell: each RNNCell check's
message), and, in their notebook, a Markdown cell, a raw cell marked as HTML and an HTML output forged
in the file; on the `seqgrade grade` path, also their folder name.

- (a) ``seqgrade grade`` + ``seqgrade feedback``: the HTML page, and the Markdown file rendered the way
  Jupyter renders Markdown (mistune, raw HTML allowed);
- (b) ``seqgrade nbgrader autograde`` + ``nbgrader generate_feedback``: the feedback HTML;
- (c) formgrader's submission view of those submissions, in a Jupyter server with nbgrader's formgrader.

Each page is checked with `no_script_ran` and shows the payload as text. The same submissions go through
the JupyterHub walk (tests/hub/) as the student "mallory".
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat
import pytest

from grader import escape
from tests.cli._support import REFERENCE, seqgrade, write_class

from . import (FAILS_AT_IMPORT, FAILS_IN_RNNCELL, FORGED_HEADING, HOSTILE, PAYLOADS, assert_shown_as_text, headings,
               no_script_ran, visible_text, wait_for)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ASSIGNMENT = "a1_rnn"
CHECKS = "*rnncell*"  # RNNCell's public and hidden checks: enough to carry the messages, quick to grade
HOSTILE_MD = f"My notes {HOSTILE}"  # a Markdown cell the student adds to the notebook
HOSTILE_FOLDER = PAYLOADS["img"]  # a student folder name (seqgrade grade): any UTF-8 name is a student id
STUDENTS = {"mallory": FAILS_AT_IMPORT, "trudy": FAILS_IN_RNNCELL}

pytestmark = pytest.mark.xdist_group("hostile_views")


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, HOME=str(home), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_CONFIG_PATH", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        env.pop(var, None)
    return env


def run(args: list, cwd: Path, home: Path) -> str:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=_env(home), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, (f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                                  f"{proc.stderr[-5000:]}")
    return proc.stdout + proc.stderr


def check_page(browser, url: str, shot: str) -> None:
    """The page at `url` shows the payload as text, runs none of it and forges no heading."""
    browser.driver.get(url)
    browser.until(lambda d: d.execute_script("return document.readyState") == "complete", 60, "the page")
    browser.shot(shot)
    no_script_ran(browser.driver, shot)
    assert_shown_as_text(browser.driver)
    forged = [h for h in headings(browser.driver) if FORGED_HEADING in h]
    assert not forged, f"{shot}: the student's text became a heading: {forged}"


# --------------------------------------------------------------------------- (a) seqgrade feedback
@pytest.fixture(scope="module")
def seqgrade_feedback(tmp_path_factory) -> Path:
    """`seqgrade grade` + `seqgrade feedback` on the hostile class (and an honest student)."""
    top = tmp_path_factory.mktemp("hostile-seqgrade")
    cfg = top / "course.yaml"
    cfg.write_text(f"name: hostile views\nroot: {REPO}\ngradebook: {top / 'gradebook.db'}\nsecret: test-secret\n"
                   f"assignments:\n  {ASSIGNMENT}: {{module: rnn, due: 2099-01-01T00:00:00+00:00}}\n",
                   encoding="utf-8")
    cls = write_class(top / "class", {**{s: REFERENCE + "\n" + code for s, code in STUDENTS.items()},
                                      HOSTILE_FOLDER: REFERENCE, "alice": REFERENCE})
    proc = seqgrade("grade", ASSIGNMENT, cls, "--course", cfg, "--jobs", "1", "--quiet", timeout=600)
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-4000:]
    out = top / "feedback"
    proc = seqgrade("feedback", "--out", out, "--course", cfg)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return out


def _markdown_page(md: Path) -> Path:
    """`md` rendered as Jupyter renders Markdown (mistune, raw HTML kept), as a page beside it."""
    import mistune

    page = md.with_suffix(".rendered.html")
    body = mistune.html(md.read_text(encoding="utf-8"))
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{md.name}</title></head>"
                    f"<body>{body}</body></html>", encoding="utf-8")
    return page


@pytest.mark.parametrize("student", [*STUDENTS, HOSTILE_FOLDER], ids=[*STUDENTS, "html-folder-name"])
def test_seqgrade_feedback_html(browser, seqgrade_feedback, student):
    page = seqgrade_feedback / escape.path_component(student) / f"{ASSIGNMENT}.html"
    assert page.is_file(), f"no feedback for {student!r}: {sorted(p.name for p in seqgrade_feedback.iterdir())}"
    check_page(browser, page.as_uri(), f"seqgrade-feedback-{student}")
    assert "\x1b" not in visible_text(browser.driver), "a raw terminal escape reached the page"


@pytest.mark.parametrize("student", [*STUDENTS, HOSTILE_FOLDER], ids=[*STUDENTS, "html-folder-name"])
def test_seqgrade_feedback_markdown(browser, seqgrade_feedback, student):
    page = _markdown_page(seqgrade_feedback / escape.path_component(student) / f"{ASSIGNMENT}.md")
    check_page(browser, page.as_uri(), f"seqgrade-feedback-md-{student}")


# --------------------------------------------------------------------------- (b), (c) nbgrader
@pytest.fixture(scope="module")
def nbgrader_course(tmp_path_factory) -> Path:
    """An nbgrader course whose hostile submissions were graded by `seqgrade nbgrader autograde`, with
    nbgrader's feedback generated."""
    top = tmp_path_factory.mktemp("hostile-nbgrader")
    course, home = top / "course", top / "home"
    home.mkdir()
    run([BIN / "seqgrade", "nbgrader", "init", course, "--course", REPO / "course" / "course.yaml",
         "--assignment", ASSIGNMENT, "--checks", CHECKS, "--exchange", top / "exchange"], REPO, home)
    run([BIN / "nbgrader", "generate_assignment", ASSIGNMENT], course, home)
    source = nbformat.read(course / "source" / ASSIGNMENT / "rnn.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for student, code in STUDENTS.items():
        nb = nbformat.read(course / "release" / ASSIGNMENT / "rnn.ipynb", as_version=4)
        last = 0
        for i, cell in enumerate(nb.cells):
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                cell.source, last = answers[meta["grade_id"]], i
        # the hostile code; a Markdown note; a raw cell marked as HTML; an output forged in the file
        forged = nbformat.v4.new_output("display_data", data={"text/html": HOSTILE, "text/plain": "40/40"})
        nb.cells[last + 1:last + 1] = [
            nbformat.v4.new_code_cell(code),
            nbformat.v4.new_markdown_cell(HOSTILE_MD),
            nbformat.v4.new_raw_cell(HOSTILE, metadata={"format": "text/html"}),
            nbformat.v4.new_code_cell("print('all checks passed')", outputs=[forged], execution_count=1),
        ]
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "rnn.ipynb")
        (folder / "timestamp.txt").write_text("2026-09-01 10:00:00.000000 UTC\n", encoding="utf-8")
    run([BIN / "seqgrade", "nbgrader", "autograde", ASSIGNMENT, "--jobs", "1"], course, home)
    run([BIN / "nbgrader", "generate_feedback", ASSIGNMENT], course, home)
    return course


@pytest.mark.parametrize("student", list(STUDENTS))
def test_nbgrader_feedback(browser, nbgrader_course, student):
    page = nbgrader_course / "feedback" / student / ASSIGNMENT / "rnn.html"
    assert page.is_file()
    check_page(browser, page.as_uri(), f"nbgrader-feedback-{student}")


@pytest.fixture(scope="module")
def formgrader(nbgrader_course, tmp_path_factory):
    """A Jupyter server with nbgrader's formgrader over the course: (base URL, token)."""
    home = tmp_path_factory.mktemp("formgrader-home")
    token = secrets.token_hex(16)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen(
        [BIN / "jupyter", "server", "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={nbgrader_course.parent}"],
        cwd=nbgrader_course, env=_env(home), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"jupyter server exited ({proc.returncode}):\n"
                                 + (home / "server.log").read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_for(up, 120, "jupyter server with formgrader")
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.mark.parametrize("student", list(STUDENTS))
def test_formgrader_submission_view(browser, nbgrader_course, formgrader, student):
    from nbgrader.api import Gradebook

    base, token = formgrader
    with Gradebook(f"sqlite:///{nbgrader_course / 'gradebook.db'}", "seqgrade") as gb:
        sub_id = gb.find_submission_notebook("rnn", ASSIGNMENT, student).id
    browser.driver.get(f"{base}/formgrader/manage_assignments?token={token}")  # logs in (a cookie)
    check_page(browser, f"{base}/formgrader/submissions/{sub_id}", f"formgrader-{student}")
    assert browser.driver.find_elements("css selector", ".nbgrader_cell"), "not formgrader's submission view"
