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
# or right after CJK terminal punctuation, or at a line break. A clause ends at , ; : or a dash
# followed by whitespace (so "1,000" and "7:30" never split).
_BOUNDARY = re.compile(
    r"""(?P<latin>[.!?…]+["'”’)\]]*)(?=\s)"""
    r"""|(?P<cjk>[。！？]+[」』”’）)]*)"""
    r"""|(?P<newline>\n)"""
    r"""|(?P<clause>[,;:—–、，；：]+)(?=\s|$)"""
)
_WORD_BEFORE = re.compile(r"(\S+)$")
_LOOKBACK = 16  # a boundary match is never longer than this: rescan only the buffer's tail


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
    boundaries from a streaming client never split numbers or times. With ``clauses`` (for
    streamed text) a clause of at least ``min_clause`` characters is released at its comma or
    semicolon, so speech can start before a long sentence is complete. Text without any boundary
    is cut at a word boundary once it exceeds ``max_chars``, so a run-on input never becomes one
    giant piece of work.
    """

    def __init__(self, clauses: bool = False, max_chars: int = 400, min_clause: int = 16) -> None:
        self.clauses = clauses
        self.max_chars = max_chars
        self.min_clause = min_clause
        self._buffer = ""
        self._scan = 0  # boundaries before this offset have been judged already

    def add(self, text: str) -> list[str]:
        """Append text; return the sentences (or clauses) it completed."""
        self._buffer += text
        sentences: list[str] = []
        start = 0
        for match in _BOUNDARY.finditer(self._buffer, self._scan):
            end = match.end()
            kind = match.lastgroup
            if kind == "clause":
                if not self.clauses or len(self._buffer[start:end].strip()) < self.min_clause:
                    continue
            elif kind == "latin" and match.group("latin") == ".":
                before = self._buffer[start:match.start()]
                if _LIST_NUMBER.fullmatch(before):
                    continue
                abbreviation = _abbreviation(before)
                if abbreviation == "always":
                    continue
                if abbreviation == "maybe":
                    gap = self._buffer[end:]
                    rest = gap.lstrip()
                    if "\n" in gap[:len(gap) - len(rest)]:
                        continue  # the line break ends the sentence
                    if not rest:
                        break  # the next word decides
                    if not rest[0].isupper():
                        continue
            elif kind == "cjk" and end == len(self._buffer):
                break  # closing quotes may still follow in the next chunk
            self._emit(sentences, self._buffer[start:end])
            start = end
        while len(self._buffer) - start > self.max_chars:
            end = _forced_cut(self._buffer, start, self.max_chars)
            self._emit(sentences, self._buffer[start:end])
            start = end
        self._buffer = self._buffer[start:]
        self._scan = max(0, len(self._buffer) - _LOOKBACK)
        return sentences

    @staticmethod
    def _emit(sentences: list[str], piece: str) -> None:
        piece = piece.strip()
        if _speakable(piece):
            sentences.append(piece)
        elif sentences and piece:
            sentences[-1] += " " + piece

    def finish(self) -> list[str]:
        """Flush: everything still buffered is the last sentence (if it has anything to say)."""
        sentences = self.add("")
        rest = self._buffer.strip()
        self._buffer = ""
        self._scan = 0
        if _speakable(rest):
            sentences.append(rest)
        return sentences

    @property
    def pending(self) -> str:
        return self._buffer


def _forced_cut(text: str, start: int, max_chars: int) -> int:
    """Where to cut an over-long run: after the last clause mark, else the last space."""
    window = text[start:start + max_chars]
    for marks in (",;:—–、，", " \n\t"):
        cut = max(window.rfind(mark) for mark in marks)
        if cut > max_chars // 4:
            return start + cut + 1
    return start + max_chars


def split_sentences(text: str) -> list[str]:
    splitter = SentenceSplitter()
    return splitter.add(text) + splitter.finish()


BREAK = "|"  # a phrase break marked by the phonemizer (never spoken)

# Break points inside a phoneme string, best first.
_TIERS = (".!?…", ":;", ",—", BREAK, " ")


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
            if ch == BREAK and tier == BREAK:
                best = i
            elif ch in tier and (ch == " " or i + 1 >= len(text) or text[i + 1] == " "):
                best = i + 1
        if best >= floor:
            return best
    return limit


def split_head(phonemes: str, target: int = 24, longest: int = 64) -> list[str]:
    """Cut a short first piece off a reply's first sentence, so its first words play sooner.

    Only natural breaks are cut: a clause mark (",;:—") or a phrase break the phonemizer marked
    (BREAK, "|"), the one whose head is nearest ``target`` phonemes within ``longest``. A
    sentence without one, a short sentence, or a cut that would leave a short rest is not cut:
    a break mid-phrase is heard (and misheard) as a sentence end.
    """
    if len(phonemes) <= target + 10:
        return [phonemes]
    cuts = [i + 1 for i, ch in enumerate(phonemes[:longest])
            if ch in ",;:—" and phonemes[i + 1:i + 2] == " "]
    cuts += [i for i, ch in enumerate(phonemes[:longest]) if ch == BREAK]
    cuts = [c for c in cuts if c >= 4 and len(phonemes) - c >= 12]
    if not cuts:
        return [phonemes]
    cut = min(cuts, key=lambda c: abs(c - target))
    return [phonemes[:cut].strip(), phonemes[cut:].strip()]
