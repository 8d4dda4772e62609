"""What a person does on the hub, as Selenium steps: JupyterLab with nbgrader's Assignments tab, a terminal,
and formgrader. Each step waits for what the page shows next (never a fixed sleep)."""

from __future__ import annotations

import re
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from tests.browser import Browser, wait_for

SPAWN = 240  # seconds for a user's server to start and JupyterLab to load, on a busy 2-core machine


def xp(text: str) -> str:
    """An XPath string literal for `text`."""
    return f"'{text}'" if "'" not in text else f'"{text}"'


class Lab:
    """One user's JupyterLab on the hub."""

    def __init__(self, b: Browser, url: str, user: str, password: str):
        self.b, self.d, self.url, self.user, self.password = b, b.driver, url, user, password
        self.base = f"{url}/user/{user}"

    # -- logging in
    def login(self) -> None:
        d = self.d
        d.get(f"{self.url}/hub/login")
        self.b.until(EC.presence_of_element_located((By.ID, "username_input")), 60, "the hub's login page")
        d.find_element(By.ID, "username_input").send_keys(self.user)
        d.find_element(By.ID, "password_input").send_keys(self.password)
        d.find_element(By.ID, "login_submit").click()
        self.b.until(lambda d: d.current_url.startswith(f"{self.base}/lab"), SPAWN, f"{self.user}'s JupyterLab")
        self.lab_ready()

    def click(self, xpath: str, timeout: float, what: str) -> None:
        """Click the element at `xpath` once it is clickable (again if the page redraws it meanwhile)."""
        def clicked(d) -> bool:
            try:
                found = [e for e in d.find_elements(By.XPATH, xpath) if e.is_displayed() and e.is_enabled()]
                if not found:
                    return False
                found[0].click()
                return True
            except (StaleElementReferenceException, WebDriverException):
                return False

        self.b.until(clicked, timeout, what)

    def lab_ready(self) -> None:
        self.b.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#jp-main-dock-panel")), SPAWN, "JupyterLab")
        self.b.until(lambda d: d.find_elements(By.XPATH, "//div[contains(@class,'lm-MenuBar-itemLabel')]"
                                                          "[text()='Nbgrader']"), SPAWN, "nbgrader's menu")

    def menu(self, top: str, item: str) -> None:
        self.click(f"//div[contains(@class,'lm-MenuBar-itemLabel')][text()={xp(top)}]", 30, top)
        self.click(f"//div[contains(@class,'lm-Menu-itemLabel')][text()={xp(item)}]", 30, item)

    def menu_items(self, top: str) -> list[str]:
        self.click(f"//div[contains(@class,'lm-MenuBar-itemLabel')][text()={xp(top)}]", 30, top)
        items = [e.text for e in self.d.find_elements(By.CSS_SELECTOR, ".lm-Menu .lm-Menu-itemLabel") if e.text]
        ActionChains(self.d).send_keys(Keys.ESCAPE).perform()
        return items

    # -- nbgrader's Assignments tab
    def assignments(self) -> None:
        tab = "//li[contains(@class,'lm-TabBar-tab')][.//div[text()='Assignments']]"
        if self.d.find_elements(By.XPATH, tab):
            self.click(tab, 30, "the Assignments tab")
            self.click("//button[@id='refresh_assignments_list']", 30, "the Assignments tab's refresh button")
        else:
            self.menu("Nbgrader", "Assignment List")
        self.b.until(EC.visibility_of_element_located((By.ID, "released_assignments_list")), 60, "the Assignments tab")
        self.b.until(lambda d: not any(e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, ".list_loading")),
                     60, "the assignment lists to load")

    def _row(self, panel: str, item: str) -> str:
        return (f"//div[@id={xp(panel)}]//div[contains(@class,'list_item')]"
                f"[.//*[self::span or self::a][normalize-space(text())={xp(item)}]]")

    def fetch(self, item: str) -> None:
        self.click(self._row("released_assignments_list", item) + "//button[text()='Fetch']", 60,
                   f"{item}'s Fetch button")
        self.b.until(EC.presence_of_element_located((By.XPATH, self._row("fetched_assignments_list", item))), 120,
                     f"{item} among the downloaded assignments")

    def open_notebook(self, item: str, notebook: str, cells: int) -> None:
        """Open `notebook` of the fetched `item` from the Assignments tab; wait for its `cells` cells."""
        self.click(self._row("fetched_assignments_list", item) + "//a[contains(@class,'assignment-notebooks-link')]",
                   60, f"{item}'s notebooks")
        self.click(f"//div[contains(@id,{xp('-' + item)})]//a[text()={xp(notebook)}]", 60, notebook)
        self.b.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell"))
                     == cells, 120, f"{notebook}'s {cells} cells")
        self.b.until(lambda d: d.find_elements(By.XPATH, "//*[contains(@class,'jp-NotebookPanel-toolbar')]"
                                                          "//*[normalize-space(text())='Validate']"),
                     60, "nbgrader's Validate button")

    def cell(self, index: int):
        return self.d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell")[index]

    def paste(self, index: int, text: str, markdown: bool = False) -> None:
        """Replace the text of cell `index` by `text`, as a person does: click, select all, paste."""
        cell = self.cell(index)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
        if markdown and "jp-mod-rendered" in (cell.get_attribute("class") or ""):
            ActionChains(self.d).double_click(cell).perform()
            self.b.until(lambda d: "jp-mod-rendered" not in (self.cell(index).get_attribute("class") or ""), 30,
                         "the Markdown cell's editor")
            cell = self.cell(index)
        editor = cell.find_element(By.CSS_SELECTOR, ".cm-content")
        editor.click()
        ActionChains(self.d).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
        self.d.execute_script("""
            const data = new DataTransfer();
            data.setData('text/plain', arguments[1]);
            arguments[0].dispatchEvent(
                new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        """, editor, text)
        self.b.until(lambda d: self.cell(index).find_element(By.CSS_SELECTOR, ".cm-content")
                     .get_attribute("textContent").replace("\u200b", "") != "", 10, "the pasted text")

    def add_cell_below(self, index: int, markdown: bool = False) -> None:
        """Select cell `index` and press B (and M): a new cell below it, as a keyboard user does."""
        count = len(self.d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell"))
        cell = self.cell(index)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
        cell.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()
        ActionChains(self.d).send_keys(Keys.ESCAPE).send_keys("b").perform()
        self.b.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell"))
                     == count + 1, 30, "the new cell")
        if markdown:
            ActionChains(self.d).send_keys("m").perform()
            self.b.until(lambda d: "jp-MarkdownCell" in (self.cell(index + 1).get_attribute("class") or ""), 30,
                         "the new cell to be Markdown")

    def save(self, path: Path, expect: dict[int, str]) -> None:
        """Ctrl+S, then wait until the file on disk holds `expect` ({cell index: source})."""
        import nbformat

        ActionChains(self.d).key_down(Keys.ESCAPE).key_up(Keys.ESCAPE).perform()
        ActionChains(self.d).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()

        def saved() -> bool:
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception:  # the server is writing it
                return False
            return all(i < len(nb.cells) and nb.cells[i].source == _lines(src) for i, src in expect.items())

        try:
            wait_for(saved, 60, f"{path} to be saved with the pasted answers")
        except AssertionError:
            self.b.shot("timeout-save")
            nb = nbformat.read(path, as_version=4)
            wrong = {i: (nb.cells[i].source[:300] if i < len(nb.cells) else None) for i, src in expect.items()
                     if i >= len(nb.cells) or nb.cells[i].source != _lines(src)}
            raise AssertionError(f"{path} was not saved with the pasted text; the file's cells that differ: {wrong}")

    def validate(self) -> str:
        """nbgrader's Validate button in the notebook's toolbar; the dialog's text."""
        self.d.find_element(By.XPATH, "//*[contains(@class,'jp-NotebookPanel-toolbar')]"
                                      "//*[normalize-space(text())='Validate']").click()
        self.b.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Dialog")
                     and "Validating" not in d.find_element(By.CSS_SELECTOR, ".jp-Dialog").text, 300,
                     "Validate's result")
        return self.d.find_element(By.CSS_SELECTOR, ".jp-Dialog").text

    def close_dialog(self) -> None:
        self.d.find_element(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept").click()
        self.b.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".jp-Dialog"), 30, "the dialog to close")

    def submit(self, item: str) -> str:
        self.assignments()
        self.click(self._row("fetched_assignments_list", item) + "//button[text()='Submit']", 60,
                   f"{item}'s Submit button")
        row = self.b.until(EC.presence_of_element_located((By.XPATH, self._row("submitted_assignments_list", item))),
                           120, f"{item} among the submitted assignments")
        return row.text

    def fetch_feedback(self, item: str) -> None:
        self.assignments()
        self.click(self._row("submitted_assignments_list", item) + "//button[text()='Fetch Feedback']", 60,
                   f"{item}'s Fetch Feedback button")
        self.click(self._row("submitted_assignments_list", item) + "//a[contains(., 'view feedback')]", 120,
                   f"{item}'s feedback link")
        self.b.until(lambda d: d.find_elements(
            By.XPATH, "//li[contains(@class,'jp-DirListing-item')][.//span[contains(., '.html')]]"), 60,
            "the feedback folder in the file browser")

    # -- a terminal
    def terminal(self, command: str, rc_file: Path, timeout: float) -> int:
        """Type `command` in a new JupyterLab terminal; it must write its exit status to `rc_file`."""
        if rc_file.exists():
            rc_file.unlink()
        if not self.d.current_url.startswith(f"{self.base}/lab"):
            self.d.get(f"{self.base}/lab")
            self.lab_ready()
        self.menu("File", "New")
        self.click("//div[contains(@class,'lm-Menu-itemLabel')][text()='Terminal']", 30, "New > Terminal")
        area = self.b.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, ".jp-Terminal:not(.lm-mod-hidden) .xterm-helper-textarea")), 60, "the terminal")
        self.b.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Terminal:not(.lm-mod-hidden) .xterm-screen"),
                     60, "the terminal's screen")
        area.send_keys(command + "\n")
        text = wait_for(lambda: rc_file.is_file() and rc_file.read_text().strip(), timeout, f"`{command}` to finish")
        return int(text)


