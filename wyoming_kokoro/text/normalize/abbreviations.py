"""Abbreviations from the lexicon: "Dr." -> "Doctor", "e.g." -> "for example", "Sra." -> "señora".

Lower-case keys also match capitalized ("E.g." -> "For example"); titles such as French "M."
only before a capitalized name. An abbreviation's period that also ended the sentence is kept.
"""

from __future__ import annotations

import re

from .lexicon import Lexicon


class Abbreviations:
    def __init__(self, lex: Lexicon) -> None:
        keys = {}
        for key, expansion in lex.abbreviations.items():
            keys[key] = expansion
            if key[0].islower():
                keys[key[0].upper() + key[1:]] = expansion[0].upper() + expansion[1:]
        self._words = keys
        alternatives = []
        for key in sorted(keys, key=len, reverse=True):
            tail = r"(?=\s+[A-ZÀ-Ý])" if re.fullmatch(r"M{1,2}\.", key) else (
                r"(?![\w])" if key[-1].isalnum() or key[-1] == "." else "")
            alternatives.append(re.escape(key) + tail)
        self._pattern = re.compile(rf"(?<![\w.])(?:{'|'.join(alternatives)})")
        self._final = frozenset(lex.sentence_final) | {
            k[0].upper() + k[1:] for k in lex.sentence_final}

    def abbreviations(self, text: str) -> str:
        return self._pattern.sub(self._expand, text)

    def _expand(self, match: re.Match[str]) -> str:
        key = match.group(0)
        words = self._words[key]
        if key.endswith("."):
            rest = match.string[match.end():]
            if not rest.strip() or (key in self._final and re.match(r"\s+[A-ZÀ-Ý]", rest)):
                words += "."  # the abbreviation's period also ended the sentence
        return words
