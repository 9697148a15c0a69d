"""Sentence splitting (whole texts and streamed text) and phoneme-budget chunking."""

from __future__ import annotations

import re

MAX_PHONEMES = 510
"""Kokoro's context is 512 tokens, two of which are the padding at both ends."""

# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs mt ft approx fig e.g i.e cf gen col lt sgt capt rev hon "
    "appt avg ave blvd rd apt ca w/o "
    # French, Spanish, Italian, Portuguese
    "mme mlle env ex ej sra srta dra ud uds vd aprox av avda pág pag núm tel tél sig sig.ra "
    "sig.na dott dott.ssa prof.ssa profa ee".split()
)
# Abbreviations that also end sentences ("at 7 a.m. Then ..."): the period ends the sentence
# only when the next word starts with a capital letter, so a streamed sentence waits for it.
_MAYBE_FINAL = frozenset(
    "a.m p.m etc ecc no nr al est dept univ inc ltd co corp min uu "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_LIST_NUMBER = re.compile(r"\s*\d{1,3}")  # "1. Buy milk": a list marker, not a sentence

# A sentence ends after terminal punctuation (and closing quotes/brackets) followed by whitespace,
# or right after CJK terminal punctuation, or at a line break.
_BOUNDARY = re.compile(
    r"""(?P<latin>[.!?…]+["'”’)\]]*)(?=\s)"""
    r"""|(?P<cjk>[。！？]+[」』”’）)]*)"""
    r"""|(?P<newline>\n)"""
)
_WORD_BEFORE = re.compile(r"(\S+)$")


def _abbreviation(text_before: str) -> str | None:
    """``always`` / ``maybe`` if the word before a period is an abbreviation, else None."""
    match = _WORD_BEFORE.search(text_before)
    if not match:
        return None
    word = match.group(1).lstrip("(\"'“‘[").lower()
    if len(word) == 1 and word.isalpha():  # an initial: "J. R. R. Tolkien"
        return "always"
    if word in _ABBREVIATIONS:
        return "always"
    return "maybe" if word in _MAYBE_FINAL else None


def _speakable(sentence: str) -> bool:
    return any(ch.isalnum() for ch in sentence)


class SentenceSplitter:
    """Cuts text into sentences as it arrives; a sentence is released once its end is certain.

    "It is 3." is held back until the next character shows whether "3.5" follows, so chunk
    boundaries from a streaming client never split numbers or times.
    """

    def __init__(self) -> None:
        self._buffer = ""

    def add(self, text: str) -> list[str]:
        """Append text; return the sentences it completed."""
        self._buffer += text
        sentences: list[str] = []
        start = 0
        for match in _BOUNDARY.finditer(self._buffer):
            end = match.end()
            if match.group("latin") == ".":
                before = self._buffer[start:match.start()]
                if _LIST_NUMBER.fullmatch(before):
                    continue
                kind = _abbreviation(before)
                if kind == "always":
                    continue
                if kind == "maybe":
                    gap = self._buffer[end:]
                    rest = gap.lstrip()
                    if "\n" in gap[:len(gap) - len(rest)]:
                        continue  # the line break ends the sentence
                    if not rest:
                        break  # the next word decides
                    if not rest[0].isupper():
                        continue
            if match.group("cjk") and end == len(self._buffer):
                # closing quotes may still follow in the next chunk
                break
            piece = self._buffer[start:end].strip()
            if _speakable(piece):
                sentences.append(piece)
            elif sentences and piece:
                sentences[-1] += " " + piece
            start = end
        self._buffer = self._buffer[start:]
        return sentences

    def finish(self) -> list[str]:
        """Flush: everything still buffered is the last sentence (if it has anything to say)."""
        sentences = self.add("")
        rest = self._buffer.strip()
        self._buffer = ""
        if _speakable(rest):
            sentences.append(rest)
        return sentences

    @property
    def pending(self) -> str:
        return self._buffer


def split_sentences(text: str) -> list[str]:
    splitter = SentenceSplitter()
    return splitter.add(text) + splitter.finish()


# Break points inside a phoneme string, best first.
_TIERS = (".!?…", ":;", ",—", " ")


def split_phonemes(phonemes: str, limit: int = MAX_PHONEMES) -> list[str]:
    """Cut a phoneme string into pieces of at most ``limit`` characters.

    Cuts at sentence punctuation first, then clause punctuation, then word boundaries; a cut is
    only taken if it keeps at least a third of the budget, so pieces do not become tiny.
    """
    pieces: list[str] = []
    rest = phonemes.strip()
    while len(rest) > limit:
        cut = _best_cut(rest, limit)
        head, rest = rest[:cut].strip(), rest[cut:].strip()
        if head:
            pieces.append(head)
    if rest:
        pieces.append(rest)
    return pieces


def _best_cut(text: str, limit: int) -> int:
    window = text[: limit + 1]
    floor = limit // 3
    for tier in _TIERS:
        best = -1
        for i, ch in enumerate(window[:limit]):
            if ch in tier and (ch == " " or i + 1 >= len(text) or text[i + 1] == " "):
                best = i + 1
        if best >= floor:
            return best
    return limit
