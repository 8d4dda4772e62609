"""The class dashboard: one self-contained HTML page an instructor opens after grading, and its CSV files.

`write_dashboard(report, out)` writes `out` (e.g. report.html) and beside it
`<stem>-scores.csv`, `<stem>-distributions.csv`, `<stem>-concepts.csv` and
`<stem>-causes.csv`, the same numbers at full precision. The page needs no
network: its charts are inline SVG, its style inline. Its one script sorts the
rows of the score table; the Content-Security-Policy allows that script by
its hash and nothing else (no other script, no request of any kind). Every
student-controlled string (ids, messages, flags, notes) goes through
`grader.escape.html`; the script only moves rows and compares their
`data-sort` values, it never writes text into the page.
"""

from __future__ import annotations

import base64
import csv
import hashlib
from datetime import datetime, timezone
from pathlib import Path

from .. import escape
from .classdata import MARKS, ClassReport, Distribution
from .numbers import exact, percent, points

MARK_LETTERS = {"late": "L", "extended": "E", "exempt": "X", "refused": "R", "tampering": "T", "limit": "M",
                "problem": "!"}
KIND_WORDS = {"problem": "submission problem", "bug": "known bug", "function": "same function failing",
              "concept": "quiz concept", "check": "one check"}
CAUSES_SHOWN = 15

SORT_SCRIPT = """\
(function () {
  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.querySelectorAll('th[data-col]');
    Array.prototype.forEach.call(heads, function (th) {
      th.addEventListener('click', function () {
        var col = Number(th.getAttribute('data-col'));
        var dir = th.getAttribute('aria-sort') === 'descending' ? 'ascending' : 'descending';
        if (col === 0 && !th.getAttribute('aria-sort')) { dir = 'ascending'; }
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-sort'), y = b.cells[col].getAttribute('data-sort');
          var nx = parseFloat(x), ny = parseFloat(y);
          var c = (isNaN(nx) || isNaN(ny)) ? String(x).localeCompare(String(y)) : nx - ny;
          if (c === 0) { c = a.getAttribute('data-student').localeCompare(b.getAttribute('data-student')); }
          return dir === 'ascending' ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""


def script_hash(script: str = SORT_SCRIPT) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def csp() -> str:
    """The page's policy: inline styles, the sorting script by its hash, nothing else (no request at all)."""
    return (f"default-src 'none'; style-src 'unsafe-inline'; script-src '{script_hash()}'; "
            "base-uri 'none'; form-action 'none'")


# --------------------------------------------------------------------------- colours
_STOPS = [(0.0, (215, 48, 39)), (0.5, (254, 224, 139)), (1.0, (26, 152, 80))]


def colour(f: float | None) -> str:
    """Red (0%) - yellow (50%) - green (100%); grey when there is no score."""
    if f is None:
        return "#eeeeee"
    f = min(1.0, max(0.0, f))
    for (a, ca), (b, cb) in zip(_STOPS, _STOPS[1:]):
        if f <= b:
            t = (f - a) / (b - a)
            return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb))
    return "#1a9850"


def _ink(f: float | None) -> str:
    return "#fff" if f is not None and (f < 0.2 or f > 0.85) else "#111"


