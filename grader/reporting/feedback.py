"""Per-student feedback, Markdown and HTML: every check, its points, the message and a hint.

Hidden checks are named with their description and message; their code and
inputs are never part of a result, so they cannot leak here.
"""

from __future__ import annotations

from pathlib import Path

from .. import escape
from ..results import SubmissionResult

HINTS = {
    "error": "Your code raised an exception or crashed here; run `seqgrade check` locally to see it.",
    "timeout": "Your code ran too long here: look for an infinite loop or a loop over positions.",
    "failed": "",
}


def _row_hint(status: str, message: str) -> str:
    return HINTS.get(status, "")


FLAG_WORDS = {"refused": "refused", "tampering": "tampering detected", "limit": "resource limit"}


def feedback_markdown(r: SubmissionResult, title: str = "") -> str:
    """Markdown in which every student-controlled string is escaped (`grader.escape`)."""
    md, cell = escape.markdown, escape.markdown_cell
    lines = [f"# Feedback: {md(title or r.item)} — {md(r.student)}", ""]
    lines.append(f"**Score: {r.score:g} / {r.max_score:g}**" +
                 (f" (late penalty {r.late_penalty:.0%} applied to {r.raw_score:g})" if r.late_penalty else ""))
    if r.submitted_at:
        lines.append(f"Submitted {md(r.submitted_at)} ({md(r.time_source or 'time source unknown')}); "
                     f"graded {md(r.graded_at or '')}.")
    if r.extension:
        lines.append(f"Extension: {md(r.extension)}")
    for f in r.flags:
        lines += ["", f"> **{FLAG_WORDS.get(f.kind, f.kind)}** ({md(f.where)}): {md(f.detail)}"]
    if r.error:
        lines += ["", "**Problem with the submission:**", "", escape.markdown_code(r.error)]
    lines += ["", "| check | visibility | result | points | message |", "|---|---|---|---|---|"]
    for c in r.checks:
        mark = "✅ passed" if c.passed else f"❌ {c.status}"
        lines.append(f"| `{escape.one_line(c.name, 120).replace('`', '')}` | {c.visibility} | {mark} | "
                     f"{c.score:g}/{c.max_score:g} | {cell(c.message or c.description, 500)} |")
    failed = [c for c in r.checks if not c.passed]
    if failed:
        lines += ["", "## What to fix", ""]
        for c in failed:
            hint = _row_hint(c.status, c.message)
            lines.append(f"- **{md(c.name)}** ({md(c.description or c.visibility)}): {md(c.message)}"
                         + (f" — {hint}" if hint else ""))
    if r.output:
        lines += ["", "## What your code printed", "", escape.markdown_code(r.output[-2000:])]
    return "\n".join(lines) + "\n"


def feedback_html(r: SubmissionResult, title: str = "") -> str:
    e = escape.html
    rows = []
    for c in r.checks:
        cls = "pass" if c.passed else "fail"
        hint = _row_hint(c.status, c.message) if not c.passed else ""
        rows.append(f"<tr class='{cls}'><td><code>{e(c.name)}</code><br><small>{e(c.description)}</small></td>"
                    f"<td>{e(c.visibility)}</td><td>{e(c.status)}</td><td>{c.score:g}/{c.max_score:g}</td>"
                    f"<td><pre class='msg'>{e(c.message)}</pre>{('<em>' + e(hint) + '</em>') if hint else ''}</td></tr>")
    problem = (f"<div class='problem'><b>Problem with the submission:</b><pre>{e(r.error)}</pre></div>"
               if r.error else "")
    flags = "".join(f"<p class='flag {e(f.kind)}'><b>{e(FLAG_WORDS.get(f.kind, f.kind))}</b> ({e(f.where)}): "
                    f"{e(f.detail)}</p>" for f in r.flags)
    late = f" (late penalty {r.late_penalty:.0%})" if r.late_penalty else ""
    printed = f"<h2>What your code printed</h2><pre>{e(r.output[-2000:])}</pre>" if r.output else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Feedback {e(r.item)} {e(r.student)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ccc;padding:.4rem;vertical-align:top}}tr.pass td:nth-child(3){{color:#080}}
tr.fail td:nth-child(3){{color:#b00}}.problem,.flag{{background:#fee;padding:.5rem}}
pre{{white-space:pre-wrap;margin:0;font-family:inherit}}</style></head>
<body><h1>Feedback: {e(title or r.item)} — {e(r.student)}</h1>
<p><b>Score: {r.score:g} / {r.max_score:g}</b>{late}</p>{flags}{problem}
<table><tr><th>check</th><th>visibility</th><th>result</th><th>points</th><th>message</th></tr>
{''.join(rows)}</table>{printed}</body></html>
"""


def write_feedback(results: list[SubmissionResult], out: Path, titles: dict[str, str] | None = None) -> list[Path]:
    """`<out>/<student>/<item>.md` and `.html` for every result."""
    written = []
    for r in results:
        d = out / escape.path_component(r.student)
        d.mkdir(parents=True, exist_ok=True)
        title = (titles or {}).get(r.item, r.item)
        md, ht = d / f"{escape.path_component(r.item)}.md", d / f"{escape.path_component(r.item)}.html"
        md.write_text(feedback_markdown(r, title), encoding="utf-8")
        ht.write_text(feedback_html(r, title), encoding="utf-8")
        written += [md, ht]
    return written
