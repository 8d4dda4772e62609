"""Running seqgrade's checks inside a notebook's kernel: what plain ``nbgrader autograde`` does.

A generated notebook's test cells call, for example::

    _hidden_checks.run("test_rnncell_values", globals()).verify()

`KernelChecks` holds the check files unpacked from the notebook (see
`bundle`), at the paths they have in the course. The first test cell that
runs grades the notebook's definitions with the very grading plugin and
pytest session of ``seqgrade grade`` (`grader.checks.plugin.GradingPlugin`):
the same parametrize, fixtures, seeds (node ids are the course's), outcome
classification and points; only the "sandbox" is the kernel itself, served
through the request handlers the sandbox uses
(`grader.sandbox.harness.ChildServer`). Later test cells read their check's
result; a cell run again after the notebook's definitions changed grades
again. `Outcome.verify` raises `CheckNotPassed` (shown as one line, without a
traceback that could quote hidden code) or returns the points earned, which
nbgrader reads as the cell's (partial) credit.

This is nbgrader's model: the tests run in the same process as the
student's code, so that code can patch torch, rewrite the test cells or
read the packed checks. ``seqgrade nbgrader autograde`` grades the same
notebooks out of kernel, in the sandbox, and is the path to trust.

Anything a check or the student's code writes to stderr while a check runs
(torch's warnings included) is swallowed: nbgrader gives a test cell zero
points for any stderr output.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import shutil
import sys
import tempfile
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from . import bundle


class CheckNotPassed(AssertionError):
    """A test cell's check failed; IPython shows only this line, never the cell's code."""

    def _render_traceback_(self) -> list[str]:  # IPython's hook for custom tracebacks
        return [f"{type(self).__name__}: {self}"]


@dataclass
class Outcome:
    """What one check (all its parameter sets) gave on the notebook's code."""

    name: str
    points: float  # the check's points over all its parameter sets
    score: float = 0.0
    status: str = "passed"  # passed | failed | error (the worst of its parameter sets)
    messages: list[str] = field(default_factory=list)  # one per parameter set that did not pass

    @property
    def passed(self) -> bool:
        return self.score >= self.points

    @property
    def message(self) -> str:
        return "\n".join(self.messages)

    def verify(self) -> float:
        """The points earned (nbgrader's partial credit); CheckNotPassed when none."""
        if self.score <= 0:
            raise CheckNotPassed(f"{self.name}: {self.message}" if self.messages else self.name)
        if self.messages:
            print(f"{self.name}: {self.score:g} of {self.points:g} points\n{self.message}")
        return self.score


# --------------------------------------------------------------------------- the `sub` stand-in
def _harness() -> ModuleType:
    """grader.sandbox.harness, importable here although it imports `wire` as a top-level module."""
    name = "grader.sandbox.harness"
    if name in sys.modules:
        return sys.modules[name]
    from ..sandbox import wire

    saved_path, saved_wire = list(sys.path), sys.modules.get("wire")
    sys.modules["wire"] = wire
    try:
        return importlib.import_module(name)
    finally:
        sys.path[:] = saved_path
        if saved_wire is None:
            sys.modules.pop("wire", None)
        else:
            sys.modules["wire"] = saved_wire


class _Namespace:
    """The notebook's globals, seen as the submitted module."""

    def __init__(self, namespace: dict):
        self._ns = namespace

    def __getattr__(self, name: str):
        try:
            return self._ns[name]
        except KeyError:
            raise AttributeError(f"the notebook defines no {name!r}: run the cell that defines it "
                                 "(and keep its name)") from None


