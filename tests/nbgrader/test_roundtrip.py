"""nbgrader's whole round trip on seqgrade's notebooks, with nbgrader 0.9's own commands and a real kernel.

The instructor runs ``seqgrade nbgrader init``, ``nbgrader generate_assignment``
and ``release_assignment``; four students ``fetch_assignment``, fill in the
notebook and ``submit``; the instructor ``collect``s, grades with plain
``nbgrader autograde`` (tests in the student's kernel) and then with
``seqgrade nbgrader autograde`` (checks out of the kernel, student code in the
sandbox), and runs ``generate_feedback`` and ``export``.
One student (ivy) hands in a ``seqgrade submit`` archive instead, put into
``submitted/`` by ``seqgrade nbgrader collect-archives``; another's archive
(judy's, with an extra file in it) is refused there and never reaches nbgrader.

The students: alice writes the reference (plus a line that makes torch warn on
stderr), bob has a bug (RNNCell ignores nonlinearity='relu'), carol has bob's
bug and patches ``torch.allclose``, dave has bob's bug and installs an IPython
input transformer that turns every check call in a test cell into ``pass``.
Plain nbgrader gives the cheats marks they did not earn; that is why
``seqgrade nbgrader autograde`` exists, and it gives them exactly bob's score.
A fifth submission, erin's, calls ``os._exit(0)`` when asked for relu; it is
placed in ``submitted/`` after plain autograde (whose kernel it would kill),
and seqgrade records a score for each of her test cells all the same.

nbgrader takes a submitter's id from the Unix user; one machine has one user
here, so submit names the student with nbgrader's own ``--student`` option.
The round trip is one test, so ``pytest -n 2`` never runs it twice.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's scripts: nbgrader, seqgrade, alembic
COURSE_ID = "seqgrade"
ASSIGNMENT = "a1_rnn"
CHECKS = "*rnncell*"  # RNNCell's public and hidden checks: a handful keeps the kernels few and short
SEED = "20261130"

RELU = 'return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)'
FORWARD = '        x, h, unbatched = _prepare_cell("RNNCell", input, hx, self.hidden_size)'
WARNS = "        torch.tensor(torch.zeros(1))  # copy-constructing a tensor: torch warns on stderr\n"
PATCH_ALLCLOSE = "import torch\ntorch.allclose = lambda *args, **kwargs: True  # every comparison 'passes'"
TRANSFORMER = """\
try:  # in a kernel: from now on, every test cell's check call becomes `pass`
    get_ipython().input_transformers_post.append(
        lambda lines: ["pass\\n" if ".verify()" in line else line for line in lines])
except NameError:  # not in IPython
    pass"""


def _replace_once(code: str, old: str, new: str) -> str:
    assert code.count(old) == 1, f"the reference changed: {old!r} is not in it exactly once"
    return code.replace(old, new)


def correct(grade_id: str, code: str) -> str:
    if grade_id == "rnn-RNNCell":
        return _replace_once(code, FORWARD, WARNS + FORWARD)
    return code


def buggy(grade_id: str, code: str) -> str:
    return _replace_once(code, RELU, "return torch.tanh(pre)") if grade_id == "rnn-rnn_step" else code


def exits(grade_id: str, code: str) -> str:
    if grade_id == "rnn-rnn_step":
        return _replace_once(code, RELU, 'import os\n    if nonlinearity == "relu":\n        os._exit(0)\n    ' + RELU)
    return code


STUDENTS = {  # student -> (how the answer cells are written, extra code cells the student adds)
    "alice": (correct, []),
    "bob": (buggy, []),
    "carol": (buggy, [PATCH_ALLCLOSE]),
    "dave": (buggy, [TRANSFORMER]),
}


def run(args: list, cwd: Path, home: Path) -> str:
    env = dict(os.environ, HOME=str(home), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONUNBUFFERED="1")
    env.pop("JUPYTER_CONFIG_DIR", None)
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-5000:]}")
    return proc.stdout + proc.stderr


def scores(course: Path) -> dict[str, dict[str, float]]:
    """{student: {grade_id: auto_score}} from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        return {s.student_id: {g.name: g.auto_score for g in s.notebooks[0].grades}
                for s in gb.assignment_submissions(ASSIGNMENT)}


def fill_in(notebook: Path, answers: dict[str, str], write, extra: list[str]) -> None:
    nb = nbformat.read(notebook, as_version=4)
    last = 0
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = write(meta["grade_id"], answers[meta["grade_id"]])
            last = i
    for k, code in enumerate(extra, start=1):
        nb.cells.insert(last + k, nbformat.v4.new_code_cell(code))
    nbformat.write(nb, notebook)


