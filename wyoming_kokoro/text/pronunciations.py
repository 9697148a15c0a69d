"""The pronunciation lexicon: words and phrases the user says how to pronounce.

    pronunciations:
      en-us:
        Siobhan: /ʃɪvˈɔn/                  # phonemes in Kokoro's alphabet, between slashes
        Ecobee: ee-co-bee                   # a respelling, phonemized as written
      all:
        "Home Assistant": /hˈOm ɐsˈɪstᵊnt/

Matching, in one pass over the *normalized* text (so a key is normalized too: "Dr. Who" matches
the "Doctor Who" that normalization makes of "Dr. Who" in the text):

- whole words, case-insensitively: "siobhan" matches "SIOBHAN" but not "Siobhana"; a possessive
  "'s" may follow the last word ("Siobhan's"). Between the words of a phrase the text must have
  what the key has: spaces (any amount) or the same punctuation ("Wi-Fi"). In Japanese and
  Chinese, written without spaces, every character is a word, so a key matches inside a run.
- the longest match wins: reading left to right, the entry with the most text from the current
  word on is taken ("Home Assistant" beats "Home"), then matching resumes after it;
- a language's own entry wins over an ``all`` entry of the same length.

The matcher is a word trie kept in hash tables (every phrase, and every proper prefix of a
phrase): one lookup per word per table, so a match costs O(words in the text x words in the
longest key) whatever the lexicon's size. Tables are built per (language, normalization
switches), on first use or by :meth:`Pronunciations.prepare`, since keys are normalized by the
rules of the language they are matched in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from .normalize import NormalizeOptions, normalize
from .phonemes import NOT_PHONEMES, check_phonemes, symbols_of
from .split import MAX_PHONEMES

_LOGGER = logging.getLogger(__name__)

ALL = "all"
"""The scope of entries that apply to every language."""
MAX_KEY = 100  # characters in a key
MAX_KEY_WORDS = 16
MAX_RESPELLING = 200
MAX_ENTRIES = 200_000

# Word characters: letters and digits, the combining marks that belong to a word (Devanagari
# vowel signs, Latin accents written apart, kana voicing marks), and an apostrophe inside a word.
_MARKS = "\u0300-\u036f\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963\u3099\u309a"
_CHAR = rf"(?:[^\W_]|[{_MARKS}])"
_WORD = re.compile(rf"{_CHAR}++(?:['’]{_CHAR}++)*+")
_CJK = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                  r"\uff66-\uff9f]")
_PLAIN = re.compile(r"[^\W\d_]++(?:(?:\s++|['’-])[^\W\d_]++)*+")  # letters only: fast path
_ONE_WORD = re.compile(r"[^\W\d_\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                       r"\uf900-\ufaff\uff66-\uff9f]++")  # one word of letters, no CJK
_SPACED = re.compile(rf"{_ONE_WORD.pattern}(?: {_ONE_WORD.pattern})*+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALNUM = re.compile(r"[^\W_]")
# The common respelling, in one match: neither starting nor ending in a slash or a space.
_RESPELLING = re.compile(rf"(?=[^\x00-\x1f\x7f]*?[^\W_])[^\s/\x00-\x1f\x7f]"
                         rf"(?:[^\x00-\x1f\x7f]{{0,{MAX_RESPELLING - 2}}}[^\s/\x00-\x1f\x7f])?")
_EDGE = "\x1f"  # gap | word, in a table key
_NEXT = "\x1e"  # between the words of a phrase, in a table key


class PronunciationError(ValueError):
    """An entry of ``pronunciations:`` is wrong; the message names it (config style)."""


class Entry(NamedTuple):  # a tuple: 100,000 of them are made at every reload
    scope: str  # a language code, or "all"
    key: str  # as written in the config
    value: str  # as written in the config
    phonemes: str | None  # for a /phonemes/ entry: checked, in Kokoro's symbols

    @property
    def respelling(self) -> str | None:
        return None if self.phonemes is not None else self.value.strip()

    @property
    def path(self) -> str:
        return f"pronunciations.{self.scope}.{self.key}"


@dataclass(frozen=True)
class Match:
    """Where an entry matched in a normalized text: ``text[start:end]``."""

    start: int
    end: int
    entry: Entry


_SHORT = 2 * MAX_KEY_WORDS  # a key this short has few enough words


def _short_key(key: str) -> bool:
    """The common key: short, printable, starting with a letter or digit."""
    return 0 < len(key) <= _SHORT and key[0].isalnum() and key.isprintable()


def parse_entry(scope: str, key: object, value: object,
                vocab: Collection[str] | None = None) -> Entry:
    """One entry, checked (and its phonemes against ``vocab`` when given)."""
    if type(key) is str and type(value) is str and _short_key(key):  # most entries
        if len(value) > 2 and value[0] == "/" == value[-1] and "/" not in value[1:-1]:
            return Entry(scope, key, value, check_phonemes(
                value[1:-1], vocab, f"pronunciations.{scope}.{key}", PronunciationError))
        if _RESPELLING.fullmatch(value):
            return Entry(scope, key, value, None)
    return _parse_entry(scope, key, value, vocab)


def _parse_entry(scope: str, key: object, value: object,
                 vocab: Collection[str] | None) -> Entry:
    """:func:`parse_entry` for anything out of the ordinary: each rule, with its message."""
    if not isinstance(key, str) or not key.strip():
        raise PronunciationError(f"pronunciations.{scope}.{key}: a key must be a word or "
                                 f"phrase")
    if len(key) > MAX_KEY:
        raise PronunciationError(f"pronunciations.{scope}.{key[:40]}...: a key is at most "
                                 f"{MAX_KEY} characters")
    path = f"pronunciations.{scope}.{key}"
    if _CONTROL.search(key) or not _ALNUM.search(key):
        raise PronunciationError(f"{path}: a key must be a word or phrase on one line")
    if len(_WORD.findall(key)) > MAX_KEY_WORDS:
        raise PronunciationError(f"{path}: a key is at most {MAX_KEY_WORDS} words")
    if not isinstance(value, str) or not value.strip():
        raise PronunciationError(f"{path}: must be /phonemes/ or a respelling, got "
                                 f"{value!r}")
    written = value.strip()
    if written[0] == "/" or written[-1] == "/":
        if len(written) < 2 or not (written.startswith("/") and written.endswith("/")):
            raise PronunciationError(f"{path}: phonemes are written between two slashes: "
                                     f"/ʃɪvˈɔn/")
        inner = written[1:-1]
        if "/" in inner:
            raise PronunciationError(f"{path}: phonemes are written between two slashes, "
                                     f"with no slash inside")
        return Entry(scope, key, value, check_phonemes(inner, vocab, path, PronunciationError))
    if len(written) > MAX_RESPELLING:
        raise PronunciationError(f"{path}: a respelling is at most {MAX_RESPELLING} "
                                 f"characters")
    if _CONTROL.search(written) or not _ALNUM.search(written):
        raise PronunciationError(f"{path}: a respelling must be words on one line")
    return Entry(scope, key, value, None)


def parse_entries(entries: Mapping[str, Mapping[str, str]],
                  vocab: Collection[str] | None = None) -> tuple[Entry, ...]:
    """Every entry checked, in config order; raises PronunciationError for the first bad one.

    Phonemes in the common shape are checked all at once (one pass over all of them), and one
    by one only when that finds something to name: 100,000 entries cost a fraction of a second.
    """
    parsed: list[Entry] = []
    batched: list[int] = []
    vocab = symbols_of(vocab)
    for scope, words in entries.items():
        if not isinstance(words, Mapping):
            raise PronunciationError(f"pronunciations.{scope}: must be a mapping of words")
        if len(parsed) + len(words) > MAX_ENTRIES:
            raise PronunciationError(f"pronunciations: more than {MAX_ENTRIES} entries")
        seen: dict[str, str] = {}
        for key, value in words.items():
            # a short key and /phonemes/ with nothing to tidy (inlined: this runs per entry)
            if type(key) is str and type(value) is str and 0 < len(key) <= _SHORT \
                    and 2 < len(value) <= MAX_PHONEMES + 2 and value[0] == "/" == value[-1] \
                    and key[0].isalnum() and value.count("/") == 2 \
                    and value[1] != " " != value[-2] and "  " not in value \
                    and key.isprintable() and value.isprintable():
                batched.append(len(parsed))
                entry = Entry(scope, key, value, value[1:-1])  # checked below
            else:
                entry = parse_entry(scope, key, value, vocab)
            folded = " ".join(key.split()).casefold()
            if folded in seen:
                raise PronunciationError(f"{entry.path}: the same key as {seen[folded]!r} "
                                         f"(keys are matched case-insensitively)")
            seen[folded] = key
            parsed.append(entry)
    if batched:
        every = "".join(parsed[i].value for i in batched)  # "/" is neither symbol nor mark
        if not (unicodedata.is_normalized("NFC", every) and NOT_PHONEMES.isdisjoint(
                every.replace("/", "")) and (vocab is None or vocab.issuperset(
                every.replace("/", "")))):
            for i in batched:  # find the entry to name (or fit õ = o + ◌̃)
                entry = parsed[i]
                parsed[i] = parse_entry(entry.scope, entry.key, entry.value, vocab)
    return tuple(parsed)


def check_entries(entries: Mapping[str, Mapping[str, str]]) -> None:
    """The shape of ``pronunciations:`` (config validation; the vocabulary comes with a model)."""
    parse_entries(entries)


# --------------------------------------------------------------------------------------------
# Words of a text


@dataclass
class _Words:
    """The words of a text: where each starts and ends, and its folded form."""

    text: str
    starts: list[int]
    ends: list[int]
    folded: list[str]

    def gap(self, i: int) -> str:
        """What separates word i from word i-1, as a key compares it."""
        gap = self.text[self.ends[i - 1]:self.starts[i]]
        if not gap:
            return ""
        return " ".join(gap.split()).casefold() or " "


def _words(text: str) -> _Words:
    starts: list[int] = []
    ends: list[int] = []
    folded: list[str] = []
    cjk = _CJK.search(text) is not None
    for match in _WORD.finditer(text):
        start, end = match.span()
        if cjk and _CJK.search(text, start, end):
            run_start = None  # a run of other letters between CJK characters
            for i in range(start, end + 1):
                if i < end and not _CJK.match(text, i):
                    run_start = i if run_start is None else run_start
                    continue
                if run_start is not None:
                    starts.append(run_start)
                    ends.append(i)
                    run_start = None
                if i < end:
                    starts.append(i)
                    ends.append(i + 1)
        else:
            starts.append(start)
            ends.append(end)
    for start, end in zip(starts, ends, strict=True):
        folded.append(text[start:end].casefold().replace("’", "'"))
    return _Words(text, starts, ends, folded)


def _edges(words: _Words) -> list[str]:
    """A phrase's steps in the trie: its first word, then (gap, word) for each next one."""
    return [words.folded[i] if i == 0 else words.gap(i) + _EDGE + words.folded[i]
            for i in range(len(words.folded))]


