"""Per-student feedback, Markdown and HTML: the most likely root causes first, then every check.

The page opens with the one to three causes that explain most of the failed
checks (`grader.reporting.causes`), each with how many checks it explains,
then the full table of checks (with the number of the cause each belongs
to), then what the code printed. Hidden checks are named with their
description and message; their code and inputs are never part of a result,
so they cannot leak here. Every piece of student-controlled text (ids,
messages, printed output, flags) goes through `grader.escape` for its medium,
and the HTML page carries a Content-Security-Policy that runs no script.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import escape
from ..results import CheckResult, SubmissionResult
from .causes import Cause, explains, failed_checks, root_causes
from .facts import ItemFacts
from .numbers import points

if TYPE_CHECKING:
    from .facts import CourseFacts

HINTS = {
    "error": "Your code raised an exception or crashed here; run `seqgrade check` locally to see it.",
    "timeout": "Your code ran too long here: look for an infinite loop or a loop over positions.",
    "failed": "",
}
FLAG_WORDS = {"refused": "refused", "tampering": "tampering detected", "limit": "resource limit"}
KIND_WORDS = {"problem": "your submission", "bug": "known bug", "function": "same function failing",
              "concept": "concept", "check": "one check"}
SHOWN_CAUSES = 3  # the feedback opens with at most this many
CHECKS_LISTED = 12  # check names listed under a cause before "and N more"
HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _row_hint(status: str, message: str) -> str:
    return HINTS.get(status, "")


def _cause_numbers(causes: list[Cause]) -> dict[str, list[int]]:
    """check name -> the numbers (1-based) of the shown causes it belongs to."""
    out: dict[str, list[int]] = {}
    for i, cause in enumerate(causes[:SHOWN_CAUSES], 1):
        for c in cause.checks:
            out.setdefault(c.name, []).append(i)
    return out


def _headline(cause: Cause) -> str:
    """The cause's title as the student reads it (plain text, not yet escaped)."""
    title = cause.title[:1].upper() + cause.title[1:]
    if cause.kind == "function":
        verb = "fails" if " and " not in cause.title else "fail"
        kinds = cause.kinds
        what = (", ".join(kinds[:-1]) + " and " + kinds[-1] if len(kinds) > 1 else (kinds[0] if kinds else ""))
        return f"{title} {verb} {what + ' ' if what else ''}checks alike"
    if cause.kind == "concept":
        return f"Concept: {cause.title}"
    if cause.kind == "check":
        return f"{cause.title}"
    return title


def _intro(r: SubmissionResult, causes: list[Cause]) -> str:
    failed = len(failed_checks(r))
    shown = causes[:SHOWN_CAUSES]
    if not failed:
        return "One problem stops grading:" if shown else ""
    covered = len({c.name for cause in shown for c in cause.checks})
    if r.kind == "quiz":
        return (f"{failed} of your {len(r.checks)} answers lost points. "
                + (f"{'This concept covers' if len(shown) == 1 else f'These {len(shown)} causes cover'} "
                   f"{covered} of them:" if shown else ""))
    return (f"You failed {failed} of {len(r.checks)} checks. "
            + (f"{'This cause explains' if len(shown) == 1 else f'These {len(shown)} causes explain'} "
               f"{covered} of them; fix them in this order:" if shown else ""))


def _check_list(checks: list[CheckResult]) -> list[str]:
    names = [c.name for c in checks]
    more = len(names) - CHECKS_LISTED
    return names[:CHECKS_LISTED] + ([f"and {more} more"] if more > 0 else [])


def causes_markdown(r: SubmissionResult, causes: list[Cause], heading: str = "##") -> list[str]:
    """The root-cause section in Markdown (every string escaped for running Markdown)."""
    md = escape.markdown
    if not causes:
        return []
    lines = [f"{heading} Most likely causes", "", md(_intro(r, causes)), ""]
    total = len(failed_checks(r))
    for i, cause in enumerate(causes[:SHOWN_CAUSES], 1):
        kind = f" ({md(KIND_WORDS[cause.kind])})" if cause.kind != "concept" else ""
        lines.append(f"{i}. **{md(_headline(cause))}**{kind}"
                     + (f": {md(cause.detail)}" if cause.detail and cause.kind != "problem" else ""))
        if cause.kind == "problem" and cause.detail:
            lines += ["", _indent(escape.markdown_code(cause.detail[-3000:]), 3), ""]
        lines += ["", f"   {md(explains(cause, total, causes))}"]
        if cause.checks and cause.kind != "check":
            names = _check_list(cause.checks)
            label = "Questions" if r.kind == "quiz" else "Checks"
            lines += ["", f"   {label}: " + ", ".join(f"`{_code_name(n)}`" if not n.startswith("and ") else md(n)
                                                    for n in names)]
        lines.append("")
    rest = len(causes) - SHOWN_CAUSES
    if rest > 0:
        lines += ["", md(f"{rest} more {'cause' if rest == 1 else 'causes'} below, one per row of the table.")]
    return lines + [""]


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())


