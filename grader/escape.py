"""Student-controlled text, made safe for the medium it is shown in.

Everything a submission controls (exception type and text, printed output,
file and folder names, student ids, quiz answers) is untrusted data. It is
shown to people through four media, each with its own way to turn text into
behaviour; each gets one function here, and every writer of that medium uses
it:

- a terminal: control characters (ESC sequences, ``\\r``, backspace, C1
  codes) redraw the screen, and bidirectional overrides reorder what is
  read. `terminal` makes them visible (``\\x1b``, ``<U+202E>``) and keeps
  newline and tab;
- HTML: `html` escapes ``& < > " '`` (and makes control characters visible);
- Markdown (files, notebook cells): inline HTML and Markdown syntax are
  live. `markdown` escapes both for running text; `markdown_code` puts text
  in a fenced block whose fence the text cannot close; `markdown_cell` is
  for one table cell (no pipes, no line breaks);
- plain notebook outputs (stream text, error values): `terminal`, since
  Jupyter interprets ANSI codes there.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata

# C0 controls except \t and \n, DEL, C1 controls; and the Unicode format characters that reorder or
# hide text (bidi embeddings/overrides/isolates, zero-width joiners and spaces, BOM).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def _visible_control(m: re.Match) -> str:
    ch = m.group(0)
    if ch == "\r":
        return "\\r"
    return f"\\x{ord(ch):02x}"


def terminal(text: object, *, keep_newlines: bool = True) -> str:
    """`text` with every character that could move the cursor, recolour or reorder made visible."""
    s = str(text)
    s = _CONTROL.sub(_visible_control, s)
    s = _INVISIBLE.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", s)
    if not keep_newlines:
        s = s.replace("\n", "\\n").replace("\t", " ")
    return s


def one_line(text: object, limit: int | None = None) -> str:
    """`terminal` on one line (newlines shown as ``\\n``), cut to `limit` characters."""
    s = terminal(text, keep_newlines=False)
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)] + "…"
    return s


def html(text: object) -> str:
    """Text for an HTML element's content or a quoted attribute value."""
    return _html.escape(terminal(text), quote=True)


def markdown(text: object) -> str:
    """Text for running Markdown: inline HTML and Markdown syntax shown as written, never interpreted."""
    s = terminal(text)
    # No raw HTML survives (& < > become entities). Quotes stay as they are: they are harmless in Markdown
    # text, and their numeric entities (&#x27;) would get their '#' escaped below and show as written.
    s = _html.escape(s, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", s)


def markdown_cell(text: object, limit: int | None = None) -> str:
    """`markdown` for one cell of a Markdown table: one line, no pipe that could open a column."""
    s = terminal(text).replace("\n", " ").replace("\t", " ")
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)] + "…"
    s = _html.escape(s, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", s)


def markdown_code(text: object, info: str = "text") -> str:
    """A fenced code block holding `text` verbatim; the fence is longer than any backtick run inside."""
    s = terminal(text)
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{s}\n{fence}"


def name(text: object, limit: int = 80) -> str:
    """A student-controlled name (file, folder, student id) for a message: NFC, one visible line, cut."""
    return one_line(unicodedata.normalize("NFC", str(text)), limit)


def path_component(text: object) -> str:
    """A student-controlled name as one safe file or folder name (no separators, no dot names, no controls)."""
    s = unicodedata.normalize("NFC", str(text))
    s = "".join(ch if ch.isprintable() and ch not in '/\\:*?"<>|' else "_" for ch in s).strip()
    if s in ("", ".", "..") or s.startswith("."):
        s = "_" + s
    return s[:120]


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: object) -> str:
    """A value for a CSV cell that a spreadsheet will not run as a formula."""
    s = str(text)
    return "'" + s if s.startswith(_FORMULA) else s