# --------------------------------------------------------------------------------------------
# Tables


@dataclass
class _Table:
    phrases: dict[str, Entry]
    prefixes: set[str]  # proper prefixes of multi-word phrases
    longest: int  # words in the longest phrase

    @classmethod
    def build(cls, entries: Iterable[Entry], language: str,
              options: NormalizeOptions) -> _Table:
        """Keys normalized as the text is (see :func:`_normalize_key`), then tabled."""
        special = _special_words(language) if options.enabled else frozenset()
        phrases: dict[str, Entry] = {}
        prefixes: set[str] = set()
        longest = 1
        for entry in entries:  # two keys normalized alike: the one listed last wins
            key = entry.key
            if _ONE_WORD.fullmatch(key):  # most keys: one word of letters, no CJK
                folded = key.casefold()
                if folded not in special:
                    phrases[folded] = entry
                    continue
            key = _normalize_key(key, language, options, special)
            if _SPACED.fullmatch(key):  # words of letters between spaces: "Home Assistant"
                edges = key.casefold().split()
                edges[1:] = [" " + _EDGE + w for w in edges[1:]]
            else:
                words = _words(key)
                if not words.folded:
                    _LOGGER.warning("%s: nothing left of the key after normalization",
                                    entry.path)
                    continue
                edges = _edges(words)
            phrases[_NEXT.join(edges)] = entry
            n = len(edges)
            longest = max(longest, n)
            for k in range(1, n):
                prefixes.add(_NEXT.join(edges[:k]))
        return cls(phrases, prefixes, longest)