def _code_name(name: str) -> str:
    """A check name inside inline code: one line, no backtick that could close it."""
    return escape.one_line(name, 120).replace("`", "'")


def feedback_markdown(r: SubmissionResult, title: str = "", facts: ItemFacts | None = None) -> str:
    """Markdown in which every student-controlled string is escaped (`grader.escape`)."""
    md, cell = escape.markdown, escape.markdown_cell
    causes = root_causes(r, facts)
    numbers = _cause_numbers(causes)
    lines = [f"# Feedback: {md(title or r.item)} — {md(r.student)}", ""]
    lines.append(f"**Score: {points(r.score)} / {points(r.max_score)}**" +
                 (f" (late penalty {r.late_penalty:.0%} applied to {points(r.raw_score)})" if r.late_penalty else ""))
    if r.submitted_at:
        lines.append(f"Submitted {md(r.submitted_at)} ({md(r.time_source or 'time source unknown')}); "
                     f"graded {md(r.graded_at or '')}.")
    if r.extension:
        lines.append(f"Extension: {md(r.extension)}")
    for f in r.flags:
        lines += ["", f"> **{FLAG_WORDS.get(f.kind, f.kind)}** ({md(f.where)}): {md(f.detail)}"]
    lines.append("")
    lines += causes_markdown(r, causes)
    if r.checks:
        lines += ["## Every check", "", "| check | kind | visibility | result | points | cause | message |",
                  "|---|---|---|---|---|---|---|"]
        for c in r.checks:
            mark = "✅ passed" if c.passed else f"❌ {c.status}"
            hint = _row_hint(c.status, c.message) if not c.passed else ""
            text = (c.message or c.description) + (f" — {hint}" if hint else "")
            lines.append(f"| `{_code_name(c.name)}` | {cell(c.kind or '-')} | {c.visibility} | {mark} | "
                         f"{points(c.score)}/{points(c.max_score)} | "
                         f"{'+'.join(map(str, numbers.get(c.name, []))) or ('' if c.passed else '-')} | "
                         f"{cell(text, 500)} |")
    if r.output:
        lines += ["", "## What your code printed", "", escape.markdown_code(r.output[-2000:])]
    return "\n".join(lines) + "\n"


def causes_html(r: SubmissionResult, causes: list[Cause]) -> str:
    """The root-cause section as HTML (every string escaped)."""
    e = escape.html
    if not causes:
        return ""
    total = len(failed_checks(r))
    items = []
    for i, cause in enumerate(causes[:SHOWN_CAUSES], 1):
        detail = ""
        if cause.detail:
            detail = (f"<pre class='problem'>{e(cause.detail[-3000:])}</pre>" if cause.kind == "problem"
                      else f"<span class='detail'>: {e(cause.detail)}</span>")
        checks = ""
        if cause.checks and cause.kind != "check":
            checks = (f"<div class='checks'>{'Questions' if r.kind == 'quiz' else 'Checks'}: " + ", ".join(
                f"<code>{e(n)}</code>" if not n.startswith("and ") else e(n) for n in _check_list(cause.checks))
                + "</div>")
        items.append(f"<li class='cause {e(cause.kind)}' data-cause='{e(cause.key)}'>"
                     f"<b class='title'>{e(_headline(cause))}</b>"
                     + (f" <span class='kind'>({e(KIND_WORDS[cause.kind])})</span>" if cause.kind != "concept" else "")
                     + f"{detail}<div class='explains'>{e(explains(cause, total, causes))}</div>{checks}</li>")
    rest = len(causes) - SHOWN_CAUSES
    more = (f"<p>{rest} more {'cause' if rest == 1 else 'causes'} below, one per row of the table.</p>"
            if rest > 0 else "")
    return (f"<section id='causes'><h2>Most likely causes</h2><p>{e(_intro(r, causes))}</p>"
            f"<ol>{''.join(items)}</ol>{more}</section>")


