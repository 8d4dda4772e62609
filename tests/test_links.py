"""No broken links: every relative link in the repository's Markdown leads to a file that exists.

The student bundle's Markdown is checked in tests/test_release.py (`test_bundle_has_no_broken_links`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.links import broken_links, relative_links

REPO = Path(__file__).resolve().parents[1]
# Links that leave the repository on purpose: the student API contract lives beside it (../shared/).
OUTSIDE = frozenset({"../shared/CONTRACT.md"})


def _markdown_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    return [REPO / f for f in sorted(set(listed)) if (REPO / f).is_file()]


def test_repository_markdown_has_relative_links_to_check():
    files = _markdown_files()
    assert len(files) > 20
    assert sum(len(relative_links(f)) for f in files) > 50


def test_every_relative_link_in_the_repository_leads_to_a_file():
    broken = broken_links(_markdown_files(), REPO, OUTSIDE)
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_link_checker_finds_a_broken_link(tmp_path):
    (tmp_path / "there.md").write_text("x\n", encoding="utf-8")
    (tmp_path / "a.md").write_text(
        "[ok](there.md) [anchor](there.md#top) [web](https://example.org) ![img](missing.png)\n"
        "```\n[in code](nowhere.md)\n```\n`[inline](nowhere.md)` [out](../../elsewhere.md)\n", encoding="utf-8")
    assert broken_links([tmp_path / "a.md"], tmp_path) == [
        "a.md:1: missing.png", "a.md:5: ../../elsewhere.md (leaves the folder)"]