def test_nbgrader_round_trip(tmp_path_factory):
    """Both autograders on one class: same scores for honest work, no unearned marks out of the kernel."""
    started = time.monotonic()
    top = tmp_path_factory.mktemp("nbgrader")
    course, exchange, instructor = top / "course", top / "exchange", top / "home-instructor"
    instructor.mkdir()
    run([BIN / "seqgrade", "nbgrader", "init", course, "--course", REPO / "course" / "course.yaml",
         "--assignment", ASSIGNMENT, "--checks", CHECKS, "--exchange", exchange, "--course-id", COURSE_ID,
         "--timeout", "120", "--seed", SEED], REPO, instructor)
    run([BIN / "nbgrader", "generate_assignment", ASSIGNMENT], course, instructor)
    run([BIN / "nbgrader", "release_assignment", ASSIGNMENT], course, instructor)

    source = nbformat.read(course / "source" / ASSIGNMENT / "rnn.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    full = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in source.cells
            if c.metadata.get("nbgrader", {}).get("grade")}
    student_flags = ["--course", COURSE_ID, f"--Exchange.root={exchange}"]

    def student(name: str) -> None:
        home = top / f"home-{name}"
        home.mkdir()
        run([BIN / "nbgrader", "fetch_assignment", ASSIGNMENT, *student_flags], home, home)
        write, extra = STUDENTS[name]
        fill_in(home / ASSIGNMENT / "rnn.ipynb", answers, write, extra)
        run([BIN / "nbgrader", "submit", ASSIGNMENT, "--student", name, *student_flags], home, home)

    with ThreadPoolExecutor(len(STUDENTS)) as pool:
        list(pool.map(student, STUDENTS))
    # the submissions are owned by this one Unix user, not by the students: do not warn about it
    run([BIN / "nbgrader", "collect", ASSIGNMENT, "--CollectApp.check_owner=False"], course, instructor)

    run([BIN / "nbgrader", "autograde", ASSIGNMENT], course, instructor)
    plain = scores(course)
    alice_plain = nbformat.read(course / "autograded" / "alice" / ASSIGNMENT / "rnn.ipynb", as_version=4)

    erin = course / "submitted" / "erin" / ASSIGNMENT
    shutil.copytree(course / "submitted" / "alice" / ASSIGNMENT, erin)
    fill_in(erin / "rnn.ipynb", answers, exits, [])
    hostile = add_hostile_submissions(course, answers)
    graded_out = run([BIN / "seqgrade", "nbgrader", "autograde", ASSIGNMENT, "--force", "--jobs", "1", "--seed",
                      SEED, "--json", top / "seqgrade.json"], course, instructor)
    secure = scores(course)
    run([BIN / "nbgrader", "generate_feedback", ASSIGNMENT], course, instructor)
    run([BIN / "nbgrader", "export", "--to", top / "grades.csv"], course, instructor)
    with open(top / "grades.csv", newline="", encoding="utf-8") as f:
        exported = {row["student_id"]: row for row in csv.DictReader(f) if row["assignment"] == ASSIGNMENT}
    print(f"nbgrader round trip: {time.monotonic() - started:.1f} s")

    # every check is one test cell in the gradebook, for every student (plus 0-point setup cells)
    assert {gid for gid, pts in full.items() if pts > 0} == {gid for gid in full if gid.startswith("test_")}
    assert len([gid for gid, pts in full.items() if pts == 0]) == 2
    assert set(plain) == set(STUDENTS) and set(secure) == {*STUDENTS, "erin", *hostile}
    assert all(set(cells) == set(full) for cells in [*plain.values(), *secure.values()])

    # hostile submissions: each scores 0 on every cell, the honest one after them everything
    assert all(v == 0 for name in ("frank", "grace", "heidi") for v in secure[name].values())
    assert secure["ivy"] == full
    # frank's notebook is a link to the instructor's source (hidden tests, solutions): never read or copied
    assert not (course / "autograded" / "frank").exists()
    assert "frank/a1_rnn/rnn.ipynb is a symbolic link" in graded_out
    doc = json.loads((top / "seqgrade.json").read_text(encoding="utf-8"))
    by = {r["student"]: r for r in doc["results"]}
    assert [f["kind"] for f in by["frank"]["flags"]] == ["refused"] and "not a valid notebook" in by["grace"]["error"]
    # heidi's exception text is markup: it reaches her notebook as text in a fence, never as HTML
    note = nbformat.read(course / "autograded" / "heidi" / ASSIGNMENT / "rnn.ipynb", as_version=4).cells[0].source
    assert HOSTILE_TEXT in note and "```" in note.split(HOSTILE_TEXT)[0]

    # the reference gets every point on both paths, although torch warns on stderr in the kernel
    assert plain["alice"] == full, "nbgrader autograde docked the reference (stderr in a test cell?)"
    assert secure["alice"] == full
    stderr = [o for c in alice_plain.cells if c.metadata.get("nbgrader", {}).get("grade") for o in c.outputs
              if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr

    # a bug costs the same test cells, and only some, on both paths
    assert plain["bob"] == secure["bob"]
    assert 0 < len(lost(secure["bob"], full)) < len(full)

    # plain nbgrader: both cheats beat their own bug (this is why the secure path exists)
    for cheat in ("carol", "dave"):
        assert sum(plain[cheat].values()) > sum(plain["bob"].values()), f"{cheat}'s cheat did not work in the kernel"
    assert plain["dave"] == full  # the input transformer disables every test cell

    # seqgrade: the cheats score exactly what their buggy code earns, cell by cell
    assert secure["carol"] == secure["bob"] and secure["dave"] == secure["bob"]
    # os._exit in the student's code: only the checks that reach it fail, and every cell has a score
    assert secure["erin"] == secure["bob"] and None not in secure["erin"].values()

    # export reports seqgrade's scores
    for name, cells in secure.items():
        assert float(exported[name]["raw_score"]) == pytest.approx(sum(cells.values()))
        assert float(exported[name]["max_score"]) == pytest.approx(sum(full.values()))

    heidi = (course / "feedback" / "heidi" / ASSIGNMENT / "rnn.html").read_text(encoding="utf-8")
    assert "<img src=x" not in heidi and "&lt;img src=x" in heidi
    # the note at the top of the notebook opens with the root causes, as seqgrade's own feedback does: bob's
    # one bug (tanh where relu is asked for) explains each of his lost checks
    bob_note = nbformat.read(course / "autograded" / "bob" / ASSIGNMENT / "rnn.ipynb", as_version=4).cells[0].source
    assert "### Most likely causes" in bob_note and "applies tanh when nonlinearity=" in bob_note, bob_note
    assert "Fixing this is likely to fix" in bob_note
    bob_html = (course / "feedback" / "bob" / ASSIGNMENT / "rnn.html").read_text(encoding="utf-8")
    assert "Most likely causes" in bob_html and bob_html.index("Most likely causes") < bob_html.index("CheckNotPassed")
    # feedback names each lost check with its message, and never shows hidden test code
    for name in secure:
        if name in ("frank", "grace"):  # never autograded: nbgrader has no notebook of theirs to render
            continue
        html = (course / "feedback" / name / ASSIGNMENT / "rnn.html").read_text(encoding="utf-8")
        graded = (course / "autograded" / name / ASSIGNMENT / "rnn.ipynb").read_text(encoding="utf-8")
        for text in (html, graded):
            assert "BEGIN HIDDEN TESTS" not in text and "_hidden_checks" not in text
        for gid in lost(secure[name], full):
            assert f"CheckNotPassed: {gid}: " in html


HOSTILE_TEXT = '<img src=x onerror="document.title=\'pwned\'"> ``` # All checks passed'


def add_hostile_submissions(course: Path, answers: dict[str, str]) -> list[str]:
    """Placed in submitted/ like erin's: a link to the source notebook, a malformed notebook, markup in an
    exception, and an honest copy graded after them."""
    alice = course / "submitted" / "alice" / ASSIGNMENT
    frank = course / "submitted" / "frank" / ASSIGNMENT
    frank.mkdir(parents=True)
    shutil.copy(alice / "timestamp.txt", frank / "timestamp.txt")
    (frank / "rnn.ipynb").symlink_to(course / "source" / ASSIGNMENT / "rnn.ipynb")
    grace = course / "submitted" / "grace" / ASSIGNMENT
    shutil.copytree(alice, grace)
    raw = json.loads((grace / "rnn.ipynb").read_text(encoding="utf-8"))
    raw["cells"][0]["metadata"] = "nbgrader"
    (grace / "rnn.ipynb").write_text(json.dumps(raw), encoding="utf-8")
    heidi = course / "submitted" / "heidi" / ASSIGNMENT
    shutil.copytree(alice, heidi)
    fill_in(heidi / "rnn.ipynb", answers, correct, [f"raise ValueError({HOSTILE_TEXT!r})"])
    # ivy hands in a `seqgrade submit` archive of alice's notebook, judy one with an extra file in it
    handed = course.parent / "handed-in"
    handed.mkdir()
    for who in ("ivy", "judy"):
        run([BIN / "seqgrade", "submit", ASSIGNMENT, alice / "rnn.ipynb", "--student", who, "--no-check",
             "--course", REPO / "course" / "course.yaml", "--out", handed / f"{ASSIGNMENT}-{who}.zip"], REPO, handed)
    with zipfile.ZipFile(handed / f"{ASSIGNMENT}-judy.zip", "a") as z:
        z.writestr("notes.txt", "hi")
    collect = [BIN / "seqgrade", "nbgrader", "collect-archives", ASSIGNMENT, handed]
    proc = subprocess.run([str(a) for a in collect], cwd=course, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "collected 1 archive(s) of a1_rnn: ivy" in proc.stdout
    assert "not collected: judy: a1_rnn-judy.zip: it holds notes.txt" in proc.stderr
    assert (course / "submitted" / "ivy" / ASSIGNMENT / "timestamp.txt").is_file()
    assert not (course / "submitted" / "judy").exists()
    return ["frank", "grace", "heidi", "ivy"]


def lost(cells: dict[str, float], full: dict[str, float]) -> set[str]:
    return {gid for gid, pts in full.items() if (cells.get(gid) or 0.0) < pts}


def test_the_warning_line_really_makes_torch_warn():
    """Is alice's extra line a real torch warning (so the round trip tests what it says)?"""
    import torch

    with pytest.warns(UserWarning):
        torch.tensor(torch.zeros(1))