class Formgrader:
    """The instructor's formgrader (nbgrader's pages at /user/<instructor>/formgrader)."""

    def __init__(self, lab: Lab):
        self.lab, self.b, self.d, self.click = lab, lab.b, lab.d, lab.click
        self.base = f"{lab.base}/formgrader"

    def manage_assignments(self) -> None:
        self.d.get(f"{self.base}/manage_assignments")
        self.b.until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr td.name a")), 60, "formgrader's assignments")

    def _act(self, item: str, column: str, what: str) -> str:
        """Click `column`'s link in `item`'s row of Manage Assignments; the success dialog's text."""
        self.manage_assignments()
        self.click(f"//tr[.//td[contains(@class,'name')]//a[text()={xp(item)}]]"
                   f"//td[contains(@class,{xp(column)})]//a", 60, f"{what} {item}")
        shown = "#success-modal, #error-modal"
        dialog = self.b.until(lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, shown) if e.is_displayed()),
                                             None), 300, f"{what} {item} to finish")
        text = dialog.get_attribute("textContent")
        assert dialog.get_attribute("id") == "success-modal", f"formgrader could not {what} {item}:\n{text}"
        return text

    def close_modal(self) -> None:
        for button in self.d.find_elements(By.CSS_SELECTOR, ".modal.in .modal-footer button"):
            try:
                button.click()
            except (WebDriverException, StaleElementReferenceException):
                pass
        self.b.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".modal.in"), 30, "the dialog to close")

    def collect(self, item: str) -> str:
        return self._act(item, "collect", "collect")

    def generate_feedback(self, item: str) -> str:
        return self._act(item, "generate-feedback", "generate feedback for")

    def release_feedback(self, item: str) -> str:
        return self._act(item, "release-feedback", "release feedback for")

    def submissions(self, item: str, notebook: str) -> dict[str, tuple[str, str]]:
        """{student id: (overall score text, submission view URL)} from Manual Grading's notebook page."""
        self.d.get(f"{self.base}/gradebook/{item}/{notebook}")
        self.b.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#main-table tr td.name a")), 60,
                     f"{item}/{notebook}'s submissions")
        # show the students' names (formgrader hides them by default)
        for eye in self.d.find_elements(By.CSS_SELECTOR, "#main-table td.reveal .name-hidden"):
            if eye.is_displayed():
                eye.click()
        rows = {}
        for tr in self.d.find_elements(By.CSS_SELECTOR, "#main-table tr"):
            link = tr.find_element(By.CSS_SELECTOR, "td.name a.name-shown")
            name = link.get_attribute("textContent").strip()
            score = tr.find_elements(By.CSS_SELECTOR, "td")[2].text.strip()
            rows[name] = (score, link.get_attribute("href"))
        return rows

    def open_submission(self, url: str) -> None:
        self.d.get(url)
        self.b.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#notebook .nbgrader_cell")), 120,
                     "formgrader's submission view")

    def cell_results(self) -> dict[str, tuple[str, str]]:
        """{grade id: (the score formgrader shows, the cell's output text)} of the autograded test cells."""
        return self.d.execute_script(r"""
            const out = {};
            for (const input of document.querySelectorAll('input.score')) {
              const cell = input.closest('.cell');
              const output = cell ? cell.querySelector('.output_wrapper') : null;
              out[input.id] = [input.value || input.placeholder, output ? output.innerText : ''];
            }
            return out;""")

    def grade_by_hand(self, grade_id: str, score: float, comment: str | None = None) -> None:
        """Type a score into cell `grade_id`'s box (and a comment into its comment box), as a grader does;
        formgrader saves each when the box loses focus."""
        box = self.d.find_element(By.XPATH, f"//input[contains(@class,'score')][@id={xp(grade_id)}]")
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(f"{score:g}", Keys.TAB)
        if comment is not None:
            area = self.d.find_element(By.XPATH, f"//textarea[@id={xp(grade_id + '-comment')}]")
            # centred and focused by script: formgrader's floating lists can cover the box at the page's edge
            self.d.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus()", area)
            area.send_keys(comment, Keys.TAB)


def _lines(text: str) -> str:
    """`text` as an editor keeps it: a lone \\r is a line break."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def text_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def score_of(text: str) -> tuple[float, float]:
    m = re.search(r"([\d.]+)\s*/\s*([\d.]+)", text)
    assert m, f"no score in {text!r}"
    return float(m.group(1)), float(m.group(2))
