"""The pytest plugin that runs every check on a stream of submissions.

pytest collects the checks once; then, for each submission, the plugin's
`pytest_runtestloop` runs every collected item again (as pytest-rerunfailures
does), with the `sub` fixture pointing at that submission's sandboxed child.
Each item's outcome becomes a `CheckResult`; when a submission's last check
has run, `on_result` receives its `SubmissionResult`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable, Iterable

import pytest

from ..results import CheckResult, SubmissionResult
from ..sandbox.client import (CallTimeout, ChildDied, ProtocolViolation, Sandbox, SubmissionFault,
                              SubmissionRaised)
from .compare import CheckFailed
from .draw import Draw, check_draw, once_for
from .markers import check_info
from .submission import ImportFailed, Submission

if TYPE_CHECKING:
    from ..fingerprints.diagnose import Fingerprinter


@dataclass
class Job:
    """One submission to grade."""

    student: str
    module: str  # the module name the contract fixes, e.g. "attention"
    source: str | None  # the module's code; None when it could not be read
    filename: str = ""  # where it came from, for messages
    error: str = ""  # why it could not be read, when source is None
    content_hash: str = ""
    submitted_at: str | None = None


@dataclass
class _Outcome:
    status: str = "passed"
    message: str = ""


@dataclass
class GradingPlugin:
    """Registered with ``pytest.main(plugins=[...])`` by the grading worker."""

    item_name: str  # the assignment id
    jobs: Iterable[Job]
    sandbox: Sandbox
    reference: ModuleType | None
    seed: int
    on_result: Callable[[SubmissionResult], None]
    hidden_roots: tuple[Path, ...] = ()  # checks under these folders are hidden
    checks_version: str = ""
    budget_s: float = 180.0  # wall-clock seconds for all checks of one submission
    timeout_cap: float | None = None  # caps every check's per-call timeout (tests use a small one)
    fingerprints: "Fingerprinter | None" = None  # names known bugs in failures (grader.fingerprints)
    items: list = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)
    _cache: dict = field(default_factory=dict)
    _current: Submission | None = None
    _outcomes: dict = field(default_factory=dict)

    # -- collection --------------------------------------------------------
    def pytest_configure(self, config) -> None:
        config.addinivalue_line("markers", "seqgrade_check(points, description, timeout): a graded check")

    def pytest_collection_modifyitems(self, session, config, items) -> None:
        names: dict[str, str] = {}
        for item in items:
            name = self.check_name(item)
            if name in names:
                self.collection_errors.append(f"two checks are named {name}: {names[name]} and {item.nodeid}")
            names[name] = item.nodeid
        self.items = list(items)

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    @staticmethod
    def check_name(item) -> str:
        return item.name

    def visibility(self, item) -> str:
        path = Path(str(item.path)).resolve()
        return "hidden" if any(root in path.parents for root in self.hidden_roots) else "public"

    def max_score(self) -> float:
        return sum(check_info(i).points for i in self.items)

    # -- running -----------------------------------------------------------
    def pytest_runtestloop(self, session) -> bool:
        if self.collection_errors:
            raise pytest.UsageError("the checks could not be collected:\n" + "\n".join(self.collection_errors))
        for job in self.jobs:
            self.on_result(self.grade(job))
        return True

    def grade(self, job: Job) -> SubmissionResult:
        result = SubmissionResult(student=job.student, item=self.item_name, kind="assignment",
                                  max_score=self.max_score(), content_hash=job.content_hash,
                                  checks_version=self.checks_version, submitted_at=job.submitted_at)
        if job.source is None:
            result.error = job.error or f"no {job.module}.py in the submission"
            result.checks = [self._result(item, "error", result.error) for item in self.items]
            return result
        make = self.fingerprints.submission if self.fingerprints is not None else Submission
        sub = make(self.sandbox, job.source, job.module, job.filename or f"{job.module}.py")
        self._current = sub
        self._outcomes = {}
        start = time.monotonic()
        try:
            for i, item in enumerate(self.items):
                left = self.budget_s - (time.monotonic() - start)
                if left <= 0:
                    result.checks.append(self._result(
                        item, "timeout", f"not run: the submission used up its {self.budget_s:g} s time "
                        "budget on earlier checks (look for an infinite loop or very slow code)"))
                    continue
                timeout = check_info(item).timeout
                if self.timeout_cap is not None:
                    timeout = min(timeout, self.timeout_cap)
                sub.timeout = max(0.5, min(timeout, left))
                nextitem = self.items[i + 1] if i + 1 < len(self.items) else None
                if self.fingerprints is not None:
                    self.fingerprints.begin(item.nodeid, sub)
                item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                out = self._outcomes.get(item.nodeid, _Outcome("error", "the check did not run"))
                if self.fingerprints is not None:
                    self.fingerprints.end(self.check_name(item), sub, out.status)
                result.checks.append(self._result(item, out.status, out.message))
        finally:
            if self.items:  # checks skipped for the budget leave fixtures set up: tear all down
                self.items[0].session._setupstate.teardown_exact(None)
            sub.close()
            self._current = None
        if self.fingerprints is not None:  # name known bugs and missing functions in the failures
            self.fingerprints.finish(result.checks)
        if sub._import_error is not None:
            result.error = self._import_message(sub._import_error, job.module)
        result.output = sub.output[-4000:]
        return result

    def _result(self, item, status: str, message: str) -> CheckResult:
        info = check_info(item)
        return CheckResult(name=self.check_name(item), score=info.points if status == "passed" else 0.0,
                           max_score=info.points, status=status, visibility=self.visibility(item),
                           message=message, description=info.description, kind=info.kind)

    # -- outcomes ----------------------------------------------------------
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        yield
        if self._current is None:
            return
        prev = self._outcomes.get(item.nodeid)
        if call.excinfo is None:
            if prev is None:
                self._outcomes[item.nodeid] = _Outcome()
            return
        if prev is not None and prev.status != "passed":
            return  # keep the first failure (setup before call before teardown)
        self._outcomes[item.nodeid] = self._classify(call.excinfo, item)

    def _classify(self, excinfo, item) -> _Outcome:
        exc = excinfo.value
        module = self._current.module if self._current else "your module"
        if isinstance(exc, ImportFailed):
            return _Outcome("error", self._import_message(exc, module))
        if isinstance(exc, CallTimeout):
            return _Outcome("timeout", f"your code {exc} (an infinite loop, or far too slow)")
        if isinstance(exc, SubmissionRaised):
            return _Outcome("error", f"your code raised {exc}")
        if isinstance(exc, (ChildDied, ProtocolViolation, SubmissionFault)):
            return _Outcome("error", str(exc))
        if isinstance(exc, (CheckFailed, AssertionError)):
            text = str(exc).strip() or "the check's assertion failed"
            return _Outcome("failed", text.split("\nassert ")[0])
        if isinstance(exc, pytest.skip.Exception):
            return _Outcome("error", "the check was skipped")
        return _Outcome("error", f"the check could not evaluate your output ({type(exc).__name__}: "
                                 f"{str(exc)[:300]})")

    @staticmethod
    def _import_message(exc: SubmissionRaised, module: str) -> str:
        where = f" at {exc.where}" if exc.where else ""
        return f"{module}.py could not be imported: {exc.type_name}{where}: {exc.message}"

    # -- fixtures ----------------------------------------------------------
    @pytest.fixture
    def sub(self) -> Submission:
        if self._current is None:
            raise RuntimeError("no submission is being graded")
        return self._current

    @pytest.fixture
    def ref(self) -> ModuleType:
        if self.reference is None:
            raise RuntimeError("the reference solution is not available (public checks cannot use `ref`)")
        return self.reference

    @pytest.fixture
    def draw(self, request) -> Draw:
        return check_draw(self.seed, request.node.nodeid)

    @pytest.fixture
    def once(self, request):
        """``once(fn, key="")`` -> fn(Draw) computed once per check (and key) per run."""
        return once_for(self._cache, self.seed, request.node.nodeid)


def checks_version(paths: Iterable[Path]) -> str:
    """A hash of the files that decide grades (checks, references, data)."""
    h = hashlib.sha256()
    for p in sorted(Path(x) for x in paths):
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
        else:
            files = [p]
        for f in files:
            h.update(str(f.name).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]