def _normalize_key(key: str, language: str, options: NormalizeOptions,
                   special: frozenset[str]) -> str:
    """``key`` as normalization rewrites it in ``language`` (as the text it is matched in).

    Normalizing costs ~0.1 ms a call: far too much for 100,000 keys, and almost every key is a
    name normalization leaves alone. A key of letters only (no digit, no symbol, no period)
    can only change through a word the language's rules know (an abbreviation such as ``vs``
    or ``Mme``, a month, a connector: ``special``), so only keys with such a word, a digit or a
    symbol are normalized; the rest are taken as written.
    """
    key = key.strip()
    if not options.enabled or (_PLAIN.fullmatch(key) and not any(
            w.casefold() in special for w in _WORD.findall(key))):
        return key
    return normalize(key, language, options)


@cache
def _special_words(language: str) -> frozenset[str]:
    """Every word in ``language``'s normalization lexicon (a superset of what rules rewrite)."""
    from .normalize.registry import reading_for

    found: set[str] = set()

    def collect(value: object) -> None:
        if isinstance(value, str):
            found.update(w.casefold() for w in _WORD.findall(value))
        elif isinstance(value, Mapping):
            for k, v in value.items():
                collect(k)
                collect(v)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                collect(item)
        elif dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                collect(getattr(value, f.name))

    reading = reading_for(language)
    collect(reading.lex if reading is not None else None)
    return frozenset(found)


