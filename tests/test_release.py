"""Release: starter code generated from the references, and a student bundle that leaks nothing.

`seqgrade release --check` runs on the repository itself (the committed starter
code must be what the references generate). Everything that writes works on a
copy of the course in a temporary folder.
"""

from __future__ import annotations

import re

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.course import ASSIGNMENTS
from tests.links import broken_links
from grader.config import load_config
from grader.errors import UsageError
from grader.quiz.public import is_question_file, load_question_file
from grader.release.bundle import build_bundle, read_roster
from grader.release.starter import RegionError, clear_solutions, make_starter

REPO = Path(__file__).resolve().parents[1]
SEQGRADE = [sys.executable, "-m", "grader.cli"]
SECRET = "bundle-test-secret-7f3c9e"
WITH_REFERENCE = [a for a in ASSIGNMENTS.values() if (REPO / "solutions" / a.filename).is_file()]
ANSWER_FIELDS = ("answer", "correct", "accept", "patterns", "explanation", "examples", "rubric", "model_answer")


def seqgrade(*args: str, cwd: Path = REPO, env: dict | None = None, timeout: float = 300):
    full_env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **(env or {}))
    full_env["PYTHONPATH"] = str(REPO)
    return subprocess.run(SEQGRADE + list(args), cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def copy_course(dest: Path, with_lessons: bool = True) -> Path:
    """solutions/, assignments/ and course/ copied under `dest`; returns the copied course.yaml."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for name in ("solutions", "assignments"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    (dest / "docs").mkdir()
    shutil.copy(REPO / "docs" / "contract.md", dest / "docs" / "contract.md")
    if with_lessons:
        shutil.copytree(REPO / "course", dest / "course", ignore=ignore)
    else:
        (dest / "course").mkdir()
        shutil.copy(REPO / "course" / "course.yaml", dest / "course" / "course.yaml")
    cfg = dest / "course" / "course.yaml"
    assert "root: .." in cfg.read_text(encoding="utf-8")
    return cfg


# -- the committed tree --------------------------------------------------------------------

def test_release_check_passes_on_the_repository():
    """The committed starter code and public data are what `seqgrade release` generates."""
    r = seqgrade("release", "--check")
    assert r.returncode == 0, f"assignments/ is out of date:\n{r.stdout}\n{r.stderr}"
    assert "is up to date" in r.stdout


@pytest.mark.parametrize("a", WITH_REFERENCE, ids=[a.id for a in WITH_REFERENCE])
def test_committed_starter_equals_the_generated_one(a):
    reference = (REPO / "solutions" / a.filename).read_text(encoding="utf-8")
    committed = (REPO / "assignments" / a.id / a.filename).read_text(encoding="utf-8")
    assert committed == make_starter(reference, a.id, a.filename)


def test_release_check_fails_and_names_a_stale_starter(tmp_path):
    cfg = copy_course(tmp_path, with_lessons=False)
    stale = tmp_path / "assignments" / "a1_rnn" / "rnn.py"
    stale.write_text(stale.read_text(encoding="utf-8") + "\n# edited by hand\n", encoding="utf-8")
    r = seqgrade("release", "--check", "--course", str(cfg))
    assert r.returncode == 1
    assert "out of date: assignments/a1_rnn/rnn.py" in r.stdout
    assert "assignments/a2_gated" not in r.stdout
    assert stale.read_text(encoding="utf-8").endswith("# edited by hand\n")  # --check writes nothing


# -- clearing solution regions -------------------------------------------------------------

GOOD = '''\
import torch


def add(a, b):
    """Add two tensors."""
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION


class Cell:
    def forward(self, x):
        """One step."""
        y = x * 2
        ### BEGIN SOLUTION
        return y + 1
        ### END SOLUTION
'''


def test_clear_solutions_replaces_each_region_with_a_todo_naming_the_function():
    out = clear_solutions(GOOD)
    assert 'raise NotImplementedError("TODO: add")' in out
    assert 'raise NotImplementedError("TODO: Cell.forward")' in out
    assert "return a + b" not in out and "return y + 1" not in out
    assert "BEGIN SOLUTION" not in out and "END SOLUTION" not in out


def test_clear_solutions_keeps_code_outside_regions():
    out = clear_solutions(GOOD)
    assert "        y = x * 2\n" in out and '"""One step."""' in out and "import torch\n" in out


def test_cleared_function_raises_not_implemented_error_naming_it():
    ns: dict = {}
    exec(compile(make_starter(GOOD, "a0_test", "good.py"), "good.py", "exec"), ns)
    with pytest.raises(NotImplementedError, match="TODO: add"):
        ns["add"](1, 2)
    with pytest.raises(NotImplementedError, match=r"TODO: Cell\.forward"):
        ns["Cell"]().forward(3)


@pytest.mark.parametrize("source,line,what", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", 3, "without a '### BEGIN SOLUTION'"),
    ("def f():\n    ### BEGIN SOLUTION\n    x = 1\n    ### BEGIN SOLUTION\n    return x\n"
     "    ### END SOLUTION\n    ### END SOLUTION\n", 4, "inside another (from line 2)"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n    ### END SOLUTION\n", 5,
     "without a '### BEGIN SOLUTION'"),
], ids=["unclosed", "end-without-begin", "nested", "extra-end"])
def test_unbalanced_or_nested_markers_are_errors_with_file_and_line(source, line, what):
    with pytest.raises(RegionError) as e:
        clear_solutions(source, "solutions/broken.py")
    assert str(e.value).startswith(f"solutions/broken.py:{line}:")
    assert what in str(e.value)


def test_region_that_is_not_a_whole_block_fails_to_compile():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    if x:\n    ### END SOLUTION\n        return 1\n"
    with pytest.raises(SyntaxError) as e:
        make_starter(source, "a0_test", "broken.py")
    assert e.value.filename == "broken.py"


def _functions(source: str) -> dict[str, ast.FunctionDef]:
    found: dict[str, ast.FunctionDef] = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if not isinstance(child, ast.ClassDef):
                    found[prefix + child.name] = child
                visit(child, prefix + child.name + ".")

    visit(ast.parse(source), "")
    return found


@pytest.mark.parametrize("a", WITH_REFERENCE, ids=[a.id for a in WITH_REFERENCE])
def test_generated_starter_keeps_every_signature_and_docstring(a):
    reference = (REPO / "solutions" / a.filename).read_text(encoding="utf-8")
    starter = make_starter(reference, a.id, a.filename)
    ref_fns, start_fns = _functions(reference), _functions(starter)
    assert set(ref_fns) == set(start_fns)
    for name, fn in ref_fns.items():
        assert ast.dump(start_fns[name].args) == ast.dump(fn.args), f"{name}: signature changed"
        assert ast.get_docstring(start_fns[name]) == ast.get_docstring(fn), f"{name}: docstring changed"
    assert ast.get_docstring(ast.parse(starter)) == ast.get_docstring(ast.parse(reference))


@pytest.mark.parametrize("a", WITH_REFERENCE, ids=[a.id for a in WITH_REFERENCE])
def test_generated_starter_raises_not_implemented_error_naming_each_function_to_write(a):
    reference = (REPO / "solutions" / a.filename).read_text(encoding="utf-8")
    starter = make_starter(reference, a.id, a.filename)
    n_regions = reference.count("### BEGIN SOLUTION")
    assert n_regions > 0
    todos = [line.strip() for line in starter.splitlines() if "raise NotImplementedError(" in line]
    assert len(todos) == n_regions
    names = set(_functions(starter))
    for todo in todos:
        named = todo.split('"TODO: ', 1)[1].rstrip('")')
        assert named in names, f"{todo} does not name a function of {a.filename}"
    assert "### BEGIN SOLUTION" not in starter and "### END SOLUTION" not in starter


# -- the student bundle --------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """`seqgrade release OUT` on a copy of the course; returns (course copy, bundle folder, zip)."""
    root = tmp_path_factory.mktemp("course")
    cfg = copy_course(root)
    out = tmp_path_factory.mktemp("dist")
    r = seqgrade("release", str(out), "--course", str(cfg), env={"SEQGRADE_SECRET": SECRET})
    assert r.returncode == 0, r.stdout + r.stderr
    return root, out / "seqgrade-student", out / "seqgrade-student.zip"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("a", WITH_REFERENCE, ids=[a.id for a in WITH_REFERENCE])
def test_bundle_holds_the_generated_starter(bundle, a):
    root, folder, _ = bundle
    reference = (root / "solutions" / a.filename).read_text(encoding="utf-8")
    assert (folder / "assignments" / a.id / a.filename).read_text(encoding="utf-8") == \
        make_starter(reference, a.id, a.filename)


@pytest.mark.parametrize("a", list(ASSIGNMENTS.values()), ids=list(ASSIGNMENTS))
def test_bundle_holds_the_readmes(bundle, a):
    _, folder, _ = bundle
    for name in ("README.md", "README.zh.md"):
        if (REPO / "assignments" / a.id / name).is_file():
            assert (folder / "assignments" / a.id / name).read_bytes() == \
                (REPO / "assignments" / a.id / name).read_bytes()
    assert (folder / "README.md").is_file()


def test_bundle_holds_the_contract_the_readmes_link(bundle):
    _, folder, _ = bundle
    # the same text; its links to the instructor's docs (not in the bundle) become plain text
    repo = (REPO / "docs" / "contract.md").read_text(encoding="utf-8")
    unlinked = re.sub(r"\[([^\[\]]+)\]\(writing-checks\.md(#[\w-]*)?\)", r"\1 (in the course repository)", repo)
    assert unlinked != repo
    assert (folder / "docs" / "contract.md").read_text(encoding="utf-8") == unlinked
    readme = (folder / "assignments" / "a1_rnn" / "README.md").read_text(encoding="utf-8")
    assert "](../../docs/contract.md)" in readme


def test_bundle_holds_exactly_the_public_checks(bundle):
    root, folder, _ = bundle
    for a in ASSIGNMENTS.values():
        public = root / "assignments" / a.id / "checks"
        shipped = folder / "assignments" / a.id / "checks"
        if public.is_dir():
            assert _files(shipped) == {k: v for k, v in _files(public).items() if "__pycache__" not in k}
        else:
            assert not shipped.exists()
    assert (folder / "assignments" / "a1_rnn" / "checks").is_dir(), "a1_rnn ships public checks"


def test_bundle_contains_nothing_from_solutions(bundle):
    root, folder, _ = bundle
    secret_files = {p: p.read_bytes() for p in (root / "solutions").rglob("*")
                    if p.is_file() and p.name != "__init__.py" and "__pycache__" not in p.parts}
    assert any("checks" in p.parts for p in secret_files), "the hidden checks are part of what is compared"
    for rel, content in _files(folder).items():
        assert "solutions" not in Path(rel).parts, rel
        for src, secret in secret_files.items():
            assert content != secret, f"{rel} is a copy of {src.relative_to(root)}"


def test_bundle_contains_no_hidden_check_names(bundle):
    root, folder, _ = bundle
    hidden_files = {p.name for p in (root / "solutions" / "checks").rglob("test_*.py")}
    shipped = {p.name for p in folder.rglob("*.py")}
    assert not hidden_files & shipped


def test_bundle_contains_no_solution_marker(bundle):
    _, folder, _ = bundle
    for rel, content in _files(folder).items():
        text = content.decode("utf-8", "replace")
        assert "### BEGIN SOLUTION" not in text, rel
        assert "### BEGIN HIDDEN TESTS" not in text, rel


def test_bundle_does_not_contain_the_course_secret(bundle):
    _, folder, zpath = bundle
    file_secret = yaml.safe_load((REPO / "course" / "course.yaml").read_text(encoding="utf-8"))["secret"]
    for rel, content in _files(folder).items():
        assert SECRET.encode() not in content, rel
        assert file_secret.encode() not in content, rel
    with zipfile.ZipFile(zpath) as z:
        for name in z.namelist():
            assert SECRET.encode() not in z.read(name), name


def test_bundle_course_config_has_no_secret_or_gradebook(bundle):
    _, folder, _ = bundle
    cfg = yaml.safe_load((folder / "course" / "course.yaml").read_text(encoding="utf-8"))
    assert "secret" not in cfg and "gradebook" not in cfg
    assert cfg["assignments"]["a1_rnn"]["due"] and cfg["assignments"]["a1_rnn"]["module"] == "rnn"
    assert not any("solutions" in str(v) for a in cfg["assignments"].values() for v in a.values())


def test_bundle_contains_no_instructor_only_course_files(bundle):
    """course/quizzes/ holds each quiz's question file (no key) and nothing else; no examples, no gradebook."""
    _, folder, _ = bundle
    shipped = set(_files(folder))
    assert not any(rel.startswith("course/examples") for rel in shipped)
    assert not any(rel.endswith((".db", ".sqlite")) for rel in shipped)
    ids = [yaml.safe_load(q.read_text(encoding="utf-8"))["id"] for q in QUIZ_FILES]
    assert sorted(rel for rel in shipped if rel.startswith("course/quizzes")) == \
        sorted(f"course/quizzes/{i}.yaml" for i in ids)
    for i in ids:
        assert is_question_file(folder / "course" / "quizzes" / f"{i}.yaml")


def _strings(node, under_answer: bool = False):
    """(text, is_answer) for every string in a quiz YAML tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, under_answer or k in ANSWER_FIELDS)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v, under_answer)
    elif isinstance(node, str):
        yield node, under_answer


QUIZ_FILES = sorted((REPO / "course" / "quizzes").glob("*.yaml"))


@pytest.mark.parametrize("quiz_file", QUIZ_FILES, ids=[q.stem for q in QUIZ_FILES])
def test_bundle_quizzes_hold_no_answer_keys(bundle, quiz_file):
    """Accepted answers, patterns and explanations never appear (unless the prompt itself shows them)."""
    _, folder, _ = bundle
    data = yaml.safe_load(quiz_file.read_text(encoding="utf-8"))
    strings = list(_strings(data))
    visible = "\n".join(s for s, ans in strings if not ans).casefold()
    keys = {s.strip() for s, ans in strings if ans and len(s.strip()) >= 4}
    leaks = {k for k in keys if k.casefold() not in visible}
    assert leaks, f"{quiz_file.name}: nothing answer-only to look for"
    rendered = [folder / "course" / "quizzes" / f"{data['id']}.yaml"]
    rendered += [p for p in (folder / "course" / "quizzes" / data["id"]).rglob("*") if p.is_file()]
    assert rendered[0].is_file(), f"{data['id']} is not in the bundle"
    for p in rendered:
        text = p.read_text(encoding="utf-8").casefold()
        found = sorted(k for k in leaks if k.casefold() in text)
        assert not found, f"{p.relative_to(folder)} shows answer-only text: {found[:3]}"


def test_bundle_quiz_notebooks_carry_no_correct_flags(roster_bundle):
    folder = roster_bundle.folder
    notebooks = list((folder / "course" / "quizzes").rglob("*.ipynb"))
    assert len(notebooks) == len(QUIZ_FILES) * len(ROSTER) * 2
    for p in notebooks:
        text = p.read_text(encoding="utf-8")
        assert '"correct"' not in text and '"accept"' not in text and '"answer":' not in text, p


def test_bundle_zip_matches_the_folder(bundle):
    _, folder, zpath = bundle
    with zipfile.ZipFile(zpath) as z:
        assert z.testzip() is None
        zipped = {name: z.read(name) for name in z.namelist() if not name.endswith("/")}
    on_disk = {f"seqgrade-student/{rel}": content for rel, content in _files(folder).items()}
    assert zipped == on_disk


# -- installing and using the bundle -------------------------------------------------------

ROSTER = ["alice", "li.wei@example.edu"]


@pytest.fixture(scope="module")
def roster_bundle(tmp_path_factory):
    """`build_bundle` with a roster, in this process (the starter code is the committed one)."""
    root = tmp_path_factory.mktemp("roster-course")
    cfg = load_config(copy_course(root))
    cfg.secret = SECRET
    return build_bundle(cfg, tmp_path_factory.mktemp("roster-dist"), ROSTER)


def test_bundle_wheel_holds_only_the_grader_package(bundle):
    _, folder, _ = bundle
    (wheel,) = (folder / "wheels").glob("seqgrade-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"grader", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "grader/cli.py" in names and "grader/submissions.py" in names
    assert not any(part in ("solutions", "tests", "course", "assignments") for n in names for part in n.split("/"))
    assert "seqgrade = grader.cli:main" in entry_points


def test_bundle_requirements_pin_the_graders_torch_cpu_build(bundle):
    import importlib.metadata

    _, folder, _ = bundle
    lines = (folder / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pinned = importlib.metadata.version("torch").split("+")[0]
    assert f"torch=={pinned}" in lines
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    wheel = [ln for ln in lines if ln.endswith(".whl")]
    assert len(wheel) == 1 and (folder / wheel[0]).is_file()
    assert any(ln.startswith("numpy") for ln in lines) and not any("nbgrader" in ln for ln in lines)


def test_bundle_readme_installs_in_two_commands(bundle):
    from tests.test_student_bundle import install_commands

    from grader.release.readme import install_commands as commands_under

    _, folder, _ = bundle
    assert install_commands(folder / "README.md") == [
        "python3 -m venv .venv", ".venv/bin/python -m pip install -r requirements.txt"]
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert commands_under(text, "## 安装") == install_commands(folder / "README.md")  # the same in Chinese


def test_bundle_has_no_broken_links(bundle, roster_bundle):
    for folder in (bundle[1], roster_bundle.folder):
        files = sorted(folder.rglob("*.md"))
        assert len(files) > 20
        broken = broken_links(files, folder)
        assert not broken, "broken links in the bundle:\n" + "\n".join(broken)


def test_roster_bundle_has_each_students_sheets_and_answers_file(roster_bundle):
    quizzes = roster_bundle.folder / "course" / "quizzes"
    for q in QUIZ_FILES:
        qid = yaml.safe_load(q.read_text(encoding="utf-8"))["id"]
        public = load_question_file(quizzes / f"{qid}.yaml")
        for student in ROSTER:
            folder = quizzes / qid / student
            template = yaml.safe_load((folder / f"{student}.yaml").read_text(encoding="utf-8"))
            assert list(template) == [q.id for q in public.quiz.questions]
            for lang in ("en", "zh"):
                md = (folder / lang / f"{qid}-{student}.md").read_text(encoding="utf-8")
                assert f"{student}.yaml" in md and "sample" not in md
                for question, variant in public.version(student):  # the sheet shows the numbers take shows
                    for value in variant.values.values():
                        assert str(value) in md, (qid, student, question.id)


def test_roster_lines_must_be_student_ids(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("# class of 2026\nalice\n\nbob  # late joiner\n", encoding="utf-8")
    assert read_roster(good) == ["alice", "bob"]
    for text, where in (("alice\n../etc\n", ":2:"), ("alice\nAlice\n", "listed twice"), ("\n", "no student")):
        bad = tmp_path / "bad.txt"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(UsageError, match=where):
            read_roster(bad)


def test_commands_find_the_course_from_inside_the_bundle(bundle, tmp_path):
    """The assignment README's own command, run in the assignment folder; `list` shows the public checks."""
    _, folder, _ = bundle
    mine = tmp_path / "seqgrade-student"
    shutil.copytree(folder, mine)
    work = mine / "assignments" / "a1_rnn"
    shutil.copy(REPO / "solutions" / "rnn.py", work / "rnn.py")
    env = {"SEQGRADE_SECRET": ""}
    r = seqgrade("check", "a1_rnn", "rnn.py", cwd=work, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "public checks pass" in r.stdout
    listed = seqgrade("list", cwd=work / "checks", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "test_public_rnn_matches_torch" in listed.stdout and "hidden" not in listed.stdout.split("total")[0]
    assert "public checks; your instructor also runs hidden ones" in listed.stdout
    promised = seqgrade("list", "--promises", cwd=work, env=env)  # what the bundle's contract tells students to run
    assert promised.returncode == 0, promised.stderr
    assert "    public: a1_rnn:test_public_rnn" in promised.stdout and "hidden:" not in promised.stdout


def test_outside_a_course_the_error_says_what_to_do(tmp_path):
    (tmp_path / "rnn.py").write_text("x = 1\n", encoding="utf-8")
    r = seqgrade("check", "a1_rnn", "rnn.py", cwd=tmp_path)
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert "no course found" in r.stderr and str(tmp_path) in r.stderr and "--course" in r.stderr
    for args in (("list",), ("quiz", "take", "q2_gated", "--student", "alice")):
        r = seqgrade(*args, cwd=tmp_path)
        assert r.returncode != 0 and "Traceback" not in r.stderr, args
        assert "no course found" in r.stderr and "seqgrade-student" in r.stderr, (args, r.stderr)
