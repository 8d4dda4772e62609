"""The probe behind `no_script_ran` sees every payload when it is live, and nothing when it is escaped.

Without these, a test that asserts "no script ran" could pass because the probe is blind.
"""

from __future__ import annotations

import html

import pytest

from . import HOSTILE, PAYLOADS, headings, no_script_ran, page_states, script_ran


def _page(tmp_path, name: str, body: str):
    path = tmp_path / f"{name}.html"
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>probe {name}</title></head>"
                    f"<body>{body}</body></html>", encoding="utf-8")
    return path.as_uri()


@pytest.mark.parametrize("name", ["img", "script", "svg", "iframe"])
def test_live_payload_is_seen(browser, tmp_path, name):
    browser.driver.get(_page(tmp_path, name, PAYLOADS[name]))
    browser.until(lambda d: script_ran(d), 10, f"the {name} payload to run")
    with pytest.raises(AssertionError, match="payload"):
        no_script_ran(browser.driver)


def test_live_markup_that_has_not_run_is_seen(browser, tmp_path):
    """A javascript: link runs only when clicked: its presence alone fails the assertion."""
    browser.driver.get(_page(tmp_path, "link", "<a href=\"javascript:window.__pwned='link'\">solution</a>"))
    states = page_states(browser.driver)
    assert states[0].pwned is None and states[0].live
    with pytest.raises(AssertionError, match="live hostile markup"):
        no_script_ran(browser.driver)


def test_escaped_payloads_pass(browser, tmp_path):
    browser.driver.get(_page(tmp_path, "escaped", f"<pre>{html.escape(HOSTILE)}</pre>"))
    no_script_ran(browser.driver)
    assert "<script>" in browser.driver.execute_script("return document.body.innerText")
    assert headings(browser.driver) == []
    browser.shot("escaped")
