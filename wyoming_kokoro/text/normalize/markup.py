"""Language-neutral clean-up: markdown to its spoken content, emoji, repeated punctuation.

Works line by line, so it gives the same result on a whole reply and on the single lines the
sentence splitter cuts it into (a code-fence line is dropped, the code inside is read as text).
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------------------------
# Markdown

_FENCE = re.compile(r"^\s*(?:```|~~~).*$")
_RULE = re.compile(r"^\s*([-*_])(?:\s*\1){2,}\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_TASK = re.compile(r"^\[[ xX]\]\s+")

# Every span stops at its own delimiter ([^*] rather than .+?), so a line full of unmatched
# markers is scanned in linear time, not quadratic.
_INLINE: tuple[tuple[re.Pattern[str], str], ...] = (
    # a fence the sentence splitter joined onto a sentence: "Pay $5. ```"
    (re.compile(r"(?:(?<=\s)|^)(?:```|~~~)[\w+-]*(?=\s|$)"), ""),
    # link text stops at the next "[" too: a run of "[" costs one pass, not one per bracket
    (re.compile(r"!\[([^\[\]\n]*+)\]\([^)\n]*\)"), r"\1"),  # image -> alt text
    (re.compile(r"\[([^\[\]\n]++)\]\((?:[^()\n]|\([^()\n]*\))*\)"), r"\1"),  # link -> text
    (re.compile(r"\[([^\[\]\n]++)\]\[[^\]\n]*\]"), r"\1"),  # reference link
    (re.compile(r"<((?:https?://|mailto:)[^>\s]+)>"), r"\1"),  # autolink
    (re.compile(r"(`+)([^`\n]+)\1"), r"\2"),  # inline code
    (re.compile(r"\*\*(?=[^\s*])((?:[^*\n]|\*(?!\*))+?)(?<=[^\s*])\*\*"), r"\1"),
    (re.compile(r"(?<!\w)__(?=[^\s_])((?:[^_\n]|_(?!_))+?)(?<=[^\s_])__(?!\w)"), r"\1"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])"), r"\1"),
    (re.compile(r"~~(?=[^\s~])([^~\n]+?)(?<=[^\s~])~~"), r"\1"),
    (re.compile(r"<br\s*/?>", re.IGNORECASE), " "),
)


def strip_markdown(text: str) -> str:
    """Markdown -> the text a person would read out: no markers, links as their text."""
    if "\n" in text:
        return "\n".join(strip_markdown(line) for line in text.split("\n"))
    line = text
    if _FENCE.match(line) or _RULE.match(line) or _TABLE_SEPARATOR.match(line):
        return ""
    if row := _TABLE_ROW.match(line):
        cells = [c.strip() for c in row.group(1).split("|")]
        line = ", ".join(c for c in cells if c)
    if header := _HEADER.match(line):
        line = header.group(1)
    line = _QUOTE.sub("", line)
    line = _BULLET.sub("", line, count=1)
    line = _TASK.sub("", line)
    for pattern, replacement in _INLINE:
        line = pattern.sub(replacement, line)
    return line


# --------------------------------------------------------------------------------------------
# Emoji

_EMOJI = re.compile(
    "[#*0-9]\ufe0f?\u20e3"  # keycaps: 1️⃣
    "|[\U0001f000-\U0001faff"  # pictographs, emoticons, flags, symbols & pictographs
    "\u2600-\u27bf"  # miscellaneous symbols, dingbats
    "\u2b00-\u2bff"  # arrows and stars used as emoji: ⭐ ⬆
    "\u231a\u231b\u2328\u23cf\u23e9-\u23fa"  # ⌚ ⌛ ⏰ ⏳ ...
    "\ufe0e\ufe0f\u200d"  # variation selectors, zero-width joiner
    "\U000e0020-\U000e007f]"  # tag characters (subdivision flags)
)


def drop_emoji(text: str) -> str:
    return _EMOJI.sub("", text)


# --------------------------------------------------------------------------------------------
# Punctuation and spacing

_PUNCTUATION: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\.{3,}|…{2,}"), "…"),
    (re.compile(r"[!?]*\?[!?]*"), "?"),
    (re.compile(r"!{2,}"), "!"),
    (re.compile(r"([,;:])\1+"), r"\1"),
    (re.compile(r"-{2,}"), "—"),
)


def tame_punctuation(text: str) -> str:
    """``!!!`` -> ``!``, ``???`` / ``?!?`` -> ``?``, ``.....`` -> ``…``, ``--`` -> ``—``."""
    for pattern, replacement in _PUNCTUATION:
        text = pattern.sub(replacement, text)
    return text


_SPACES = re.compile(r"[ \t\u00a0\u202f]+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([,.;:!?…)\]])")
_DOUBLE_PERIOD = re.compile(r"(?<![.…])\.\.(?!\.)")


def tidy(text: str) -> str:
    """One space between words, none before punctuation, no doubled sentence period."""
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
    text = _DOUBLE_PERIOD.sub(".", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()
