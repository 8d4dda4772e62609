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
  ("The forget gate." = "the forget gate", "“门控”" = "门控");
- an English article at the start ("the causal mask" = "causal mask");
- common synonyms and spellings (`SYNONYMS`): "masking" = "mask", "clipping" =
  "clip", "gradients" = "gradient", "attention mechanism" = "attention",
  "lookahead" = "look ahead", "遮罩" = "掩蔽" = "掩码", "剪切" = "剪裁" = "截断" = "裁剪",
  "S型" = "S形", "注意力机制" = "注意力", "编码-解码" = "编码器-解码器", ...

`normalize` is idempotent: normalizing twice changes nothing. `key_verdict`
says whether a short-answer key (accepted answers and patterns) accepts an
answer, and why.
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
_ARTICLE = re.compile(r"^(?:(?:the|a|an) )+(?=\S)")
MAX_LENGTH = 1000  # longer answers are cut before matching (keeps regexes fast)

# Common synonyms and spellings, rewritten to one form after the rest of the normalization.
# Latin entries match whole words; Chinese entries match anywhere. No target matches any source,
# so applying the table twice changes nothing.
SYNONYMS: tuple[tuple[str, str], ...] = (
    # English
    (r"\bmasking\b|\bmasks\b", "mask"),
    (r"\bclipping\b|\bclipped\b|\bclips\b", "clip"),
    (r"\bgradients\b|\bgrads?\b", "gradient"),
    (r"\battention mechanisms?\b", "attention"),
    (r"\blookahead\b", "look ahead"),
    (r"\bfunctions\b", "function"),
    # Chinese
    (r"遮罩|掩膜|掩蔽|遮蔽|屏蔽|蒙版", "掩码"),
    (r"剪切|剪裁|截断|修剪", "裁剪"),
    (r"注意力机制", "注意力"),
    (r"s型", "s形"),
    (r"逻辑斯蒂|逻辑斯谛", "logistic"),
    (r"编码器?解码器?(?=注意力)", "编码器解码器"),
)
_SYNONYMS = [(re.compile(src), dst) for src, dst in SYNONYMS]


def _once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_PUNCT).casefold()
    text = unicodedata.normalize("NFKC", text)
    text = _HYPHEN.sub(" ", text)
    text = _SPACE.sub(" ", text)
    text = _SPACE_NEAR_CJK.sub("", text)
    text = _SPACE_NEAR_PUNCT.sub("", text)
    text = text.lstrip(_QUOTES).rstrip(_ENDS)
    text = _ARTICLE.sub("", text)
    for pattern, canonical in _SYNONYMS:
        text = pattern.sub(canonical, text)
    return text


def normalize(text: str) -> str:
    """The canonical form of a short answer (see the module docstring)."""
    text = str(text)[:MAX_LENGTH]
    for _ in range(8):
        new = _once(text)
        if new == text:
            break
        text = new
    return text


def key_verdict(answer: str, accept: list[str] | tuple[str, ...], patterns: list[str] | tuple[str, ...]) -> str | None:
    """Why a short-answer key accepts `answer` ("accepted answer 'x'", "pattern 'p'"), or None when it does not.

    The answer is right when its normalized form equals a normalized accepted
    answer, or when a pattern matches the whole normalized answer (ignoring case).
    """
    got = normalize(answer)
    if not got:
        return None
    for a in accept:
        if got == normalize(a):
            return f"accepted answer {a!r}"
    for p in patterns:
        if re.fullmatch(p, got, flags=re.IGNORECASE):
            return f"pattern {p!r}"
    return None
