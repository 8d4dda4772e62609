"""docs/deployment-jupyterhub.md shows the configuration the local hub and its browser test use.

Every configuration block (Python, JSON, Dockerfile, YAML) carries a marker: ``<!-- tested: FILE -->``
(the block is a verbatim part of FILE, as `make hub` renders it for its demo instance) or
``<!-- untested: why -->``.
"""

from __future__ import annotations

import re
import shutil

import pytest

from .conftest import REPO, hub_course, hub_instance, localhub

DOC = REPO / "docs" / "deployment-jupyterhub.md"
BLOCK = re.compile(r"(?:<!-- (tested|untested):\s*(.*?)\s*-->\n)?```(\w*)\n(.*?)\n```", re.S)
CONFIG_LANGUAGES = {"python", "json", "dockerfile", "yaml", "toml", "ini"}


def demo() -> hub_instance.Instance:
    """The instance `make hub` starts, as far as its configuration files go."""
    return hub_instance.Instance(name="demo", dir="/srv/seqgrade-hub/demo", port=8000, hub_port=8081,
                                 proxy_api_port=8001, instructor="instructor", students=["alice", "bob"],
                                 password="", venv="", repo=str(REPO))


def configured(path: str) -> str:
    """The text of `path` as the demo hub uses it (a settings template rendered for the demo)."""
    rendered = hub_course.render_role_configs(demo())
    key = path.removeprefix("scripts/hub/")
    if key in rendered:
        return rendered[key]
    return (REPO / path).read_text(encoding="utf-8")


BLOCKS = BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_doc_has_tested_configuration():
    assert sum(marker == "tested" for marker, *_ in BLOCKS) >= 5


@pytest.mark.parametrize("marker,target,language,body",
                         [b for b in BLOCKS if b[2] in CONFIG_LANGUAGES],
                         ids=lambda v: v[:40] if isinstance(v, str) else None)
def test_configuration_snippet_is_the_one_used_or_says_untested(marker, target, language, body):
    assert marker, f"a {language} block without <!-- tested: FILE --> or <!-- untested: why -->:\n{body[:200]}"
    if marker == "tested":
        assert body in configured(target), f"this block is not (any more) part of {target}:\n{body}"
    else:
        assert target, "say why the block is untested"


def test_the_demo_defaults_are_the_ones_documented():
    """Port, names and folders in the doc are localhub.py's defaults."""
    text = DOC.read_text(encoding="utf-8")
    defaults = localhub.parser().parse_args(["start"])
    assert defaults.name == "demo" and str(hub_instance.TOP) == "/srv/seqgrade-hub"
    assert f"http://127.0.0.1:{defaults.port}" in text
    assert all(f"`{s}`" in text for s in defaults.students.split(",")) and "`instructor`" in text


def test_set_due_dates_keeps_the_rest_of_course_yaml(tmp_path):
    """The demo's due dates are set in the instructor's copy of course.yaml, comments and all."""
    from grader.config import load_config

    copy = tmp_path / "course.yaml"
    shutil.copy(REPO / "course" / "course.yaml", copy)
    before = load_config(REPO / "course" / "course.yaml")
    hub_course.set_due_dates(copy, "a1_rnn", "q1_rnn_basics", "2031-02-03T04:05:00+00:00")
    after = load_config(copy)
    assert after.due_date("a1_rnn").isoformat() == after.due_date("q1_rnn_basics").isoformat() \
        == "2031-02-03T04:05:00+00:00"
    for other in ("a2_gated", "a3_attention", "q2_gated"):
        assert after.due_date(other) == before.due_date(other)
    def comments(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.lstrip().startswith("#")]

    assert comments((REPO / "course" / "course.yaml").read_text()) == comments(copy.read_text())
