"""Root causes: a submission's failed checks grouped by what most likely makes them fail.

A student with 29 failed checks rarely has 29 mistakes. Failures are grouped,
most telling first:

1. a problem with the submission itself (it could not be read or imported):
   every check it stopped;
2. a diagnosed known bug (`CheckResult.bug`, from the fingerprints): every check
   whose results match the bug. A check matched by two bugs at once
   ("a+b") counts for both, and is fixed only when both are. An undiagnosed
   failed check of a function whose other failures a bug explains goes with
   that bug (its answers could not be compared value by value, or it judges a
   property of them);
3. the same function failing checks of several kinds alike (values,
   gradients, masks...): undiagnosed failures of one contract function, or of
   functions that share code in the reference (LSTMCell and LSTM share the
   LSTM step) when nothing that shares it passes;
4. for quizzes, the concept tags of the questions answered wrongly;
5. whatever is left, one check at a time.

Within each group the causes that explain the most failed checks come
first. Everything here is plain data; rendering (and escaping) is done by
the feedback writers and the class report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..results import CheckResult, SubmissionResult
from .facts import ItemFacts

ORDER = {"problem": 0, "bug": 1, "function": 2, "concept": 3, "check": 4}
# What the grading plugin appends to a failed public check's message: the last module built and call made, which
# may name any target (grader/checks/plugin.py); only the text before it says which call differed.
SIZES_NOTE = "\n(sizes used: "


@dataclass
class Cause:
    """One likely root cause of some of a submission's failed checks."""

    key: str  # stable across students, for the class report: "bug:softmax_wrong_axis", "function:LSTM+LSTMCell"
    kind: str  # problem | bug | function | concept | check
    title: str  # short: "your softmax runs over the queries", "LSTMCell and LSTM"
    detail: str = ""  # the rest: what is wrong and how to see it
    checks: list[CheckResult] = field(default_factory=list)  # every failed check it is part of
    alone: list[CheckResult] = field(default_factory=list)  # those it explains by itself
    partners: list[str] = field(default_factory=list)  # keys of causes its shared checks also need

    @property
    def points(self) -> float:
        """Points lost on the checks it is part of."""
        return round(sum(c.max_score - c.score for c in self.checks), 6)

    @property
    def kinds(self) -> list[str]:
        """The kinds of check it fails (values, gradients, masks...), most frequent first."""
        counts: dict[str, int] = {}
        for c in self.checks:
            if c.kind:
                counts[c.kind] = counts.get(c.kind, 0) + 1
        return sorted(counts, key=lambda k: (-counts[k], k))


def failed_checks(r: SubmissionResult) -> list[CheckResult]:
    return [c for c in r.checks if not c.passed]


def bug_title(bug_id: str, says: str) -> tuple[str, str]:
    """(title, detail) of a known bug: its text up to the first colon, and the rest."""
    if not says:
        return bug_id.replace("_", " "), ""
    head, _, rest = says.partition(": ")
    return head.strip(), rest.strip()


def root_causes(r: SubmissionResult, facts: ItemFacts | None = None) -> list[Cause]:
    """Every likely cause of `r`'s failed checks, most likely first (see the module docstring)."""
    facts = facts or ItemFacts(r.item)
    failed = failed_checks(r)
    causes: dict[str, Cause] = {}
    if r.error:
        stopped = [c for c in failed if c.status == "error" and not c.bug] if r.checks else []
        causes["problem"] = Cause("problem", "problem", "your submission could not be graded as it is",
                                  r.error, stopped, list(stopped))
    rest: list[CheckResult] = []
    for c in failed:
        if "problem" in causes and c in causes["problem"].checks:
            continue
        parts = [p for p in c.bug.split("+") if p] if c.bug else []
        if not parts:
            rest.append(c)
            continue
        keys = [f"bug:{p}" for p in parts]
        for p, key in zip(parts, keys):
            if key not in causes:
                title, detail = bug_title(p, facts.bugs.get(p, ""))
                causes[key] = Cause(key, "bug", title, detail)
            cause = causes[key]
            cause.checks.append(c)
            if len(parts) == 1:
                cause.alone.append(c)
            for other in keys:
                if other != key and other not in cause.partners:
                    cause.partners.append(other)
    rest = _attach_to_bugs(rest, [c for c in causes.values() if c.kind == "bug"], facts)
    for cause in _by_function(rest, r, facts) + _by_concept(rest, facts):
        causes[cause.key] = cause
        rest = [c for c in rest if c not in cause.checks]
    for c in rest:
        causes[f"check:{c.name}"] = Cause(f"check:{c.name}", "check", c.name, c.description, [c], [c])
    return sorted(causes.values(), key=_rank)


def _rank(c: Cause) -> tuple:
    # A problem with the submission comes first when it stopped checks; one that stopped none (a quiz answer
    # it could not read, beside graded ones) after the causes of failed checks (alone, when nothing ran).
    first = c.kind == "problem" and bool(c.checks)
    return (not first, -len(c.checks), -len(c.alone), -c.points, ORDER[c.kind], c.key)


def _function_of(c: CheckResult, facts: ItemFacts) -> str | None:
    """The contract function a failed check points at: its only target, or the target its message names first
    (the message is the check's own text about which call differed; only declared targets can be named)."""
    targets = facts.check(c.name).targets
    if not targets:
        return None
    if len(targets) == 1:
        return targets[0]
    head = c.message.split(SIZES_NOTE, 1)[0].split("Details: ", 1)[-1]
    found = [(head.find(t), -len(t), t) for t in targets if _names(head, t)]
    return min(found)[2] if found else "+".join(sorted(targets))


