"""One sentence of text -> Kokoro phonemes: inline phonemes, normalization, lexicon, G2P.

    to_phonemes(g2p, "en-us", "[Kokoro](/kˈOkəɹO/) is on.", options, pronunciations)

1. Inline phonemes (``[word](/phonemes/)``) are checked and set aside behind a private-use
   placeholder, so no normalization rule (markdown links included) can touch them.
2. The rest is normalized as usual; the placeholders pass through as non-words.
3. The lexicon is matched on the normalized text (keys were normalized alike).
4. G2P. misaki's English G2P reads ``[word](/phonemes/)`` itself, keeping spaCy's context for the
   words around, so English gets one string with every phoneme span written that way. The other
   phonemizers (espeak, Japanese, Chinese) get the plain stretches between the spans one by one,
   and the phonemes are put in between.

:func:`read` returns what happened (for a preview: the normalized text, the hits);
:func:`to_phonemes` only the phonemes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .inline import find_inline, markup, strip_inline
from .language import pick_language
from .normalize import NormalizeOptions, normalize
from .phonemes import PhonemeError
from .pronunciations import EMPTY, Entry, Pronunciations
from .split import split_sentences

G2PCall = Callable[[str, str], str]  # (language, text) -> phonemes, as text.g2p.G2P
MARKUP_LANGUAGES = frozenset({"en-us", "en-gb"})
"""Languages whose phonemizer reads ``[word](/phonemes/)`` itself (misaki's English G2P)."""

_FIRST = 0xF0000  # placeholders: supplementary private-use plane, never in any rule's patterns
_LAST = 0xFFFFD
_PLACEHOLDER = re.compile("[\U000f0000-\U000ffffd]")
# Brackets left in plain text (a link kept with markdown off, a stray "[") would reach misaki's
# own link pattern and pair with our spans; they are not spoken, so they become spaces.
_NO_BRACKETS = str.maketrans("[]", "  ")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([,.;:!?…。、，])")
_POSSESSIVE = re.compile(r"['’]s(?!\w)")


@dataclass(frozen=True)
class Hit:
    """A stretch of the normalized text read as the user said: a lexicon entry or inline."""

    source: str  # "lexicon" or "inline"
    text: str  # as it stands in the normalized text
    start: int  # in Reading.normalized
    end: int
    phonemes: str | None  # what is spoken, when phonemes were given
    respelling: str | None = None  # what is phonemized instead, for a respelling entry
    entry: Entry | None = None  # the lexicon entry

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "text": self.text, "start": self.start,
                               "end": self.end}
        if self.entry is not None:
            out.update(scope=self.entry.scope, key=self.entry.key, value=self.entry.value)
        if self.phonemes is not None:
            out["phonemes"] = self.phonemes
        if self.respelling is not None:
            out["respelling"] = self.respelling
        return out


@dataclass(frozen=True)
class Reading:
    """How one sentence is read: the data of a phoneme preview."""

    text: str  # as given
    language: str
    normalized: str  # after normalization (inline phonemes shown as their word)
    phonemes: str
    hits: tuple[Hit, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "language": self.language, "normalized": self.normalized,
                "phonemes": self.phonemes, "hits": [h.as_dict() for h in self.hits]}


def to_phonemes(g2p: G2PCall, language: str, text: str, options: NormalizeOptions,
                pronunciations: Pronunciations = EMPTY, inline: bool = True) -> str:
    """Kokoro phonemes for one sentence; "" when nothing is left to speak.

    ``inline`` False reads ``[word](/phonemes/)`` as its word. Raises PhonemeError for inline
    phonemes the model cannot say (too long, a symbol outside ``pronunciations.vocab``).
    """
    return read(g2p, language, text, options, pronunciations, inline).phonemes


