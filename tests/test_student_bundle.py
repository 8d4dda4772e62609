"""The student's side from the bundle alone: install, check, quiz, submit; then the instructor grades it.

One test, end to end, with real processes only:

1. the bundle is built from a copy of the course;
2. a fresh virtual environment is created with exactly the commands of the
   bundle's README (torch comes from the pinned version: pip on the test
   machine is configured with a local index holding its CPU build);
3. with nothing of the repository on the path, in the bundle: `seqgrade check`
   from inside an assignment folder, `seqgrade submit` for two students (one
   right, one wrong), `seqgrade quiz take` for a named student typing the
   right answers;
4. from the course copy, the instructor grades the folder of archives and the
   answers file: the right submission and the right answers get full marks
   (the free quiz answer after the grader's review), the wrong one does not.

It costs one torch install into a fresh venv (1.07 GiB; about a minute with
the local torch wheel on a loaded 2-core machine) and one grading run of a1_rnn:
80 to 100 s in all.
`bench/bench_bundle_install.py` measures the install's size and time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader.config import load_config
from grader.quiz.grading import answer_key
from grader.quiz.loader import load_quiz
from grader.quiz.model import FreeAnswer
from grader.release.bundle import build_bundle
from grader.release.readme import install_commands as readme_install_commands

REPO = Path(__file__).resolve().parents[1]
SECRET = "student-bundle-test-secret"
QUIZ = "q2_gated"
MUTANT_TAIL = '''

_original_rnn_forward = RNN.forward


def _shifted(self, *args, **kwargs):
    output, h_n = _original_rnn_forward(self, *args, **kwargs)
    return output + 0.01, h_n


RNN.forward = _shifted
'''


def install_commands(readme: Path) -> list[str]:
    """The commands of the first ```bash block under the README's "## Install" heading."""
    return readme_install_commands(readme.read_text(encoding="utf-8"))


def student_env(home: Path) -> dict[str, str]:
    """A student's environment: nothing of the repository (no PYTHONPATH, no repository venv on PATH)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "SEQGRADE_SECRET", "COLUMNS")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and not Path(p).resolve().is_relative_to(REPO))
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg", HOME=str(home))
    # PyTorch's CPU index is unreachable from the test machine: fail over at once instead of retrying.
    env["PIP_RETRIES"] = "0"
    return env


def run(args, cwd: Path, env: dict[str, str], stdin: str | None = None, timeout: float = 900):
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
                          timeout=timeout)


def typed_answers(quiz, student: str) -> str:
    """The right answers, as a student types them at `quiz take`'s prompts, one line per question."""
    key = answer_key(quiz, student, SECRET)
    lines = []
    for q in quiz.questions:
        value = key[q.id]
        if isinstance(q, FreeAnswer):
            lines.append(" ".join(str(value).split()))
        elif isinstance(value, list):
            lines.append(", ".join(value))
        elif isinstance(value, bool):
            lines.append("true" if value else "false")
        else:
            lines.append(str(value))
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_student_installs_checks_takes_a_quiz_and_submits_and_the_instructor_grades_it(tmp_path):
    from tests.test_release import copy_course

    # 1. the instructor's course and its bundle
    course_root = tmp_path / "course-repo"
    cfg_path = copy_course(course_root)
    cfg = load_config(cfg_path)
    cfg.secret = SECRET
    bundle = build_bundle(cfg, tmp_path / "dist", students=None)
    student_home = tmp_path / "student"
    student_home.mkdir()
    folder = student_home / "seqgrade-student"
    shutil.copytree(bundle.folder, folder)  # what the student unpacked, far from the repository

    # 2. a fresh venv from the README's commands only
    env = student_env(student_home)
    commands = install_commands(folder / "README.md")
    assert len(commands) == 2
    for command in commands:
        r = run(["bash", "-c", command], folder, env, timeout=1500)
        assert r.returncode == 0, f"{command}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    py, seqgrade = folder / ".venv" / "bin" / "python", folder / ".venv" / "bin" / "seqgrade"
    where = run([py, "-c", "import grader, torch; print(grader.__file__); print(torch.__version__)"], folder, env)
    grader_file, torch_version = where.stdout.split()
    assert Path(grader_file).is_relative_to(folder / ".venv") and not Path(grader_file).is_relative_to(REPO)
    assert torch_version.split("+")[0] == bundle.torch and "+cpu" in torch_version

    # 3. the students: check from inside the assignment folder, submit; take a quiz
    work = folder / "assignments" / "a1_rnn"
    reference = (REPO / "solutions" / "rnn.py").read_text(encoding="utf-8")
    (work / "rnn.py").write_text(reference, encoding="utf-8")
    checked = run([seqgrade, "check", "a1_rnn", "rnn.py"], work, env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    submitted = run([seqgrade, "submit", "a1_rnn", "rnn.py", "--student", "alice"], work, env)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    (work / "bob.py").write_text(reference + MUTANT_TAIL, encoding="utf-8")
    bob_check = run([seqgrade, "check", "a1_rnn", "bob.py"], work, env)
    assert bob_check.returncode == 1 and "(sizes used: " in bob_check.stdout, bob_check.stdout + bob_check.stderr
    bob = run([seqgrade, "submit", "a1_rnn", "bob.py", "--student", "bob", "--no-check"], work, env)
    assert bob.returncode == 0, bob.stdout + bob.stderr

    quiz = load_quiz(course_root / "course" / "quizzes" / f"{QUIZ}.yaml")
    taken = run([seqgrade, "quiz", "take", QUIZ, "--student", "alice"], folder, env,
                stdin=typed_answers(quiz, "alice"))
    assert taken.returncode == 0, taken.stdout[-2000:] + taken.stderr
    assert "Try again" not in taken.stdout
    assert "lstm_params" in (folder / "alice.yaml").read_text(encoding="utf-8")

    # 4. the instructor grades what was handed in, from the course repository
    hand_in = tmp_path / "handed-in"
    (hand_in / "a1_rnn").mkdir(parents=True)
    for name in ("a1_rnn-alice.zip", "a1_rnn-bob.zip"):
        shutil.copy(work / name, hand_in / "a1_rnn" / name)
    (hand_in / QUIZ).mkdir()
    shutil.copy(folder / "alice.yaml", hand_in / QUIZ / "alice.yaml")
    teacher = dict(os.environ, SEQGRADE_SECRET=SECRET, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")
    cli = [sys.executable, "-m", "grader.cli"]
    gb = tmp_path / "gradebook.db"
    graded = run(cli + ["grade", "a1_rnn", hand_in / "a1_rnn", "--course", cfg_path, "--gradebook", gb,
                        "--json", tmp_path / "a1.json"], course_root, teacher)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    results = {r["student"]: r for r in json.loads((tmp_path / "a1.json").read_text())["results"]}
    assert set(results) == {"alice", "bob"}
    assert results["alice"]["score"] == results["alice"]["max_score"] > 0 and not results["alice"]["flags"]
    assert results["bob"]["score"] < results["bob"]["max_score"]
    assert any(c["visibility"] == "hidden" for c in results["alice"]["checks"])  # graded with every check

    quiz_graded = run(cli + ["quiz", "grade", QUIZ, hand_in / QUIZ, "--course", cfg_path, "--gradebook", gb,
                             "--json", tmp_path / "q.json"], course_root, teacher)
    assert quiz_graded.returncode == 0, quiz_graded.stdout + quiz_graded.stderr
    free = [q for q in quiz.questions if isinstance(q, FreeAnswer)]
    reviews = {"reviews": {"alice": {q.id: {"met": [c.id for c in q.rubric], "comment": "complete"}
                                     for q in free}}}
    (tmp_path / "reviews.yaml").write_text(yaml.safe_dump(reviews), encoding="utf-8")
    reviewed = run(cli + ["quiz", "review", QUIZ, "--from", tmp_path / "reviews.yaml", "--course", cfg_path,
                          "--gradebook", gb], course_root, teacher)
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    exported = run(cli + ["export", "--format", "json", "--out", tmp_path / "exports", "--course", cfg_path,
                          "--gradebook", gb], course_root, teacher)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    (doc,) = [json.loads(p.read_text()) for p in (tmp_path / "exports").glob("*.json")]
    alice_quiz = next(r for r in doc["results"] if r["student"] == "alice" and r["item"] == QUIZ)
    assert alice_quiz["score"] == alice_quiz["max_score"] == quiz.max_score, \
        [(c["name"], c["status"], c["message"][:200]) for c in alice_quiz["checks"] if c["score"] < c["max_score"]]
