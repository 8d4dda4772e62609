"""Normalization of short answers before they are compared.

Two answers are the same when they differ only in:
- letter case ("LSTM" = "lstm"), via Unicode case folding;
- full-width and half-width forms ("ＬＳＴＭ" = "LSTM", "（" = "("), via NFKC;
- Chinese and English punctuation ("遗忘门。" = "遗忘门.", "“gate”" = '"gate"', "、" = ",");
- whitespace: runs of spaces, tabs and newlines count as one space, and spaces
  at the ends, next to Chinese characters or next to punctuation are dropped
  ("遗忘 门" = "遗忘门", "f , i" = "f,i" = "f，i");
- a hyphen between letters counts as a space ("self-attention" = "self attention");
- quotes around the whole answer and sentence punctuation at its end
  ("The forget gate." = "the forget gate", "“门控”" = "门控").

`normalize` is idempotent: normalizing twice changes nothing.
"""

from __future__ import annotations

import re
import unicodedata

# punctuation that NFKC leaves alone, mapped to its ASCII counterpart
_PUNCT = str.maketrans({
    "。": ".", "｡": ".", "、": ",", "､": ",", "・": ".", "·": ".",
    "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "「": '"', "」": '"', "『": '"', "』": '"',
    "〝": '"', "〞": '"', "‘": "'", "’": "'", "‚": "'", "`": "'",
    "《": "<", "》": ">", "〈": "<", "〉": ">",
    "【": "[", "】": "]", "〔": "[", "〕": "]", "〖": "[", "〗": "]",
    "—": "-", "–": "-", "―": "-", "‐": "-", "‑": "-", "‒": "-", "−": "-", "～": "~", "〜": "~",
})
_CJK = r"\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_SPACE = re.compile(r"\s+")
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}]) | (?=[{_CJK}])")
_SPACE_NEAR_PUNCT = re.compile(r" (?=[.,;:!?)\]}>])|(?<=[.,;:!?(\[{<]) ")
_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
_QUOTES = " \"'"
_ENDS = " .,;:!?\"'"
MAX_LENGTH = 1000  # longer answers are cut before matching (keeps regexes fast)


def _once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_PUNCT).casefold()
    text = unicodedata.normalize("NFKC", text)
    text = _HYPHEN.sub(" ", text)
    text = _SPACE.sub(" ", text)
    text = _SPACE_NEAR_CJK.sub("", text)
    text = _SPACE_NEAR_PUNCT.sub("", text)
    return text.lstrip(_QUOTES).rstrip(_ENDS)


def normalize(text: str) -> str:
    """The canonical form of a short answer (see the module docstring)."""
    text = str(text)[:MAX_LENGTH]
    for _ in range(8):
        new = _once(text)
        if new == text:
            break
        text = new
    return text