# --------------------------------------------------------------------------------------------
# The compiled lexicon


class Pronunciations:
    """A compiled lexicon for one config snapshot: checked entries, a fingerprint, matchers."""

    def __init__(self, entries: tuple[Entry, ...], vocab: Collection[str] | None) -> None:
        self.entries = entries
        self.vocab = symbols_of(vocab)
        """The model's symbols (and the space): what inline phonemes are checked against."""
        digest = hashlib.sha256()
        for entry in entries:
            digest.update(f"{entry.scope}\x1f{entry.key}\x1f{entry.value}\x1e".encode())
        self.fingerprint = digest.hexdigest()[:16]
        """Changes whenever an entry does; part of the phoneme cache key."""
        self._by_scope: dict[str, list[Entry]] = {}
        for entry in entries:
            self._by_scope.setdefault(entry.scope, []).append(entry)
        self._tables: dict[tuple[str, str, NormalizeOptions], _Table] = {}
        self._lock = threading.Lock()

    @classmethod
    def compile(cls, entries: Mapping[str, Mapping[str, str]],
                vocab: Collection[str] | None = None) -> Pronunciations:
        """Check every entry (phonemes against the model's ``vocab``: its symbol -> id map).

        Raises PronunciationError naming the first bad entry, e.g. ``pronunciations.en-us.
        Siobhan: phoneme 'X' (U+0058) is not in the model's vocabulary``.
        """
        return cls(parse_entries(entries, vocab), vocab)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"Pronunciations({len(self.entries)} entries, {self.fingerprint})"

    def prepare(self, language: str, options: NormalizeOptions) -> None:
        """Build the matcher for ``language`` now (e.g. at reload), not on the first request."""
        self._table(ALL, language, options)
        self._table(language, language, options)

    def _table(self, scope: str, language: str, options: NormalizeOptions) -> _Table | None:
        entries = self._by_scope.get(scope)
        if not entries:
            return None
        key = (scope, language, options)
        table = self._tables.get(key)
        if table is None:
            with self._lock:
                table = self._tables.get(key)
                if table is None:
                    started = time.perf_counter()
                    table = _Table.build(entries, language, options)
                    self._tables[key] = table
                    _LOGGER.info("Pronunciations: %d entries of %s ready for %s in %.2f s",
                                 len(entries), scope, language, time.perf_counter() - started)
        return table

    def matches(self, text: str, language: str, options: NormalizeOptions) -> list[Match]:
        """Entries found in ``text`` (already normalized with ``options``), left to right."""
        tables = [t for t in (self._table(language, language, options),
                              self._table(ALL, language, options)) if t is not None]
        if not tables or not text:
            return []
        words = _words(text)
        n = len(words.folded)
        found: list[Match] = []
        i = 0
        while i < n:
            best: tuple[int, int, Entry] | None = None  # (end, next word, entry)
            for table in tables:  # the language's own first: ``all`` must be longer to win
                phrase = ""
                for j in range(i, min(n, i + table.longest)):
                    edge = words.folded[j] if j == i else words.gap(j) + _EDGE + words.folded[j]
                    stem = phrase
                    phrase = edge if j == i else phrase + _NEXT + edge
                    entry = table.phrases.get(phrase)
                    if entry is not None and (best is None or words.ends[j] > best[0]):
                        best = (words.ends[j], j + 1, entry)
                    elif entry is None and words.folded[j].endswith("'s"):  # Siobhan's
                        base = edge[:-2]
                        entry = table.phrases.get(base if j == i else stem + _NEXT + base)
                        end = words.ends[j] - 2
                        if entry is not None and (best is None or end > best[0]):
                            best = (end, j + 1, entry)
                    if phrase not in table.prefixes:
                        break
            if best is None:
                i += 1
                continue
            found.append(Match(words.starts[i], best[0], best[2]))
            i = best[1]
        return found


EMPTY = Pronunciations((), None)