def _names(text: str, name: str) -> bool:
    """`name` occurs in `text` as a whole identifier (LSTM in "LSTM(...)", not in "LSTMCell")."""
    at = text.find(name)
    while at >= 0:
        after = text[at + len(name): at + len(name) + 1]
        before = text[at - 1: at] if at else ""
        if not (after.isalnum() or after == "_") and not (before.isalnum() or before == "_"):
            return True
        at = text.find(name, at + 1)
    return False


def _attach_to_bugs(failed: list[CheckResult], bugs: list[Cause], facts: ItemFacts) -> list[CheckResult]:
    """Undiagnosed failed checks of a function whose other failures a known bug explains go to that bug (the
    one that explains most of that function's checks): a check whose answers cannot be compared value by
    value (a module at its random initialisation) or that judges a property of them names no bug by itself.
    Returns the checks left."""
    by_function: dict[str, dict[str, int]] = {}
    for cause in bugs:
        for c in cause.checks:
            f = _function_of(c, facts)
            for part in (f.split("+") if f else ()):
                counts = by_function.setdefault(part, {})
                counts[cause.key] = counts.get(cause.key, 0) + 1
    if not by_function:
        return failed
    keyed = {cause.key: cause for cause in bugs}
    left = []
    for c in failed:
        f = _function_of(c, facts) if c.status == "failed" else None
        counts: dict[str, int] = {}
        for part in (f.split("+") if f else ()):
            for key, n in by_function.get(part, {}).items():
                counts[key] = counts.get(key, 0) + n
        if not counts:
            left.append(c)
            continue
        best = keyed[min(counts, key=lambda k: (-counts[k], k))]
        best.checks.append(c)
        best.alone.append(c)
    return left


def _by_function(failed: list[CheckResult], r: SubmissionResult, facts: ItemFacts) -> list[Cause]:
    """Undiagnosed failures grouped by the function they fail, merged across functions that share code in
    the reference when every contract function using that code failed too."""
    groups: dict[str, list[CheckResult]] = {}
    for c in failed:
        f = _function_of(c, facts)
        if f is not None:
            groups.setdefault(f, []).append(c)
    if not groups:
        return []
    failing = {p for f in groups for p in f.split("+")}
    passing = set()
    for c in r.checks:
        if c.passed:
            passing.update(facts.check(c.name).targets)
    passing -= failing
    merged = _merge(list(groups), facts, passing)
    out = []
    for members in merged:
        checks = [c for f in members for c in groups[f]]
        names = sorted({p for f in members for p in f.split("+")})
        title = _and(names)
        shared = _shared_contract_name(set(names), facts)
        detail = (f"{'its' if len(names) == 1 else 'their'} checks fail alike; no known bug matches, so look at "
                  + ("its own code" if len(names) == 1 else
                     f"the code they share{f' ({shared})' if shared else ''}"))
        out.append(Cause("function:" + "+".join(names), "function", title, detail, checks, list(checks)))
    return out


def _merge(functions: list[str], facts: ItemFacts, passing: set[str]) -> list[list[str]]:
    """Groups of failing functions that share reference code no passing function uses."""
    parent = {f: f for f in functions}

    def find(f: str) -> str:
        while parent[f] != f:
            f = parent[f]
        return f

    for i, a in enumerate(functions):
        for b in functions[i + 1:]:
            shared = facts.shared(set(a.split("+")) | set(b.split("+")))
            if any(not (facts.users(s) & passing) for s in shared):
                parent[find(b)] = find(a)
    out: dict[str, list[str]] = {}
    for f in functions:
        out.setdefault(find(f), []).append(f)
    return list(out.values())


def _shared_contract_name(names: set[str], facts: ItemFacts) -> str:
    """A contract name the functions all use (shown to the student), or ""."""
    if len(names) < 2:
        return ""
    shared = facts.shared({n.split(".", 1)[0] for n in names}) & facts.contract
    return sorted(shared)[0] if shared else ""


def _by_concept(failed: list[CheckResult], facts: ItemFacts) -> list[Cause]:
    """Quiz questions answered wrongly, grouped by their concept tags (a question counts for each of its tags)."""
    tags: dict[str, list[CheckResult]] = {}
    for c in failed:
        for t in facts.check(c.name).tags:
            tags.setdefault(t, []).append(c)
    out = []
    for tag, checks in tags.items():
        alone = [c for c in checks if len(facts.check(c.name).tags) == 1]
        out.append(Cause(f"concept:{tag}", "concept", tag, "", checks, alone))
    return out


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def explains(cause: Cause, total: int, causes: list[Cause]) -> str:
    """What fixing `cause` is likely to do, in a sentence (numbers and other causes' positions only)."""
    n, alone = len(cause.checks), len(cause.alone)
    if cause.kind == "concept":
        return f"{n} of your {total} wrong or partly wrong answers {'is' if n == 1 else 'are'} about this concept."
    if cause.kind == "problem" and not cause.checks:
        return "Nothing could be checked until it is fixed."
    position = {c.key: i + 1 for i, c in enumerate(causes)}
    partners = ", ".join(f"cause {position[p]}" for p in cause.partners if p in position)
    if alone == n:
        return f"Fixing this is likely to fix {n} of your {total} failed checks."
    if alone == 0:
        return (f"It is part of {n} of your {total} failed checks, each together with "
                f"{partners or 'another cause'}: fix both.")
    return (f"Fixing this is likely to fix {alone} of your {total} failed checks; it is also part of "
            f"{n - alone} more, which need {partners or 'another cause'} fixed too.")
