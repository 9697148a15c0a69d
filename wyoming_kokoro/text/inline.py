"""Inline phonemes in request text: ``[Kokoro](/kˈOkəɹO/)`` speaks the phonemes between slashes.

The syntax is misaki's (and Kokoro-FastAPI's): a markdown link whose target is phonemes between
slashes. The bracketed text is what is shown and what the markdown stripper would keep; it also
gives the English tagger its context. An ordinary link is still a link: a target that does not
start and end with a slash (``[docs](https://...)``), or one that reads as a relative URL path
rather than phonemes (``[Settings](/config/)``: only lower-case ASCII, digits and ``.-_~%+``, or an
ASCII symbol the model cannot say) is left to the markdown stripper, which reads its text.

The pattern is linear: every run is possessive and stops at its own delimiter, so ten thousand
``[`` or an unclosed ``[a](/b`` cost one pass.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from .phonemes import PhonemeError, check_phonemes

MAX_TEXT = 200  # characters between the brackets; a longer span is not inline phonemes

INLINE = re.compile(rf"\[([^\[\]\n]{{1,{MAX_TEXT}}}+)\]\(/([^/()\[\]\n]++)/\)")
_PATH = re.compile(r"[a-z0-9._~%+-]+")
_UNSAFE = re.compile(r"[\[\]()]")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s)")


@dataclass(frozen=True)
class InlinePhonemes:
    start: int
    end: int
    text: str  # between the brackets
    phonemes: str  # checked, in Kokoro's symbols


def _is_link(target: str, vocab: Collection[str] | None) -> bool:
    if _PATH.fullmatch(target):
        return True
    return target.isascii() and vocab is not None and any(
        ch not in vocab and ch != " " for ch in target)


def find_inline(text: str, vocab: Collection[str] | None) -> list[InlinePhonemes]:
    """The inline phoneme spans in ``text``, checked; raises PhonemeError for a bad one."""
    if "](/" not in text:
        return []
    found = []
    for match in INLINE.finditer(text):
        word, target = match.group(1), match.group(2)
        if not word.strip() or _is_link(target, vocab):
            continue
        phonemes = check_phonemes(target, vocab, f"inline phonemes for {word[:40]!r}")
        found.append(InlinePhonemes(match.start(), match.end(), word, phonemes))
    return found


def strip_inline(text: str, vocab: Collection[str] | None = None) -> str:
    """``text`` with each inline phoneme span replaced by its text (inline phonemes off)."""
    if "](/" not in text:
        return text
    return INLINE.sub(lambda m: m.group(0) if _is_link(m.group(2), vocab) or
                      not m.group(1).strip() else m.group(1), text)


def markup(word: str, phonemes: str) -> str:
    """``[word](/phonemes/)`` safe to embed: no bracket in the word, no sentence end inside."""
    word = _SENTENCE_END.sub(" ", _UNSAFE.sub(" ", word)).strip() or "_"
    return f"[{word}](/{phonemes}/)"


__all__ = ["INLINE", "InlinePhonemes", "PhonemeError", "find_inline", "markup", "strip_inline"]
