"""The class report and the feedback pages of the demo class, as a person sees them in headless Chromium.

The demo (`seqgrade demo`, what `make demo` runs) is run once for this module and tests/test_demo.py
(`demo`, tests/demo_run.py; same xdist group). Each test opens a page the demo wrote, takes screenshots
(test-artifacts/<test>/) and asserts on the rendered page: the heatmap has one row per student and sorts
when a heading is clicked (its script runs under the page's CSP, which allows that script only); bob's a3
feedback names his two bugs first; erin's names the functions her bug is in. A copy of the demo's gradebook
with a hostile student (HOSTILE in the id, messages, flags, extension, printed output and error) is
rendered by `seqgrade report --html` and `seqgrade feedback`: nothing of it runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.gradebook import Gradebook
from grader.results import Flag
from tests.cli._support import seqgrade

from . import HOSTILE, PAYLOADS, FORGED_HEADING, assert_shown_as_text, headings, no_script_ran

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "course" / "course.yaml"
HOSTILE_ID = PAYLOADS["img"] + PAYLOADS["svg"]  # a student id (a folder name on the `seqgrade grade` path)

pytestmark = pytest.mark.xdist_group("demo")


def open_page(browser, page: Path, shot: str, full: bool = False) -> None:
    browser.driver.set_window_size(1400, 1000)
    browser.driver.get(page.as_uri())
    browser.until(lambda d: d.execute_script("return document.readyState") == "complete", 60, "the page")
    if full:
        height = browser.driver.execute_script("return document.documentElement.scrollHeight")
        browser.driver.set_window_size(1400, min(int(height) + 120, 6000))
    browser.shot(shot)
    no_script_ran(browser.driver, shot)


def heatmap_order(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#heatmap tbody tr')].map(r => r.getAttribute('data-student'))")


def sort_by(browser, column: int) -> list[str]:
    """Click the heading of `column` and return the rows' students, once the order changed."""
    from selenium.webdriver.common.by import By

    before = heatmap_order(browser.driver)
    browser.driver.find_element(By.CSS_SELECTOR, f"#heatmap th[data-col='{column}']").click()
    browser.until(lambda d: heatmap_order(d) != before, 10, "the rows to be sorted (the page's script)")
    return heatmap_order(browser.driver)


def test_class_report_shows_every_student_and_sorts(browser, demo):
    from selenium.webdriver.common.by import By

    open_page(browser, demo.out / "report.html", "class-report", full=True)
    d = browser.driver
    students = sorted({s for _, s in demo.results})
    assert heatmap_order(d) == students, "one heatmap row per student, by name"
    items = sorted({i for i, _ in demo.results})
    for row in d.find_elements(By.CSS_SELECTOR, "#heatmap tbody tr"):
        assert len(row.find_elements(By.CSS_SELECTOR, "td.score")) == len(items)
    late = d.find_elements(By.CSS_SELECTOR, "#heatmap tr[data-student='erin'] sup.mark.late")
    assert len(late) == 5, "erin's five late assignments are marked"
    assert d.find_elements(By.CSS_SELECTOR, "#heatmap tr[data-student='dave'] sup.mark.problem"), "unreadable quiz"

    totals = {}
    for s in students:
        cell = d.find_element(By.CSS_SELECTOR, f"#heatmap tr[data-student='{s}'] td.total")
        totals[s] = float(cell.get_attribute("data-sort"))
    by_total = sort_by(browser, 1)
    assert by_total == sorted(students, key=lambda s: (-totals[s], s)), "highest total first"
    browser.shot("class-report-sorted-by-total")
    assert sort_by(browser, 1) == sorted(students, key=lambda s: (totals[s], s)), "a second click reverses it"

    dists = d.find_elements(By.CSS_SELECTOR, "svg.strips g.dist")
    assert [g.get_attribute("data-item") for g in dists] == [i for i in items if i.startswith("a")] + \
        [i for i in items if i.startswith("q")]
    a3 = d.find_element(By.CSS_SELECTOR, "svg.strips g.dist[data-item='a3_attention']")
    assert len(a3.find_elements(By.CSS_SELECTOR, "circle.dot")) == 5 and "n=5" in a3.text

    causes = d.find_elements(By.CSS_SELECTOR, "table.causes tr.cause")
    keys = [c.get_attribute("data-key") for c in causes]
    assert "a3_attention:bug:softmax_wrong_axis" in keys and "a3_attention:bug:mask_after_softmax" in keys
    row = causes[keys.index("a3_attention:bug:mask_after_softmax")]
    assert "bob" in row.find_element(By.CSS_SELECTOR, "td.who").text
    concepts = [r.get_attribute("data-concept") for r in d.find_elements(By.CSS_SELECTOR, "table.concepts tr[data-concept]")]
    assert {"values", "gradients", "masks", "parallelism", "long_sequence", "decoding"} <= set(concepts)


