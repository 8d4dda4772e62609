"""Relative links in Markdown files: every one must lead to a file or folder that exists."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

# [text](target) and ![alt](target), with an optional "title"; targets with spaces are written <...>
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]+>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def relative_links(md: Path) -> list[tuple[int, str]]:
    """(line, target) of every relative link of a Markdown file (code blocks and inline code left out)."""
    text = md.read_text(encoding="utf-8")
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    text = INLINE_CODE.sub(lambda m: " " * len(m.group(0)), text)
    out = []
    for m in LINK.finditer(text):
        target = m.group(1).strip("<>")
        if SCHEME.match(target) or target.startswith(("#", "//")):
            continue
        out.append((text.count("\n", 0, m.start()) + 1, target))
    return out


def broken_links(files: list[Path], root: Path, outside_ok: frozenset[str] = frozenset()) -> list[str]:
    """`file:line: target` for each relative link that leads nowhere (or out of `root`, unless allowed)."""
    broken = []
    root = root.resolve()
    for md in files:
        for line, target in relative_links(md):
            path = unquote(target.split("#", 1)[0])
            if not path:
                continue
            dest = (md.parent / path).resolve()
            where = f"{md.relative_to(root)}:{line}: {target}"
            if not dest.is_relative_to(root):
                if target not in outside_ok:
                    broken.append(where + " (leaves the folder)")
                continue
            if not dest.exists():
                broken.append(where)
    return broken