def _in_kernel_process(namespace: dict, module: str):
    from ..sandbox import client, wire

    class InKernelProcess(client.SubmissionProcess):
        """A `SubmissionProcess` whose requests are served in this process, through the wire format."""

        def __init__(self):
            self.module = module
            self.alive = True
            self.exit_status = None
            self.import_seconds = 0.0
            self._sandbox = _KernelSandbox(namespace)
            self._server = _harness().ChildServer(None, _Namespace(namespace), "<notebook>")

        @staticmethod
        def _through_wire(header: dict, tensors) -> tuple[dict, dict]:
            raw = wire.pack(header, tensors)
            n_json, n_blob = wire.unpack_header(raw[:wire.HEADER_SIZE])
            body = raw[wire.HEADER_SIZE:]
            return wire.unpack_body(body[:n_json], body[n_json:n_json + n_blob])

        def _request(self, header: dict, tensors=None, timeout: float = 30.0):
            req, in_tensors = self._through_wire(header, tensors)
            handler = getattr(self._server, f"op_{req.get('op')}", None)
            try:
                if handler is None:
                    raise LookupError(f"unknown operation {req.get('op')!r}")
                reply, _ = handler(req, in_tensors)
                enc = wire.Encoder()
                out = {(k[:-1] if k.endswith("_") else k): (enc.encode(v) if k.endswith("_") else v)
                       for k, v in reply.items()}
            except (Exception, SystemExit) as exc:  # the notebook's code raised
                err = self._server._describe(exc)
                raise client.SubmissionRaised(err["type"], err["message"], err["where"], err["traceback"]) from None
            out["ok"] = True
            return self._through_wire(out, enc.tensors)

        def output(self, limit: int = 20000) -> str:
            return ""

        def _end(self, kill: bool) -> None:
            self.alive = False

    return InKernelProcess()


class _KernelSandbox:
    """What `grader.checks.submission.Submission` asks of a sandbox, served by the kernel itself."""

    policy = "kernel"  # no isolation: this is nbgrader's model (docs/security.md)

    def __init__(self, namespace: dict):
        self._namespace = namespace

    def open(self, source: str, module: str, import_timeout: float = 30.0):
        return _in_kernel_process(self._namespace, module)

    def submission_cpu_ns(self):
        return None  # nothing outside the kernel measures it: the operation counts alone decide here


# --------------------------------------------------------------------------- quiet stderr
@contextlib.contextmanager
def _quiet_stderr():
    """Swallow stderr (Python's and file descriptor 2) and warnings while a check runs."""
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                yield
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