def causes_shown(driver) -> list[tuple[str, str]]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#causes li.cause')].map(li => [li.getAttribute('data-cause'), "
        "li.querySelector('.title').textContent])")


def test_bobs_a3_feedback_names_his_two_bugs_first(browser, demo):
    open_page(browser, demo.out / "feedback" / "bob" / "a3_attention.html", "feedback-bob-a3", full=True)
    d = browser.driver
    causes = causes_shown(d)
    assert [k for k, _ in causes[:2]] == ["bug:softmax_wrong_axis", "bug:mask_after_softmax"], causes
    assert "softmax runs over the queries" in causes[0][1] and "after the softmax" in causes[1][1]
    section, table = d.execute_script(
        "return [document.getElementById('causes').getBoundingClientRect().top, "
        "document.getElementById('checks').getBoundingClientRect().top]")
    assert section < table, "the causes come before the table of checks"
    text = d.find_element("id", "causes").text
    failed = sum(1 for c in demo.results[("a3_attention", "bob")].checks if not c.passed)
    assert f"of your {failed} failed checks" in text and "cause 2" in text and "cause 1" in text


def test_erins_feedback_names_the_functions_her_bug_is_in(browser, demo):
    open_page(browser, demo.out / "feedback" / "erin" / "a2_gated.html", "feedback-erin-a2")
    causes = causes_shown(browser.driver)
    assert causes[0][0] == "function:LSTM+LSTMCell" and "LSTM and LSTMCell fail" in causes[0][1], causes


@pytest.fixture
def hostile_gradebook(demo, tmp_path) -> Path:
    """The demo's gradebook with a hostile student: HOSTILE in every field a student controls."""
    gb_path = tmp_path / "gradebook.db"
    shutil.copy(demo.out / "gradebook.db", gb_path)
    with Gradebook(gb_path) as gb:
        for item, flagged in (("a3_attention", False), ("a2_gated", True)):
            r = gb.result(item, "bob")
            r.student = HOSTILE_ID
            r.graded_at = None
            for c in r.checks:
                if not c.passed:
                    c.message = f"your code raised RuntimeError: {HOSTILE}"
                    c.bug = ""
            r.output, r.error, r.extension = HOSTILE, HOSTILE, f"extended to 2030-01-01: {HOSTILE}"
            if flagged:
                r.flags = [Flag("tampering", f"{HOSTILE_ID}/gated.py", HOSTILE)]
            gb.record(r)
    return gb_path


def test_hostile_student_text_runs_nowhere(browser, hostile_gradebook, tmp_path):
    report = tmp_path / "report" / "report.html"
    proc = seqgrade("report", "--html", report, "--gradebook", hostile_gradebook, "--course", COURSE)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "\x1b" not in proc.stdout, "the terminal table shows escapes, never runs them"
    feedback = tmp_path / "feedback"
    proc = seqgrade("feedback", "--out", feedback, "--gradebook", hostile_gradebook, "--course", COURSE,
                    "--student", HOSTILE_ID)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]

    open_page(browser, report, "hostile-class-report", full=True)
    assert_shown_as_text(browser.driver)
    assert len(heatmap_order(browser.driver)) == 6 and HOSTILE_ID in heatmap_order(browser.driver)
    sort_by(browser, 1)  # the page's own script still runs: the CSP allows it, and only it
    no_script_ran(browser.driver, "hostile-class-report-sorted")
    assert not [h for h in headings(browser.driver) if FORGED_HEADING in h]

    pages = sorted(feedback.rglob("*.html"))
    assert len(pages) == 2, pages
    for page in pages:
        open_page(browser, page, f"hostile-feedback-{page.stem}", full=True)
        assert_shown_as_text(browser.driver)
        assert not [h for h in headings(browser.driver) if FORGED_HEADING in h]