def feedback_html(r: SubmissionResult, title: str = "", facts: ItemFacts | None = None) -> str:
    e = escape.html
    causes = root_causes(r, facts)
    numbers = _cause_numbers(causes)
    rows = []
    for c in r.checks:
        cls = "pass" if c.passed else "fail"
        hint = _row_hint(c.status, c.message) if not c.passed else ""
        cause = "+".join(map(str, numbers.get(c.name, []))) or ("" if c.passed else "-")
        rows.append(f"<tr class='{cls}'><td><code>{e(c.name)}</code><br><small>{e(c.description)}</small></td>"
                    f"<td>{e(c.kind or '-')}</td><td>{e(c.visibility)}</td><td>{e(c.status)}</td>"
                    f"<td>{points(c.score)}/{points(c.max_score)}</td><td class='cause'>{cause}</td>"
                    f"<td><pre class='msg'>{e(c.message)}</pre>{('<em>' + e(hint) + '</em>') if hint else ''}</td></tr>")
    problem = (f"<div class='problem'><b>Problem with the submission:</b><pre>{e(r.error)}</pre></div>"
               if r.error and not causes else "")
    flags = "".join(f"<p class='flag {e(f.kind)}'><b>{e(FLAG_WORDS.get(f.kind, f.kind))}</b> ({e(f.where)}): "
                    f"{e(f.detail)}</p>" for f in r.flags)
    late = f" (late penalty {r.late_penalty:.0%} applied to {points(r.raw_score)})" if r.late_penalty else ""
    ext = f"<p>Extension: {e(r.extension)}</p>" if r.extension else ""
    printed = f"<h2>What your code printed</h2><pre>{e(r.output[-2000:])}</pre>" if r.output else ""
    table = ("<h2>Every check</h2><table id='checks'><tr><th>check</th><th>kind</th><th>visibility</th>"
             f"<th>result</th><th>points</th><th>cause</th><th>message</th></tr>{''.join(rows)}</table>"
             if r.checks else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Feedback {e(r.item)} {e(r.student)}</title>
<meta http-equiv="Content-Security-Policy" content="{HTML_CSP}">
<style>body{{font-family:sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:.4rem;vertical-align:top}}
tr.pass td:nth-child(4){{color:#080}}tr.fail td:nth-child(4){{color:#b00}}td.cause{{text-align:center;font-weight:bold}}
.problem,.flag{{background:#fee;padding:.5rem}}pre{{white-space:pre-wrap;margin:0;font-family:inherit}}
#causes{{background:#f4f7fb;border:1px solid #c9d6e8;border-radius:6px;padding:.2rem 1.2rem .8rem}}
#causes li{{margin:.6rem 0}}#causes .title{{font-size:1.08em}}#causes .kind{{color:#666}}
#causes .explains{{margin-top:.2rem}}#causes .checks{{color:#555;font-size:.9em;margin-top:.2rem}}</style></head>
<body><h1>Feedback: {e(title or r.item)} — {e(r.student)}</h1>
<p><b>Score: {points(r.score)} / {points(r.max_score)}</b>{late}</p>{ext}{flags}{problem}
{causes_html(r, causes)}
{table}{printed}</body></html>
"""


def write_feedback(results: list[SubmissionResult], out: Path, titles: dict[str, str] | None = None,
                   facts: "CourseFacts | None" = None) -> list[Path]:
    """`<out>/<student>/<item>.md` and `.html` for every result (causes grouped with `facts` when given)."""
    written = []
    for r in results:
        d = out / escape.path_component(r.student)
        d.mkdir(parents=True, exist_ok=True)
        title = (titles or {}).get(r.item, r.item)
        item_facts = facts.item(r.item) if facts is not None else None
        md, ht = d / f"{escape.path_component(r.item)}.md", d / f"{escape.path_component(r.item)}.html"
        md.write_text(feedback_markdown(r, title, item_facts), encoding="utf-8")
        ht.write_text(feedback_html(r, title, item_facts), encoding="utf-8")
        written += [md, ht]
    return written


def root_causes_markdown(r: SubmissionResult, facts: ItemFacts | None = None, heading: str = "##") -> str:
    """Only the root-cause section, in Markdown ("" when nothing failed): for pages seqgrade does not write
    whole, such as the note at the top of an nbgrader-autograded notebook."""
    return "\n".join(causes_markdown(r, root_causes(r, facts), heading)).strip()
