"""A safe parser for the SSML subset Kokoro can honour, into ordered speech segments.

    parse_ssml('<speak>Hello <break time="500ms"/><lang xml:lang="fr-FR">bonjour</lang></speak>')
    -> [Segment("Hello", pause_after=0.5), Segment("bonjour", language="fr")]

Supported: ``speak``, ``break`` (time / strength), ``prosody`` (rate), ``say-as`` (characters,
spell-out, cardinal, number, ordinal, date, time, telephone), ``sub`` (alias), ``lang``
(xml:lang, also on speak/voice/p/s), ``voice`` (name; blends such as ``jf_alpha+jm_kumo`` are
passed on as written), ``p`` and ``s`` (sentence breaks), ``phoneme`` (``alphabet="ipa"``, the
default, mapped to Kokoro's symbols, or ``alphabet="kokoro"``; ``ph`` checked against the
model's vocabulary). Any other element is read as its text.

A ``phoneme`` element becomes inline phonemes in the segment's text, ``[word](/phonemes/)``, so
segments are phonemized with inline phonemes on (text.pipeline); inline phonemes the author wrote
in the text are kept (and checked) too, or read as their word when ``inline_phonemes`` is off.

Safety: the input is bounded in size and nesting depth; DTDs, entity declarations and external
references are refused (defusedxml over expat), so nothing expands and nothing is fetched.
Malformed input raises :class:`SsmlError` with a message fit for the client.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from xml.sax import SAXParseException
from xml.sax.expatreader import ExpatLocator
from xml.sax.handler import ContentHandler
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.expatreader import create_parser

from .inline import find_inline, markup, strip_inline
from .language import parse_language
from .normalize import normalize
from .normalize.registry import Reading, reading_for
from .phonemes import PhonemeError, check_phonemes, ipa_to_kokoro, symbols_of

MAX_CHARS = 100_000
MAX_DEPTH = 32
MAX_PAUSE = 10.0  # seconds, per break and per segment
MIN_RATE, MAX_RATE = 0.5, 2.0

_STRENGTHS = {"none": 0.0, "x-weak": 0.25, "weak": 0.5, "medium": 0.75, "strong": 1.0,
              "x-strong": 1.25}
_RATES = {"x-slow": 0.5, "slow": 0.75, "medium": 1.0, "default": 1.0, "fast": 1.25,
          "x-fast": 1.5}
_TIME = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*", re.IGNORECASE)
_PERCENT = re.compile(r"\s*([+-]?)(\d+(?:\.\d+)?)\s*%\s*")
_FACTOR = re.compile(r"\s*(\d+(?:\.\d+)?)\s*")
_VOICE = re.compile(r"[\w.+\-*()]{1,200}")
_CLOCK = re.compile(r"\s*(\d{1,2})(?:[:h.]?(\d{2}))?(?::(\d{2}))?\s*([aApP]\.?[mM]\.?)?\s*")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([,.;:!?])")
_CONTEXT_TAGS = frozenset({"voice", "lang", "prosody", "p", "s"})
_CAPTURING_TAGS = frozenset({"say-as", "sub", "phoneme"})
IPA_ALPHABETS = frozenset({"ipa", "x-ipa"})
KOKORO_ALPHABETS = frozenset({"kokoro", "x-kokoro", "misaki"})


class SsmlError(ValueError):
    """The SSML cannot be read; the message says why and where, for the client."""


@dataclass(frozen=True)
class Segment:
    """A stretch of text read with one voice, language and rate, then a pause."""

    text: str
    voice: str | None = None  # None: the request's voice
    language: str | None = None  # our code (en-us, fr, ...); None: the voice's language
    rate: float = 1.0  # multiplies the voice's speed
    pause_after: float = 0.0  # seconds of silence after the segment


def is_ssml(text: str) -> bool:
    """Whether ``text`` looks like an SSML document rather than plain text."""
    head = text.lstrip()[:64].lower()
    return head.startswith("<speak") or (head.startswith("<?xml") and "<speak" in text[:512])


def parse_ssml(ssml: str, language: str = "en-us", *, max_chars: int = MAX_CHARS,
               max_depth: int = MAX_DEPTH, vocab: Collection[str] | None = None,
               inline_phonemes: bool = True) -> list[Segment]:
    """Segments in reading order; ``language`` expands ``say-as`` outside any ``lang``.

    ``vocab`` (the model's symbols) checks every phoneme; ``inline_phonemes`` False reads
    ``[word](/phonemes/)`` written in the text as its word (``<phoneme>`` always works).
    """
    if len(ssml) > max_chars:
        raise SsmlError(f"SSML: the document is longer than {max_chars} characters")
    if not ssml.lstrip().startswith("<"):
        ssml = f"<speak>{escape(ssml)}</speak>"
    handler = _Handler(language, max_depth, vocab, inline_phonemes)
    parser = create_parser()
    parser.forbid_dtd = True
    parser.setContentHandler(handler)
    handler.setDocumentLocator(ExpatLocator(parser))  # feed() does not set it, parse() would
    try:
        parser.feed(ssml)
        parser.close()
    except SAXParseException as err:
        message = err.getMessage()
        raise SsmlError(f"SSML: {message} at line {err.getLineNumber()}, "
                        f"column {(err.getColumnNumber() or 0) + 1}") from None
    except DTDForbidden:
        raise SsmlError("SSML: document type declarations (DTDs) are not allowed") from None
    except EntitiesForbidden:
        raise SsmlError("SSML: entity declarations are not allowed") from None
    except DefusedXmlException:
        raise SsmlError("SSML: external references are not allowed") from None
    return handler.segments


@dataclass(frozen=True)
class _Frame:
    tag: str
    voice: str | None
    language: str | None
    rate: float
    capture: list[str] | None = None  # say-as / sub: their text, expanded at the end
    attrs: tuple[tuple[str, str], ...] = ()


class _Phonemes(str):
    """Inline phonemes made from a ``<phoneme>`` element (not the author's text)."""


class _Handler(ContentHandler):
    def __init__(self, language: str, max_depth: int, vocab: Collection[str] | None = None,
                 inline_phonemes: bool = True) -> None:
        super().__init__()
        self.default_language = language
        self.max_depth = max_depth
        self.vocab = symbols_of(vocab)
        self.inline_phonemes = inline_phonemes
        self.stack: list[_Frame] = [_Frame("", None, None, 1.0)]
        self.text: list[str] = []
        self.segments: list[Segment] = []
        self._locator = None

    def setDocumentLocator(self, locator) -> None:
        self._locator = locator

    # ----------------------------------------------------------------------------------------

    def startElement(self, name: str, attrs) -> None:
        if len(self.stack) > self.max_depth:
            raise self._error(f"elements are nested deeper than {self.max_depth} levels")
        tag = name.rpartition(":")[2].lower()
        top = self.stack[-1]
        if self._capturing():
            self.stack.append(replace(top, tag=tag))  # markup inside say-as/sub: text only
            return
        voice, language, rate = top.voice, top.language, top.rate
        if tag in _CONTEXT_TAGS or tag == "speak":
            self._flush()
            if lang := attrs.get("xml:lang"):
                language = parse_language(lang) or language
        if tag == "voice" and (wanted := attrs.get("name", "").strip()):
            if not _VOICE.fullmatch(wanted):
                raise self._error(f"invalid voice name {wanted[:40]!r}")
            voice = wanted
        elif tag == "prosody" and (value := attrs.get("rate")):
            rate = min(MAX_RATE, max(MIN_RATE, top.rate * self._rate(value)))
        elif tag == "break":
            self._pause(self._break(attrs))
        capture: list[str] | None = [] if tag in _CAPTURING_TAGS else None
        self.stack.append(_Frame(tag, voice, language, rate, capture,
                                 tuple((k, attrs[k]) for k in attrs.getNames())))

    def endElement(self, name: str) -> None:
        frame = self.stack[-1]
        if frame.tag in _CONTEXT_TAGS or frame.tag == "speak":
            self._flush()  # the text inside belongs to this element's voice, language, rate
        self.stack.pop()
        if frame.capture is not None and not self._capturing():
            attrs = dict(frame.attrs)
            if frame.tag == "phoneme":
                self._add(self._phoneme("".join(frame.capture), attrs,
                                        frame.language or self.default_language))
                return
            if frame.tag == "sub" and "alias" in attrs:
                spoken = attrs["alias"]
            else:
                spoken = self._say_as(" ".join(frame.capture), attrs, frame.language)
            self._add(f" {spoken} ")

    def characters(self, content: str) -> None:
        self._add(content)

    # ----------------------------------------------------------------------------------------

    def _capturing(self) -> bool:
        return any(f.capture is not None for f in self.stack)

    def _add(self, content: str) -> None:
        for frame in reversed(self.stack):
            if frame.capture is not None:
                frame.capture.append(content)
                return
        self.text.append(content)

    def _flush(self) -> None:
        parts, written = [], []
        for part in [*self.text, _Phonemes("")]:
            if not isinstance(part, _Phonemes):
                written.append(part)
                continue
            parts += [self._written("".join(written)), part]
            written.clear()
        text = _SPACES.sub(" ", "".join(parts)).strip()
        text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
        self.text.clear()
        if text:
            top = self.stack[-1]
            self.segments.append(Segment(text, top.voice, top.language, top.rate))

    def _written(self, text: str) -> str:
        """The author's text: inline phonemes in it checked, or read as their word when off."""
        if not self.inline_phonemes:
            return strip_inline(text, self.vocab)
        try:
            find_inline(text, self.vocab)
        except PhonemeError as err:
            raise self._error(str(err)) from None
        return text

    def _phoneme(self, word: str, attrs: dict[str, str], language: str) -> _Phonemes:
        alphabet = attrs.get("alphabet", "ipa").strip().lower()
        ph = attrs.get("ph", "")
        if not ph.strip():
            raise self._error("phoneme needs a ph attribute: the phonemes to say")
        if alphabet in IPA_ALPHABETS:
            ph = ipa_to_kokoro(ph, language)
        elif alphabet not in KOKORO_ALPHABETS:
            raise self._error(f'unknown phoneme alphabet "{alphabet[:40]}" (use ipa or kokoro)')
        word = _SPACES.sub(" ", word).strip()
        try:
            phonemes = check_phonemes(ph, self.vocab, f'phoneme ph="{attrs["ph"][:60]}"')
        except PhonemeError as err:
            raise self._error(str(err)) from None
        return _Phonemes(f" {markup(word, phonemes)} ")

    def _pause(self, seconds: float) -> None:
        self._flush()
        if self.segments:
            last = self.segments[-1]
            total = min(MAX_PAUSE, last.pause_after + seconds)
            self.segments[-1] = replace(last, pause_after=total)
        elif seconds:
            top = self.stack[-1]
            self.segments.append(Segment("", top.voice, top.language, top.rate, seconds))

    def _break(self, attrs) -> float:
        if time := attrs.get("time"):
            match = _TIME.fullmatch(time)
            if not match:
                raise self._error(f'invalid break time "{time[:40]}" (use e.g. 500ms or 1s)')
            value = float(match.group(1)) / (1000 if match.group(2).lower() == "ms" else 1)
            return min(MAX_PAUSE, value)
        strength = attrs.get("strength", "medium").strip().lower()
        if strength not in _STRENGTHS:
            raise self._error(f'invalid break strength "{strength[:40]}" '
                              f"(one of {', '.join(_STRENGTHS)})")
        return _STRENGTHS[strength]

    def _rate(self, value: str) -> float:
        word = value.strip().lower()
        if word in _RATES:
            return _RATES[word]
        if match := _PERCENT.fullmatch(word):
            number = float(match.group(2)) / 100
            factor = 1 + number if match.group(1) == "+" else (
                1 - number if match.group(1) == "-" else number)
        elif match := _FACTOR.fullmatch(word):
            factor = float(match.group(1))
        else:
            raise self._error(f'invalid prosody rate "{value[:40]}" '
                              f"(x-slow, slow, medium, fast, x-fast, 80%, +20% or 1.2)")
        if factor <= 0:
            raise self._error(f'invalid prosody rate "{value[:40]}"')
        return factor

    def _say_as(self, text: str, attrs: dict[str, str], language: str | None) -> str:
        text = _SPACES.sub(" ", text).strip()
        language = language or self.default_language
        kind = attrs.get("interpret-as", "").strip().lower()
        return say_as(text, kind, language, attrs.get("format", "").strip().lower())

    def _error(self, message: str) -> SsmlError:
        where = ""
        if self._locator is not None:
            where = (f" at line {self._locator.getLineNumber()}, "
                     f"column {self._locator.getColumnNumber() + 1}")
        return SsmlError(f"SSML: {message}{where}")


# --------------------------------------------------------------------------------------------
# say-as


def say_as(text: str, kind: str, language: str, date_format: str = "") -> str:
    """``text`` read as ``kind`` (an SSML interpret-as value) in ``language``."""
    reading = reading_for(language)
    if kind in ("characters", "spell-out", "verbatim"):
        return _spell(text, language)
    if kind == "telephone":
        groups = re.findall(r"\d+", text)
        spoken = ", ".join(
            reading.say.digits(g) if reading else " ".join(g) for g in groups)
        plus = reading.lex.plus if reading else "+"
        return f"{plus} {spoken}" if text.startswith("+") and groups else spoken or text
    if reading is None:
        return normalize(text, language)
    if kind == "ordinal" and (digits := re.sub(r"\D", "", text)):
        return reading.say.ordinal(int(digits))
    if kind == "date":
        return _date(text, date_format, reading) or normalize(text, language)
    if kind == "time" and (match := _CLOCK.fullmatch(text)):
        clock = reading.clock.time_words(match.group(1), match.group(2), match.group(3),
                                         match.group(4))
        return clock or normalize(text, language)
    return normalize(text, language)  # cardinal, number, and anything else


def _spell(text: str, language: str) -> str:
    parts = []
    for ch in text:
        if ch.isdigit():
            parts.append(normalize(ch, language))
        elif ch.isalpha():
            parts.append(ch.upper() + "." if ch.isascii() else ch)
    return " ".join(parts)


def _date(text: str, date_format: str, reading: Reading) -> str | None:
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if not date_format:
        if len(numbers) == 3 and len(re.findall(r"\d+", text)[0]) == 4:
            date_format = "ymd"
        else:
            date_format = "mdy" if reading.lex.date_order == "mdy" else "dmy"
            date_format = date_format[:len(numbers)] if len(numbers) < 3 else date_format
    if len(numbers) != len(date_format) or not set(date_format) <= set("dmy"):
        return None
    parts = dict(zip(date_format, numbers, strict=True))
    day, month, year = parts.get("d"), parts.get("m"), parts.get("y")
    if year is not None and year < 100:
        year += 2000 if year < 70 else 1900
    if month is None or not 1 <= month <= 12:
        return reading.say.year(year) if year is not None and month is None and day is None \
            else None
    if day is None:
        name = reading.lex.months[month - 1]
        return f"{name} {reading.say.year(year)}" if year is not None else name
    return reading.dates.date_words(day, month, year)