# --------------------------------------------------------------------------- sections
def _heatmap(rep: ClassReport) -> str:
    e = escape.html
    head = ["<th data-col='0' class='name' title='sort by name'>student</th>",
            "<th data-col='1' title='sort by total'>total</th>"]
    for i, it in enumerate(rep.items, 2):
        head.append(f"<th data-col='{i}' class='item {it.kind}' title='sort by {e(it.id)} (max "
                    f"{points(it.max_score)})'><span>{e(it.id)}</span></th>")
    rows = []
    for s in rep.students:
        got, top = rep.total(s)
        tf = rep.total_fraction(s)
        cells = [f"<th scope='row' class='name' data-sort='{e(s)}'>{e(escape.one_line(s, 60))}</th>",
                 f"<td class='total' data-sort='{-1 if tf is None else round(tf, 6)}' style='background:{colour(tf)};"
                 f"color:{_ink(tf)}' title='{e(points(got))} / {e(points(top))}'>{percent(tf)}</td>"]
        for it in rep.items:
            c = rep.cell(s, it.id)
            f = c.fraction
            marks = "".join(f"<sup class='mark {m}' title='{e(MARKS[m])}'>{MARK_LETTERS[m]}</sup>" for m in c.marks)
            tip = (f"{s} · {it.id}: " + (f"{points(c.result.score)} / {points(c.result.max_score)}"
                                         if c.result else "no submission") + "".join("\n" + n for n in c.notes))
            text = "–" if c.result is None else (percent(f).rstrip("%") if f is not None else "0")
            sort = -1 if f is None else round(f, 6)
            cls = " ".join(["score"] + [f"m-{m}" for m in c.marks] + (["missing"] if c.result is None else []))
            cells.append(f"<td class='{cls}' data-sort='{sort}' style='background:{colour(f)};color:{_ink(f)}' "
                         f"title='{e(tip[:800])}'>{text}{marks}</td>")
        rows.append(f"<tr data-student='{e(s)}'>{''.join(cells)}</tr>")
    legend = " ".join(f"<span class='legend-mark'><sup class='mark {m}'>{MARK_LETTERS[m]}</sup> {e(MARKS[m])}</span>"
                      for m in MARKS)
    scale = "".join(f"<span style='background:{colour(v / 4)};color:{_ink(v / 4)}'>{25 * v}%</span>" for v in range(5))
    return (f"<section id='scores'><h2>Scores</h2><p class='hint'>Score as a percentage of each item's maximum "
            f"(late penalties applied). Click a column heading to sort the rows.</p>"
            f"<table class='heatmap sortable' id='heatmap'><thead><tr>{''.join(head)}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f"<p class='legend'><span class='scale'>{scale}</span> {legend}</p></section>")


def _distribution_svg(rep: ClassReport) -> str:
    e = escape.html
    dists = rep.distributions
    left, x0, x1, right = 4, 205, 455, 467
    row_h, top = 50, 34
    width, height = 610, top + row_h * len(dists) + 20

    def x(f: float) -> float:
        return round(x0 + (x1 - x0) * min(1.0, max(0.0, f)), 1)

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} "
             f"{height}' role='img' aria-label='score distribution per item' class='strips'>"]
    for t in range(0, 101, 25):
        parts.append(f"<line x1='{x(t / 100)}' y1='{top - 8}' x2='{x(t / 100)}' y2='{height - 16}' class='grid'/>"
                     f"<text x='{x(t / 100)}' y='{top - 14}' class='tick'>{t}%</text>")
    for i, d in enumerate(dists):
        cy = top + row_h * i + row_h / 2
        parts.append(f"<g class='dist' data-item='{e(d.item)}'>"
                     f"<text x='{left}' y='{cy + 4}' class='label'>{e(d.item)}</text>")
        lo, hi = d.values[0][1], d.values[-1][1]
        parts.append(f"<line x1='{x(lo)}' y1='{cy}' x2='{x(hi)}' y2='{cy}' class='whisker'/>"
                     f"<rect x='{x(d.q1)}' y='{cy - 9}' width='{max(1.0, x(d.q3) - x(d.q1))}' height='18' "
                     f"class='box'/><line x1='{x(d.median)}' y1='{cy - 11}' x2='{x(d.median)}' y2='{cy + 11}' "
                     f"class='median'/>")
        stacks: dict[int, int] = {}
        for student, f in d.values:
            slot = round(100 * f)
            k = stacks.get(slot, 0)
            stacks[slot] = k + 1
            dy = 0 if k == 0 else (7 * ((k + 1) // 2)) * (-1 if k % 2 else 1)
            parts.append(f"<circle cx='{x(f)}' cy='{cy + max(-21, min(21, dy))}' r='5' class='dot' "
                         f"style='fill:{colour(f)}'><title>{e(escape.one_line(student, 60))}: {percent(f)}</title>"
                         f"</circle>")
        parts.append(f"<text x='{right}' y='{cy - 2}' class='count'>n={d.n} · median {percent(d.median)}</text>"
                     f"<text x='{right}' y='{cy + 13}' class='count sub'>{d.full} full"
                     f"{f' · {d.zero} at 0' if d.zero else ''}</text></g>")
    parts.append("</svg>")
    return "".join(parts)


def _distributions(rep: ClassReport) -> str:
    return ("<section id='distributions'><h2>Score distribution per item</h2><p class='hint'>One dot per student "
            "(equal scores stacked), the box from the first to the third quartile, the line at the median; "
            "the counts on the right.</p>" + _distribution_svg(rep) + "</section>")


def _concepts(rep: ClassReport) -> str:
    e = escape.html
    if not rep.concepts:
        return ""
    head = ("<tr><th>concept</th><th>measured by</th><th>class</th>"
            + "".join(f"<th class='student'><span>{e(escape.one_line(s, 40))}</span></th>" for s in rep.students)
            + "</tr>")
    blocks = []
    for source, title in (("check kind", "By kind of check (assignments)"), ("quiz tag", "By quiz tag")):
        concepts = sorted((c for c in rep.concepts if c.source == source),
                          key=lambda c: (c.mean if c.mean is not None else 2.0, c.name))
        if not concepts:
            continue
        rows = []
        for c in concepts:
            m = c.mean
            cells = "".join(f"<td style='background:{colour(v)};color:{_ink(v)}' title='{e(s)}: {percent(v)}'>"
                            f"{percent(v).rstrip('%') if v is not None else '–'}</td>" for s, v in c.by_student.items())
            rows.append(f"<tr data-concept='{e(c.name)}'><th scope='row'>{e(c.name.replace('_', ' '))}</th>"
                        f"<td class='measured'>{c.checks} {'checks' if source == 'check kind' else 'questions'} in "
                        f"{e(', '.join(c.items))}</td><td class='mean' style='background:{colour(m)};color:{_ink(m)}'>"
                        f"{percent(m)}</td>{cells}</tr>")
        blocks.append(f"<h3>{title}</h3><table class='concepts'>{head}{''.join(rows)}</table>")
    return ("<section id='concepts'><h2>Mastery by concept</h2><p class='hint'>The share of the points earned on "
            "the checks of each kind (before late penalties) and on the quiz questions of each tag, weakest "
            "first.</p>" + "".join(blocks) + "</section>")


def _causes(rep: ClassReport) -> str:
    e = escape.html
    shown = [c for c in rep.causes if c.kind != "problem"][:CAUSES_SHOWN]  # problems: in the notes below
    if not shown:
        return ("<section id='causes'><h2>Most common bugs</h2><p>No failed checks: nothing to group.</p>"
                "</section>")
    n = max(1, len(rep.students))
    rows = []
    for i, c in enumerate(shown, 1):
        who = ", ".join(e(escape.one_line(s, 40)) for s in c.students)
        ident = c.key.split(":", 1)[-1]
        name = (f"<b>{e(ident)}</b>: {e(c.title)}" if c.kind == "bug" else f"<b>{e(c.title)}</b>")
        if c.kind == "function":
            name += " fail alike, no known bug matches"
        bar = f"<span class='bar' style='width:{round(100 * len(c.students) / n)}%'></span>"
        rows.append(f"<tr class='cause {e(c.kind)}' data-key='{e(c.item)}:{e(c.key)}'><td class='rank'>{i}</td>"
                    f"<td class='students'>{bar}<span class='n'>{len(c.students)}</span></td>"
                    f"<td>{e(c.item)}</td><td>{name}<br><small>{e(KIND_WORDS[c.kind])}"
                    f"{(': ' + e(c.detail)) if c.detail and c.kind == 'bug' else ''}</small></td>"
                    f"<td class='who'>{who}</td><td class='num'>{c.checks}</td><td class='num'>{points(c.points)}</td>"
                    f"</tr>")
    more = sum(1 for c in rep.causes if c.kind != "problem") - len(shown)
    return ("<section id='causes'><h2>Most common bugs</h2><p class='hint'>Each student's failed checks grouped "
            "into root causes (a diagnosed known bug, or one function failing checks of several kinds alike), "
            "counted over the class; submissions flagged for tampering or refused are left out.</p>"
            "<table class='causes'><tr><th>#</th><th>students</th><th>item</th><th>cause</th><th>who</th>"
            f"<th>failed checks</th><th>points lost</th></tr>{''.join(rows)}</table>"
            + (f"<p>{more} more in the CSV file.</p>" if more > 0 else "") + "</section>")


def _notes(rep: ClassReport) -> str:
    e = escape.html
    rows = []
    for (s, item), c in sorted(rep.cells.items()):
        for note in c.notes:
            rows.append(f"<tr><td>{e(escape.one_line(s, 60))}</td><td>{e(item)}</td>"
                        f"<td><pre>{e(note[-1500:])}</pre></td></tr>")
    if not rows:
        return ""
    return ("<section id='notes'><h2>Lateness, extensions and flags</h2><table class='notes'>"
            f"<tr><th>student</th><th>item</th><th>note</th></tr>{''.join(rows)}</table></section>")


STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:92rem;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}.hint,.meta{color:#555}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3rem .45rem}
table.heatmap td.score,table.heatmap td.total{text-align:center;min-width:2.6rem;font-variant-numeric:tabular-nums}
table.heatmap th{background:#f6f6f6}table.heatmap th[data-col]{cursor:pointer}
table.heatmap th[aria-sort=ascending]::after{content:" \\25B2"}table.heatmap th[aria-sort=descending]::after{content:" \\25BC"}
table.heatmap thead th.item span,table.concepts th.student span{writing-mode:vertical-rl;transform:rotate(180deg);
white-space:nowrap}table.heatmap th.quiz{background:#eef3fb}
td.missing{color:#888}td.m-exempt{background:repeating-linear-gradient(45deg,#eee,#eee 4px,#fff 4px,#fff 8px)!important;
color:#555!important}td.m-tampering,td.m-refused{outline:3px solid #000;outline-offset:-3px}
sup.mark{font-size:.7em;font-weight:bold;margin-left:1px;padding:0 2px;border-radius:3px;background:#fff;color:#222;
border:1px solid #888}.row{display:flex;flex-wrap:wrap;gap:0 2.5rem;align-items:flex-start}.row>section{flex:0 1 auto}
sup.mark.tampering,sup.mark.refused{background:#000;color:#fff}sup.mark.late{background:#ffe7a0}
sup.mark.problem{background:#b00;color:#fff}.legend{font-size:.85em}.legend-mark{margin-right:.8rem;white-space:nowrap;line-height:1.7}
.scale span{display:inline-block;padding:0 .4rem}#scores .hint,#scores .legend,#distributions .hint{max-width:36rem}
svg.strips .grid{stroke:#ddd}svg.strips .tick{font-size:11px;text-anchor:middle;fill:#555}
svg.strips .label{font-size:13px;fill:#222}svg.strips .count{font-size:12px;fill:#333}svg.strips .sub{fill:#666}
svg.strips .box{fill:#dfe8f5;stroke:#5b7db1}svg.strips .median{stroke:#1d3f73;stroke-width:3}
svg.strips .whisker{stroke:#5b7db1}svg.strips .dot{stroke:#222;stroke-width:1}
table.concepts td{text-align:center}table.concepts td.measured{text-align:left;font-size:.85em;color:#444}
table.causes td.students{position:relative;min-width:6rem}table.causes .bar{position:absolute;left:0;top:0;bottom:0;
background:#f3b3ad}table.causes .n{position:relative;font-weight:bold;padding-left:.3rem}td.num{text-align:right}
table.notes pre{white-space:pre-wrap;margin:0;font-family:inherit}
"""


def dashboard_html(rep: ClassReport, title: str = "", csv_files: dict[str, str] | None = None) -> str:
    e = escape.html
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    assignments = sum(1 for it in rep.items if it.kind == "assignment")
    quizzes = len(rep.items) - assignments
    links = " · ".join(f"<a href='{e(href)}'>{e(label)}</a>" for label, href in (csv_files or {}).items())
    problems = "".join(f"<p class='hint'>Could not read the course's facts for {e(p)}</p>" for p in rep.problems)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title or 'Class report')}</title>
<meta http-equiv="Content-Security-Policy" content="{csp()}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{STYLE}</style></head>
<body><h1>{e(title or 'Class report')}</h1>
<p class="meta">{len(rep.students)} students · {assignments} assignments · {quizzes} quizzes · generated {now}
{(' · the same numbers as CSV: ' + links) if links else ''}</p>{problems}
<div class="row">{_heatmap(rep)}
{_distributions(rep)}</div>
{_concepts(rep)}
{_causes(rep)}
{_notes(rep)}
<script>{SORT_SCRIPT}</script>
</body></html>
"""


# --------------------------------------------------------------------------- CSV
def _csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    c = escape.csv_cell
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow([c(v) if isinstance(v, str) else v for v in row])
    return path


def write_csvs(rep: ClassReport, stem: Path) -> dict[str, Path]:
    """The report's numbers at full precision: `<stem>-scores.csv`, `-distributions.csv`, `-concepts.csv`,
    `-causes.csv`."""
    out = {}
    rows = []
    for (s, item), c in sorted(rep.cells.items()):
        r = c.result
        rows.append([s, item, r.kind if r else "", exact(r.score) if r else "", exact(r.max_score) if r else "",
                     exact(c.fraction) if c.fraction is not None else "",
                     exact(r.late_penalty) if r else "", r.extension if r else "", " ".join(c.marks),
                     " | ".join(c.notes)])
    out["scores"] = _csv(stem.with_name(f"{stem.name}-scores.csv"), [
        "student", "item", "kind", "score", "max_score", "fraction", "late_penalty", "extension", "marks", "notes"],
        rows)
    out["distributions"] = _csv(stem.with_name(f"{stem.name}-distributions.csv"), [
        "item", "n", "min", "q1", "median", "q3", "max", "full", "zero"],
        [[d.item, d.n, exact(d.values[0][1]), exact(d.q1), exact(d.median), exact(d.q3), exact(d.values[-1][1]),
          d.full, d.zero] for d in rep.distributions])
    crow = []
    for con in rep.concepts:
        crow.append([con.name, con.source, " ".join(con.items), con.checks, "(class mean)",
                     exact(con.mean) if con.mean is not None else ""])
        crow += [[con.name, con.source, " ".join(con.items), con.checks, s, exact(v) if v is not None else ""]
                 for s, v in con.by_student.items()]
    out["concepts"] = _csv(stem.with_name(f"{stem.name}-concepts.csv"), [
        "concept", "source", "items", "checks", "student", "fraction"], crow)
    out["causes"] = _csv(stem.with_name(f"{stem.name}-causes.csv"), [
        "item", "cause", "kind", "title", "students_count", "students", "failed_checks", "points_lost"],
        [[c.item, c.key, c.kind, c.title, len(c.students), "; ".join(c.students), c.checks, exact(c.points)]
         for c in rep.causes])
    return out


def write_dashboard(rep: ClassReport, out: Path, title: str = "") -> dict[str, Path]:
    """`out` (the HTML page) and its CSV files beside it; returns {what: path}."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stem = out.with_suffix("")
    files = write_csvs(rep, stem)
    links = {f"{what}": p.name for what, p in files.items()}
    out.write_text(dashboard_html(rep, title, links), encoding="utf-8")
    return {"html": out, **files}


def distribution_summary(d: Distribution) -> str:
    """One line for a terminal: "n=5, median 86%, 2 full, 1 at 0"."""
    return f"n={d.n}, median {percent(d.median)}, {d.full} full" + (f", {d.zero} at 0" if d.zero else "")
