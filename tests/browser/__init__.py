"""Headless Chromium for seqgrade's tests: start it, take screenshots, and prove that no script ran.

Debian's ``chromium`` and ``chromium-driver`` (scripts/install-browser.sh) driven by Selenium.
Every page gets a *probe* before its own scripts run (Chrome DevTools' ``addScriptToEvaluateOnNewDocument``):
it records every ``alert``/``confirm``/``prompt`` call instead of opening a dialog. The hostile payloads
(`HOSTILE`) each try to set ``window.__pwned``, change ``document.title`` and call ``alert``;
`no_script_ran` asserts that none of that happened, in the page and in each of its frames, and that no
live markup carrying a payload (an ``on...`` handler, a ``<script>``, a ``javascript:`` link) is in the DOM.

The fixtures (`browser`, `artifacts`) are in `tests.browser.fixtures`, loaded for every test by
tests/conftest.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("SEQGRADE_TEST_ARTIFACTS", REPO / "test-artifacts"))
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromedriver")  # Debian's packages chromium and chromium-driver


# --------------------------------------------------------------------------- hostile text
def _js(tag: str) -> str:
    return f"window.__pwned='{tag}';document.title='PWNED {tag}';alert('{tag}')"


PAYLOADS = {
    "img": f'<img src=x onerror="{_js("img")}">',
    "script": f"<script>{_js('script')}</script>",
    "svg": f'<svg><svg onload="{_js("svg")}"></svg></svg>',
    "iframe": f'<iframe srcdoc="<script>parent.{_js("iframe")}</script>"></iframe>',
    # Markdown: close a code fence and a <pre> from inside, forge a heading, a javascript: link
    "fence": "\n```\n</code></pre>\n\n" + f'<img src=y onerror="{_js("fence")}">' + "\n\n```\n",
    "heading": "\n\n# All checks passed — 40/40\n\n",
    "link": f"[open the solution](javascript:{_js('link')})",
    # a terminal: erase the line, return to its start and redraw it as a full score
    "terminal": "\x1b[2K\r40/40 passed\x1b[0m",
}
HOSTILE = "seqgrade-hostile " + " ".join(PAYLOADS.values())
FORGED_HEADING = "All checks passed"

# Code a hostile student adds to an otherwise correct module: HOSTILE in the printed output and in an
# exception's text, raised when the module is imported (a submission-level error) or when RNNCell runs
# (each RNNCell check's message).
FAILS_AT_IMPORT = f"print({HOSTILE!r})\nraise RuntimeError({HOSTILE!r})\n"
FAILS_IN_RNNCELL = (f"print({HOSTILE!r})\n\n\ndef _hostile_forward(self, *args, **kwargs):\n"
                    f"    raise RuntimeError({HOSTILE!r})\n\n\nRNNCell.forward = _hostile_forward\n")


# --------------------------------------------------------------------------- the probe
PROBE = r"""
(() => {
  if (window.__seqgradeProbe) return;
  const probe = {dialogs: []};
  Object.defineProperty(window, '__seqgradeProbe', {value: probe});
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    try {
      Object.defineProperty(window, name,
        {value: function (msg) { probe.dialogs.push(name + '(' + msg + ')'); return null; }});
    } catch (e) { probe.dialogs.push('cannot wrap ' + name); }
  }
})();
"""

STATE = r"""
const probe = window.__seqgradeProbe;
const live = [];
for (const el of document.querySelectorAll('*')) {
  for (const a of el.attributes) {
    const n = a.name.toLowerCase(), v = a.value;
    if (n.startsWith('on') && v.includes('__pwned')) live.push(`<${el.tagName.toLowerCase()} ${n}=...>`);
    if ((n === 'href' || n === 'src' || n === 'action' || n === 'formaction') && /^\s*javascript:/i.test(v))
      live.push(`<${el.tagName.toLowerCase()} ${n}="${v.slice(0, 40)}">`);
    if (n === 'srcdoc' && v.includes('__pwned')) live.push(`<${el.tagName.toLowerCase()} srcdoc=...>`);
  }
  if (el.tagName === 'SCRIPT' && el.textContent.includes('__pwned'))
    live.push('<script>' + el.textContent.slice(0, 40));
}
return {probe: !!probe, dialogs: probe ? probe.dialogs : [],
        pwned: window.__pwned === undefined ? null : String(window.__pwned),
        title: document.title, live: live, url: location.href};
"""


@dataclass
class FrameState:
    url: str
    probe: bool
    dialogs: list[str]
    pwned: str | None
    title: str
    live: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        out = []
        if not self.probe:
            out.append("the probe is missing (the page was not loaded by this browser?)")
        if self.pwned is not None:
            out.append(f"a payload ran: window.__pwned = {self.pwned!r}")
        if self.dialogs:
            out.append(f"a payload called {', '.join(self.dialogs)}")
        if self.title.startswith("PWNED "):
            out.append(f"a payload changed the title to {self.title!r}")
        if self.live:
            out.append(f"live hostile markup in the page: {', '.join(self.live[:5])}")
        return out


def page_states(driver) -> list[FrameState]:
    """The probe's findings in the current page and in each of its frames (depth first)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    states = [FrameState(**driver.execute_script(STATE))]
    frames = driver.find_elements(By.CSS_SELECTOR, "iframe, frame")
    for i in range(len(frames)):
        try:
            driver.switch_to.frame(driver.find_elements(By.CSS_SELECTOR, "iframe, frame")[i])
        except (WebDriverException, IndexError):
            continue
        try:
            states += page_states(driver)
        finally:
            driver.switch_to.parent_frame()
    return states