def read(g2p: G2PCall, language: str, text: str, options: NormalizeOptions,
         pronunciations: Pronunciations = EMPTY, inline: bool = True) -> Reading:
    """:func:`to_phonemes`, with the normalized text and the lexicon and inline hits."""
    source = text
    text = _PLACEHOLDER.sub("", text)  # a user's own private-use characters are not spoken
    vocab = pronunciations.vocab
    spans = find_inline(text, vocab) if inline else []
    if not inline:
        text = strip_inline(text, vocab)
    if len(spans) > _LAST - _FIRST:
        raise PhonemeError(f"{len(spans)} inline phoneme spans in one sentence")
    if spans:
        marked, last = [], 0
        for k, span in enumerate(spans):
            marked += [text[last:span.start], chr(_FIRST + k)]
            last = span.end
        marked.append(text[last:])
        text = "".join(marked)
    spoken = normalize(text, language, options) if text else ""
    matches = pronunciations.matches(spoken, language, options)

    # The sentence as pieces: plain text, or phonemes with the word they stand for.
    pieces: list[tuple[str, str | None]] = []  # (text, phonemes or None)
    hits: list[Hit] = []
    shown: list[str] = []  # the normalized text as displayed
    offset = 0  # length of the displayed text so far

    def plain(chunk: str) -> None:
        nonlocal offset
        last = 0
        for placeholder in _PLACEHOLDER.finditer(chunk):
            _add_text(pieces, chunk[last:placeholder.start()])
            shown.append(chunk[last:placeholder.start()])
            offset += placeholder.start() - last
            span = spans[ord(placeholder.group()) - _FIRST]
            pieces.append((span.text, span.phonemes))
            hits.append(Hit("inline", span.text, offset, offset + len(span.text),
                            span.phonemes))
            shown.append(span.text)
            offset += len(span.text)
            last = placeholder.end()
        _add_text(pieces, chunk[last:])
        shown.append(chunk[last:])
        offset += len(chunk) - last

    position = 0
    for match in matches:
        plain(spoken[position:match.start])
        end = match.end
        entry = match.entry
        phonemes = entry.phonemes
        if phonemes is not None and language in MARKUP_LANGUAGES \
                and (possessive := _POSSESSIVE.match(spoken, end)):
            end = possessive.end()  # "Siobhan's": the suffix follows the phonemes given
            phonemes = _possessive(phonemes, language == "en-gb")
        word = _PLACEHOLDER.sub("", spoken[match.start:end])
        if phonemes is not None:
            pieces.append((word, phonemes))
        else:
            _add_text(pieces, entry.respelling or "")
        hits.append(Hit("lexicon", word, offset, offset + len(word), phonemes,
                        entry.respelling, entry))
        shown.append(word)
        offset += len(word)
        position = end
    plain(spoken[position:])
    return Reading(source, language, "".join(shown), _phonemize(g2p, language, pieces),
                   tuple(hits))


def _possessive(stem: str, british: bool) -> str:
    """English -'s after given phonemes: misaki's rule (``Lexicon._s``), s / z / ᵻz."""
    if stem[-1] in "ptkfθ":
        return stem + "s"
    if stem[-1] in "szʃʒʧʤ":
        return stem + ("ɪ" if british else "ᵻ") + "z"
    return stem + "z"


def _add_text(pieces: list[tuple[str, str | None]], chunk: str) -> None:
    if not chunk:
        return
    if pieces and pieces[-1][1] is None:
        pieces[-1] = (pieces[-1][0] + chunk, None)
    else:
        pieces.append((chunk, None))


def _phonemize(g2p: G2PCall, language: str, pieces: list[tuple[str, str | None]]) -> str:
    if language in MARKUP_LANGUAGES:
        text = "".join(chunk.translate(_NO_BRACKETS) if phonemes is None
                       else markup(chunk, phonemes) for chunk, phonemes in pieces)
        text = _SPACES.sub(" ", text).strip()
        return g2p(language, text) if text else ""
    out = []
    for chunk, phonemes in pieces:
        if phonemes is not None:
            out.append(phonemes)
        elif chunk.strip():
            out.append(g2p(language, chunk))
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", " ".join(out))).strip()


def preview(g2p: G2PCall, text: str, voice_language: str, fallback_language: str,
            options_for: Callable[[str], NormalizeOptions],
            pronunciations: Pronunciations = EMPTY, inline: bool = True) -> list[Reading]:
    """How a whole text is read, sentence by sentence, as a voice of ``voice_language`` would.

    The language of each sentence is picked as for a request, from the sentence's words (inline
    phonemes counted as their word): ``options_for(language)`` gives its normalization switches.
    """
    readings = []
    for sentence in split_sentences(text):
        language = pick_language(strip_inline(sentence), voice_language, fallback_language)
        readings.append(read(g2p, language, sentence, options_for(language), pronunciations,
                             inline))
    return readings
