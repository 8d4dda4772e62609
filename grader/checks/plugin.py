"""The pytest plugin that runs every check on a stream of submissions.

pytest collects the checks once; then, for each submission, the plugin's
`pytest_runtestloop` runs every collected item again (as pytest-rerunfailures
does), with the `sub` fixture pointing at that submission's sandboxed child.
Each item's outcome becomes a `CheckResult`; when a submission's last check
has run, `on_result` receives its `SubmissionResult`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterable, Protocol

import pytest

from ..jobs import Job, error_result
from ..results import CheckResult, Flag, SubmissionResult
from ..sandbox.client import Sandbox
from .classify import Outcome, classify, import_message
from .draw import Draw, check_draw, once_for
from .markers import check_info
from .submission import Submission

__all__ = ["FailureDiagnoser", "GradingPlugin", "Job"]


class FailureDiagnoser(Protocol):
    """What the plugin asks of a diagnoser of failures (grader.fingerprints.Fingerprinter, a layer above):
    a submission object that records each check's calls, the check's start and end, and a last look at
    the finished result to name known bugs and missing functions."""

    def submission(self, sandbox: Sandbox, source: str, module: str, filename: str) -> Submission: ...

    def begin(self, check_id: str, sub: Submission) -> None: ...

    def end(self, name: str, sub: Submission, status: str) -> None: ...

    def finish(self, result: SubmissionResult) -> None: ...


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
    points: float | None = None  # the assignment's total (course.yaml); each check's points are scaled to it
    fingerprints: FailureDiagnoser | None = None  # names known bugs in failures (grader.fingerprints)
    items: list = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)
    _cache: dict = field(default_factory=dict)
    _current: Submission | None = None
    _cache_scale: dict = field(default_factory=dict)
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

    def _scale(self) -> float:
        if "scale" not in self._cache_scale:
            raw = sum(check_info(i).points for i in self.items)
            self._cache_scale["scale"] = self.points / raw if self.points and raw else 1.0
        return self._cache_scale["scale"]

    def points_of(self, item) -> float:
        """The check's points, scaled to the assignment's total when course.yaml gives one."""
        return round(check_info(item).points * self._scale(), 6)

    def max_score(self) -> float:
        return round(sum(self.points_of(i) for i in self.items), 6)

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
                                  checks_version=self.checks_version, submitted_at=job.submitted_at,
                                  time_source=job.time_source, flags=list(job.flags),
                                  isolation=getattr(self.sandbox, "policy", ""))
        if job.source is None:  # the core records these before any session; kept for direct callers
            return error_result(job, self.item_name, job.error or f"no {job.module}.py in the submission",
                                max_score=self.max_score(), checks_version=self.checks_version)
        make = self.fingerprints.submission if self.fingerprints is not None else Submission
        sub = make(self.sandbox, job.source, job.module, job.filename or f"{job.module}.py")
        counted: list[int] = []  # positions of the checks that judge how the child computes (counted or timed calls)
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
                sub.counted, sub.built, sub.called = False, "", ""
                nextitem = self.items[i + 1] if i + 1 < len(self.items) else None
                if self.fingerprints is not None:
                    self.fingerprints.begin(item.nodeid, sub)
                item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                out = self._outcomes.get(item.nodeid, Outcome("error", "the check did not run"))
                if self.fingerprints is not None:
                    self.fingerprints.end(self.check_name(item), sub, out.status)
                message = out.message
                if out.status != "passed" and sub.sizes() and self.visibility(item) == "public":
                    message += f"\n(sizes used: {sub.sizes()})"  # public checks only: hidden ones' inputs stay hidden
                result.checks.append(self._result(item, out.status, message))
                if sub.counted:
                    counted.append(len(result.checks) - 1)
                if out.flag:
                    result.flags.append(Flag(out.flag, self.check_name(item), out.message[:500]))
        finally:
            if self.items:  # checks skipped for the budget leave fixtures set up: tear all down
                self.items[0].session._setupstate.teardown_exact(None)
            sub.close()
            self._current = None
        _void_after_tampering(result, counted)
        if self.fingerprints is not None:  # name known bugs and missing functions in the failures
            self.fingerprints.finish(result)
        if sub._import_error is not None:
            result.error = import_message(sub._import_error, job.module)
        result.output = sub.output[-4000:]
        return result

    def _result(self, item, status: str, message: str) -> CheckResult:
        info = check_info(item)
        points = self.points_of(item)
        return CheckResult(name=self.check_name(item), score=points if status == "passed" else 0.0,
                           max_score=points, status=status, visibility=self.visibility(item),
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
                self._outcomes[item.nodeid] = Outcome()
            return
        if prev is not None and prev.status != "passed":
            return  # keep the first failure (setup before call before teardown)
        self._outcomes[item.nodeid] = self._classify(call.excinfo, item)

    def _classify(self, excinfo, item) -> Outcome:
        return classify(excinfo.value, self._current.module if self._current else "your module")

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


def _void_after_tampering(result: SubmissionResult, counted: list[int]) -> None:
    """Once tampering is detected, no verdict that rests on what the child reported about itself stands."""
    tampered = [f.where for f in result.flags if f.kind == "tampering"]
    if not tampered:
        return
    for i in counted:
        c = result.checks[i]
        if c.status == "passed":
            c.score, c.status = 0.0, "error"
            c.message = (f"voided: seqgrade detected tampering in {', '.join(tampered[:3])}, so no verdict on how "
                         "your process computes (its operation counts, its timed calls) stands for this check either")
