"""Running seqgrade's checks inside a notebook's kernel: what plain ``nbgrader autograde`` does.

A generated notebook's test cells call, for example::

    _hidden_checks.run("test_rnncell_values", globals()).verify()

`KernelChecks` holds the check files unpacked from the notebook (see
`bundle`); `run` calls the check function with in-kernel stand-ins of its
fixtures: ``sub`` talks to the notebook's own definitions through the very
request handlers the sandbox uses (`grader.sandbox.harness.ChildServer`),
``ref`` is the packed reference, ``draw`` and ``once`` are seeded as in a
grading run. `Outcome.verify` raises `CheckNotPassed` (shown as one line,
without a traceback that could quote hidden code) or returns the points
earned, which nbgrader reads as the cell's (partial) credit.

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
import inspect
import io
import itertools
import os
import shutil
import sys
import tempfile
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from . import bundle

FIXTURES = ("sub", "ref", "draw", "once")


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

    def __init__(self, namespace: dict):
        self._namespace = namespace

    def open(self, source: str, module: str, import_timeout: float = 30.0):
        return _in_kernel_process(self._namespace, module)


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


# --------------------------------------------------------------------------- parameter sets
def _param_sets(fn: Callable) -> list[tuple[dict, str]]:
    """(arguments, label) for every combination of the check's @pytest.mark.parametrize values."""
    sets: list[tuple[dict, str]] = [({}, "")]
    for mark in reversed(getattr(fn, "pytestmark", [])):
        if mark.name != "parametrize":
            continue
        names, values = mark.args[0], list(mark.args[1])
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        new = []
        for (kw, label), (i, v) in itertools.product(sets, enumerate(values)):
            vals = v.values if hasattr(v, "values") and hasattr(v, "marks") else (v if len(names) > 1 else (v,))
            tag = f"{names[0]}={vals[0]!r}" if len(names) == 1 else f"#{i}"
            new.append(({**kw, **dict(zip(names, vals))}, f"{label}, {tag}" if label else tag))
        sets = new
    return sets


# --------------------------------------------------------------------------- the checks
class KernelChecks:
    """The checks packed into a notebook, run against the notebook's own definitions."""

    def __init__(self, root: Path, meta: dict):
        self.root = Path(root)
        self.meta = meta
        self.seed = int(meta.get("seed", 0))
        self._modules: dict[str, ModuleType] = {}
        self._cache: dict = {}
        self._reference: ModuleType | None = None

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

    def check_function(self, name: str) -> Callable:
        entry = self.meta.get("checks", {}).get(name)
        if entry is None:
            raise KeyError(f"no check named {name!r} is packed in this notebook")
        rel = entry["file"]
        module = self._load(rel, f"seqgrade_nbcheck_{Path(rel).stem}_{id(self):x}")
        return getattr(module, name)

    # -- running -------------------------------------------------------------
    def run(self, name: str, namespace: dict) -> Outcome:
        """Run check `name` (every parameter set) on the definitions in `namespace` (the notebook's globals)."""
        from ..checks.markers import check_info

        entry = self.meta.get("checks", {}).get(name, {})
        try:
            fn = self.check_function(name)
        except Exception as exc:  # the packed check file does not import here
            return Outcome(name=name, points=float(entry.get("points", 1.0)), status="error",
                           messages=[f"the check could not be loaded in this kernel ({type(exc).__name__}: {exc})"])
        info = check_info(_MarkedFunction(fn))
        sets = _param_sets(fn)
        outcome = Outcome(name=name, points=float(entry.get("points", info.points * len(sets))))
        wanted = [p for p in inspect.signature(fn).parameters]
        for params, label in sets:
            status, message = self._run_one(fn, name, label, params, wanted, namespace)
            if status == "passed":
                outcome.score += info.points
            else:
                outcome.status = "error" if status == "error" or outcome.status == "error" else status
                outcome.messages.append(f"[{label}] {message}" if label else message)
        outcome.score = min(outcome.score, outcome.points)
        return outcome

    def _run_one(self, fn, name, label, params, wanted, namespace) -> tuple[str, str]:
        from ..checks.draw import check_draw, once_for
        from ..checks.submission import Submission

        module = self.meta.get("module", "submission")
        sub = Submission(_KernelSandbox(namespace), "", module, "the notebook")
        nodeid = f"{name}[{label}]" if label else name
        kwargs: dict[str, Any] = dict(params)
        try:
            for arg in wanted:
                if arg in params:
                    continue
                if arg == "sub":
                    kwargs[arg] = sub
                elif arg == "ref":
                    kwargs[arg] = self.reference()
                elif arg == "draw":
                    kwargs[arg] = check_draw(self.seed, nodeid)
                elif arg == "once":
                    kwargs[arg] = once_for(self._cache, self.seed, nodeid)
                else:
                    return "error", f"the check needs the fixture {arg!r}, which notebooks do not provide"
            with _quiet_stderr():
                fn(**kwargs)
            return "passed", ""
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a check's failure, or the notebook's code raising
            return _classify(exc, module)
        finally:
            sub.close()


class _MarkedFunction:
    """Enough of a pytest item for `check_info` to read a function's `check` marker."""

    def __init__(self, fn: Callable):
        self.function = fn

    def get_closest_marker(self, name: str):
        return next((m for m in getattr(self.function, "pytestmark", []) if m.name == name), None)


def _classify(exc: BaseException, module: str) -> tuple[str, str]:
    """(status, message) exactly as the grading plugin words them (`grader.checks.classify`)."""
    from ..checks.classify import classify

    outcome = classify(exc, module)
    return outcome.status, outcome.message


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