def open_dialog(driver) -> str | None:
    """The text of an open alert/confirm/prompt, or None."""
    from selenium.common.exceptions import NoAlertPresentException

    try:
        alert = driver.switch_to.alert
        text = alert.text
    except NoAlertPresentException:
        return None
    alert.dismiss()
    return text


def no_script_ran(driver, where: str = "") -> None:
    """Assert that no hostile payload ran or sits live in the page shown (see the module doc)."""
    dialog = open_dialog(driver)
    assert dialog is None, f"{where or driver.current_url}: a dialog is open: {dialog!r}"
    problems = [f"{s.url[:120]}: {p}" for s in page_states(driver) for p in s.problems()]
    assert not problems, f"{where or driver.current_url}:\n  " + "\n  ".join(problems)


def script_ran(driver) -> bool:
    """Whether `no_script_ran` would fail here (for the tests that prove the probe sees a payload)."""
    try:
        no_script_ran(driver)
    except AssertionError:
        return True
    return False


def visible_text(driver) -> str:
    return driver.execute_script("return document.body ? document.body.innerText : ''")


def assert_shown_as_text(driver, what: str = "<img src=x onerror=") -> None:
    """The payload reached the page and is shown as text (so the page was not just missing it)."""
    text = visible_text(driver)
    assert what in text, (f"{driver.current_url}: expected the payload shown as text ({what!r}); "
                          f"page text:\n{text[:1500]}")


def headings(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => h.textContent.trim())")


# --------------------------------------------------------------------------- the browser
def missing() -> str | None:
    """Why Chromium cannot run here, or None."""
    for path in CHROMIUM:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return (f"{path} is missing: Debian's chromium and chromium-driver are needed "
                    "(scripts/install-browser.sh installs them as root; make test runs it)")
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[browser]'; make test does)"
    return None


class Browser:
    """One headless Chromium: `driver` is Selenium's; `shot` saves numbered screenshots under `folder`."""

    def __init__(self, folder: Path, width: int = 1400, height: int = 900):
        self.folder = Path(folder)
        self.shots: list[Path] = []
        self.t0 = time.monotonic()
        self.times: list[float] = []  # seconds from the start to each screenshot
        self.size = (width, height)
        self.driver = self._start()
        self.sessions: dict[str, object] = {}  # name -> driver, for `switch`

    def _start(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        width, height = self.size
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM[0]
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    f"--window-size={width},{height}", "--no-first-run", "--disable-extensions",
                    "--disable-background-networking", "--disable-sync", "--lang=en-US"):
            opts.add_argument(arg)
        opts.set_capability("unhandledPromptBehavior", "ignore")  # an alert stays open for `no_script_ran`
        driver = webdriver.Chrome(service=Service(CHROMIUM[1]), options=opts)
        driver.set_page_load_timeout(120)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
        return driver

    def switch(self, name: str) -> bool:
        """Use the browser window named `name` (one per person: its own cookies and storage), starting it
        the first time; the screenshots go on numbering. Returns whether it is new."""
        if not self.sessions:
            self.sessions[""] = self.driver
        new = name not in self.sessions
        if new:
            self.sessions[name] = self._start()
        self.driver = self.sessions[name]
        return new

    def shot(self, name: str) -> Path:
        """Save a screenshot `NN-name.png` (numbered in the order taken)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        path = self.folder / f"{len(self.shots) + 1:02d}-{safe}.png"
        self.driver.save_screenshot(str(path))
        self.shots.append(path)
        self.times.append(time.monotonic() - self.t0)
        return path

    def write_timeline(self) -> Path:
        """`timeline.txt` beside the screenshots: when each was taken (seconds from the start)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "timeline.txt"
        lines, before = [], 0.0
        for shot, t in zip(self.shots, self.times):
            lines.append(f"{t:7.1f} s  (+{t - before:5.1f})  {shot.name}")
            before = t
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def wait(self, timeout: float = 60):
        """Selenium's wait; an element the page redraws meanwhile (stale) counts as not there yet."""
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout, poll_frequency=0.2,
                             ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))

    def until(self, condition, timeout: float = 60, what: str = ""):
        """Wait for `condition(driver)`; on a timeout, the message says what was awaited and where."""
        from selenium.common.exceptions import TimeoutException

        try:
            return self.wait(timeout).until(condition)
        except TimeoutException:
            self.shot(f"timeout-{what or 'wait'}")
            raise AssertionError(f"waited {timeout:.0f} s for {what or condition} "
                                 f"at {self.driver.current_url}") from None

    def close(self) -> None:
        for driver in {id(d): d for d in [self.driver, *self.sessions.values()]}.values():
            try:
                driver.quit()
            except Exception:  # a browser that already died: nothing left to stop
                pass


def fresh_folder(name: str) -> Path:
    """`ARTIFACTS/name`, emptied: one test's screenshots and pages."""
    folder = ARTIFACTS / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    """Poll `predicate()` until it returns a true value; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(interval)