# --------------------------------------------------------------------------- the checks
class KernelChecks:
    """The checks packed into a notebook, run against the notebook's own definitions."""

    def __init__(self, root: Path, meta: dict):
        self.root = Path(root)
        self.meta = meta
        self.seed = int(meta.get("seed", 0))
        self._modules: dict[str, ModuleType] = {}
        self._reference: ModuleType | None = None
        self._results: dict = {}
        self._results_key: tuple | None = None
        self._problem = ""

    @classmethod
    def unpack(cls, text: str) -> "KernelChecks":
        """Unpack a bundle into a private temporary folder (removed with this object)."""
        files, meta = bundle.unpack(text)
        root = Path(tempfile.mkdtemp(prefix="seqgrade-checks-"))
        bundle.write_tree(files, root)
        checks = cls(root, meta)
        weakref.finalize(checks, shutil.rmtree, root, True)
        return checks

    # -- loading -------------------------------------------------------------
    def _load(self, rel: str, name: str) -> ModuleType:
        if rel not in self._modules:
            spec = importlib.util.spec_from_file_location(name, self.root / rel)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            with _quiet_stderr():
                spec.loader.exec_module(module)
            self._modules[rel] = module
        return self._modules[rel]

    def reference(self) -> ModuleType:
        rel = self.meta.get("reference")
        if not rel:
            raise RuntimeError("the reference solution is not available (public checks cannot use `ref`)")
        return self._load(rel, f"seqgrade_reference_{self.meta.get('module', 'module')}_{id(self):x}")

    # -- running -------------------------------------------------------------
    def run(self, name: str, namespace: dict) -> Outcome:
        """Check `name`'s outcome (every parameter set) on the definitions in `namespace` (the notebook's
        globals), from one grading of all the packed checks (done again when those definitions change)."""
        entry = self.meta.get("checks", {}).get(name)
        if entry is None:
            return Outcome(name=name, points=1.0, status="error",
                           messages=[f"no check named {name} is packed in this notebook"])
        cells = self._graded(namespace)
        cell = cells.get(name)
        points = float(entry.get("points", 1.0))
        if cell is None:
            return Outcome(name=name, points=points, status="error", messages=[self._problem or "the check did not run"])
        return Outcome(name=name, points=points, score=min(cell.score, points), status=cell.status,
                       messages=[m for m in cell.message.splitlines() if m] if cell.status != "passed" else [])

    def _graded(self, namespace: dict) -> dict:
        key = (id(namespace), _fingerprint(namespace))
        if self._results_key != key:
            self._results = self._grade(namespace)
            self._results_key = key
        return self._results

    def _grade(self, namespace: dict) -> dict:
        import contextlib

        import pytest

        from ..checks.collection import pytest_args
        from ..checks.plugin import GradingPlugin
        from ..jobs import Job
        from .checklist import cell_results

        module = self.meta.get("module", "submission")
        results: list = []
        self._problem = ""
        try:
            reference = self.reference() if self.meta.get("reference") else None
        except Exception as exc:  # noqa: BLE001 - the packed reference does not import here
            self._problem = f"the checks could not be loaded in this kernel ({type(exc).__name__}: {exc})"
            return {}
        plugin = GradingPlugin(item_name=module, jobs=[Job("notebook", module, "", filename="the notebook")],
                               sandbox=_KernelSandbox(namespace), reference=reference, seed=self.seed,
                               on_result=results.append)
        targets = sorted({str(self.root / entry["file"]) + "::" + name
                          for name, entry in self.meta.get("checks", {}).items()})
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        with _quiet_stderr(), contextlib.redirect_stdout(io.StringIO()):
            pytest.main(pytest_args([], self.root) + targets, plugins=[plugin])
        if plugin.collection_errors or not results:
            self._problem = ("the checks could not be loaded in this kernel:\n"
                             + "\n".join(plugin.collection_errors)[-1500:])
            return {}
        return cell_results(results[0].checks)


def _fingerprint(namespace: dict) -> tuple:
    """What the notebook defines (names and the objects they hold): a change means grade again."""
    return tuple(sorted((k, id(v)) for k, v in namespace.items()
                        if not k.startswith("_") and (callable(v) or isinstance(v, type))))


# --------------------------------------------------------------------------- quizzes
class KernelQuiz:
    """A quiz's key packed into a notebook: grades the notebook's ``ANSWERS`` one question at a time."""

    def __init__(self, quiz, variants: dict, lang: str):
        self.quiz = quiz
        self.variants = variants
        self.lang = lang

    @classmethod
    def unpack(cls, text: str) -> "KernelQuiz":
        from ..quiz.loader import check_quiz
        from ..quiz.variants import Variant

        files, meta = bundle.unpack(text)
        quiz, problems = check_quiz(files["quiz.yaml"].decode("utf-8"), meta.get("file", "quiz.yaml"))
        if quiz is None:
            raise bundle.BundleError(f"the packed quiz does not load: {problems[:3]}")
        variants = {qid: Variant(values=v["values"], option_order=tuple(v["option_order"]),
                                 item_order=tuple(v["item_order"]), answer=v["answer"])
                    for qid, v in meta["variants"].items()}
        return cls(quiz, variants, meta.get("lang", "en"))

    def grade(self, qid: str, answers: dict) -> Outcome:
        from ..quiz.grading import feedback, grade_answer

        q = self.quiz.question(qid)
        if q is None:
            raise KeyError(f"the packed quiz has no question {qid!r}")
        g = grade_answer(q, self.variants[qid], (answers or {}).get(qid), self.lang)
        out = Outcome(name=qid, points=g.max_score, score=g.score, status=g.status)
        if g.status != "passed":
            out.messages.append(feedback(q, self.variants[qid], g, self.lang))
        return out
