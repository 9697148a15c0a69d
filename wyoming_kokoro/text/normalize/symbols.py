"""Symbols between words and numbers: "&" -> "and", "~5" -> "about 5", "#1" / "No. 1" -> "number
1", "2 + 2" -> "2 plus 2" (the numbers are read by later rules)."""

from __future__ import annotations

import re

from .lexicon import Lexicon

_AMPERSAND = re.compile(r"\s*&\s*")
_ABOUT = re.compile(r"[~≈]\s?(?=[-−]?(?:[$€£¥₹]\s?)?\d)")
_NUMBER_SIGN = re.compile(
    r"(?:(?<![\w&#])#|(?<!\w)(?:No|Nr|nr|núm|Núm|[Nn])\.|(?<!\w)[Nn]\.?[º°])\s?(?=\d)")
_PLUS = re.compile(r"(?<=\d)\s?\+\s?(?=\d)")


class Symbols:
    def __init__(self, lex: Lexicon) -> None:
        self._and = f" {lex.and_} "
        self._about = f"{lex.about} "
        self._number = f"{lex.number} "
        self._plus = f" {lex.plus} "

    def symbols(self, text: str) -> str:
        text = _AMPERSAND.sub(self._and, text)
        text = _ABOUT.sub(self._about, text)
        text = _NUMBER_SIGN.sub(self._number, text)
        return _PLUS.sub(self._plus, text)
