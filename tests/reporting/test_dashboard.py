"""The class dashboard's page and CSV files, from plain records: marks, counts, rounding, escaping, the CSP.

What it looks like in a browser (and that its script sorts under that CSP) is tested in
tests/browser/test_reports.py."""

from __future__ import annotations

import base64
import csv
import hashlib
import re
from html.parser import HTMLParser

import pytest

from grader.reporting import classdata
from grader.reporting.dashboard import SORT_SCRIPT, colour, csp, dashboard_html, write_dashboard
from grader.reporting.numbers import exact, percent, points
from grader.results import CheckResult, Flag, SubmissionResult

EVIL = '<img src=x onerror="alert(1)"><script>alert(2)</script>=cmd|x'


def check(name, passed, kind="values", bug="", message="differs", points=1.0):
    return CheckResult(name, points if passed else 0.0, points, "passed" if passed else "failed", "hidden",
                       "" if passed else message, kind=kind, bug=bug)


def results() -> list[SubmissionResult]:
    a = [check("t_values", True), check("t_masks", True, "masks"), check("t_grad", True, "gradients")]
    b = [check("t_values", False, bug="softmax_wrong_axis"), check("t_masks", False, "masks", bug="inverted_mask"),
         check("t_grad", True, "gradients")]
    e = [check("t_values", False, message=EVIL), check("t_masks", True, "masks"), check("t_grad", True, "gradients")]
    return [
        SubmissionResult("alice", "a3", checks=a, max_score=3.0),
        SubmissionResult("bob", "a3", checks=b, max_score=3.0, late_penalty=0.2, submitted_at="2026-01-03T00:00:00",
                         time_source="times_file"),
        SubmissionResult(EVIL, "a3", checks=e, max_score=3.0, extension="extended to 2026-02-01: " + EVIL,
                         flags=[Flag("tampering", "check t_values", EVIL)], output=EVIL),
        SubmissionResult("carol", "a3", checks=[check("t_values", False, bug="softmax_wrong_axis"),
                                                check("t_masks", True, "masks"), check("t_grad", False, "gradients")],
                         max_score=3.0, extension="exempt: joined late"),
        SubmissionResult("alice", "q1", kind="quiz", checks=[check("q_a", True, ""), check("q_b", False, "")],
                         max_score=2.0),
        SubmissionResult("bob", "q1", kind="quiz", max_score=2.0, error="bob.yaml:3: not valid YAML " + EVIL),
    ]


class Page(HTMLParser):
    """The elements, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


@pytest.fixture
def rep():
    return classdata.build(results())


def test_numbers_are_rounded_for_people_and_exact_in_exports():
    assert [points(x) for x in (14.666667, 48.5, 45.0, 0.0, 2.005, -0.001)] == ["14.67", "48.5", "45", "0", "2",
                                                                             "0"]
    assert percent(0.866) == "87%" and percent(None) == "-"
    assert exact(14.666667) == "14.666667" and exact(45.0) == "45"


def test_cells_carry_their_marks_and_exempt_items_do_not_count(rep):
    assert rep.students == sorted(["alice", "bob", "carol", EVIL])
    assert [it.id for it in rep.items] == ["a3", "q1"]
    assert rep.cell("bob", "a3").marks == ["late"] and rep.cell("bob", "a3").fraction == pytest.approx(0.8 / 3)
    assert rep.cell(EVIL, "a3").marks == ["extended", "tampering"]
    assert rep.cell("carol", "a3").marks == ["exempt"] and rep.cell("carol", "q1").result is None
    assert rep.cell("bob", "q1").marks == ["problem"]
    assert rep.total("carol") == (0.0, 2.0)  # a3 is exempt: only q1 (not handed in) counts
    a3 = next(d for d in rep.distributions if d.item == "a3")
    assert a3.n == 3 and a3.full == 1  # carol (exempt) is not in the distribution


def test_concepts_measure_check_kinds_before_late_penalties(rep):
    by = {(c.source, c.name): c for c in rep.concepts}
    masks = by[("check kind", "masks")]
    assert masks.by_student == {"alice": 1.0, "bob": 0.0, "carol": 1.0, EVIL: 1.0} and masks.checks == 1
    assert by[("check kind", "values")].by_student["bob"] == 0.0


def test_shared_causes_count_students_and_leave_tampering_out(rep):
    shared = {(c.item, c.key): c for c in rep.causes}
    assert shared[("a3", "bug:softmax_wrong_axis")].students == ["bob", "carol"]
    assert shared[("a3", "bug:inverted_mask")].students == ["bob"]
    assert all(EVIL not in c.students for c in rep.causes), "a submission flagged for tampering is left out"
    assert rep.causes[0].key == "bug:softmax_wrong_axis", "the cause the most students share comes first"


def test_the_page_has_one_row_per_student_and_no_markup_from_student_text(rep):
    page_text = dashboard_html(rep, "class <b>report</b>")
    page = Page(page_text)
    rows = [a for t, a in page.tags if t == "tr" and "data-student" in a]
    assert sorted(a["data-student"] for a in rows) == rep.students
    assert [t for t, _ in page.tags if t == "img"] == [] and "<img src=x" not in page_text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page_text  # shown as text
    assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)], "no event handler attribute"
    assert page.scripts == [SORT_SCRIPT], "one script: the page's own sorting code, and nothing of the students'"


def test_the_csp_allows_the_sorting_script_by_its_hash_and_nothing_else(rep):
    page = Page(dashboard_html(rep))
    meta = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert meta == [csp()]
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in meta[0] and "default-src 'none'" in meta[0]
    assert "unsafe-inline" not in re.search(r"script-src[^;]*", meta[0]).group(0)


def test_csv_files_keep_full_precision_and_no_cell_runs_as_a_formula(rep, tmp_path):
    files = write_dashboard(rep, tmp_path / "out" / "report.html", "t")
    assert sorted(files) == ["causes", "concepts", "distributions", "html", "scores"]
    html = files["html"].read_text(encoding="utf-8")
    for what in ("scores", "distributions", "concepts", "causes"):
        assert f"href='report-{what}.csv'" in html
    with files["scores"].open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    bob = next(r for r in rows if r["student"] == "bob" and r["item"] == "a3")
    assert bob["score"] == "0.8" and bob["fraction"] == exact(0.8 / 3) and bob["marks"] == "late"
    evil = next(r for r in rows if r["item"] == "a3" and "img" in r["student"])
    assert not evil["student"].startswith("=") and evil["notes"]
    with files["causes"].open(encoding="utf-8") as f:
        causes = list(csv.DictReader(f))
    assert {(c["item"], c["cause"], c["students"]) for c in causes} >= {("a3", "bug:softmax_wrong_axis", "bob; carol")}
    for path in files.values():
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            for cell in next(csv.reader([line])):
                assert not cell.startswith(("=", "+", "@")), f"{path.name}: {cell!r}"


def test_colours_run_from_red_through_yellow_to_green():
    assert colour(0.0) == "#d73027" and colour(1.0) == "#1a9850" and colour(None) == "#eeeeee"
    assert colour(0.5) == "#fee08b"
