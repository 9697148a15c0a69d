"""Phonemes written by people: checked against the model's vocabulary, IPA mapped to Kokoro's.

Kokoro's alphabet is misaki's (hexgrad/misaki, EN_PHONES.md): IPA letters, plus one letter for
each diphthong and affricate (``A`` = eɪ, ``I`` = aɪ, ``W`` = aʊ, ``Y`` = ɔɪ, ``O`` = oʊ in US
English, ``Q`` = əʊ in British English, ``ʧ`` = tʃ, ``ʤ`` = dʒ) and ``ɹ`` for an English r.
People write phonemes in three places (a pronunciation entry, inline ``[word](/.../)``, SSML
``<phoneme>``); all of them go through :func:`check_phonemes`, so a symbol the model cannot say
is refused with its name instead of being dropped silently by the tokenizer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from .split import MAX_PHONEMES

NOT_PHONEMES = frozenset(';:,.!?—…"“”()[]/«»¡¿')
"""Punctuation: in the vocabulary (it shapes prosody), but never part of a word's sound; inside
written phonemes it would also end a sentence or a markup span early, so it is refused."""

_HINTS = {"g": "ɡ (U+0261)", "'": "ˈ (U+02C8, primary stress)", "r": "ɹ (U+0279)",
          ":": "ː (U+02D0, length)"}


class PhonemeError(ValueError):
    """Phonemes in a request (inline or SSML) that the model cannot say; for the client."""


def check_phonemes(phonemes: str, vocab: Collection[str] | None, what: str,
                   error: type[ValueError] = PhonemeError) -> str:
    """``phonemes`` with spaces tidied, or ``error`` naming ``what`` and the offending symbol.

    ``vocab`` (the model's symbols, best as :func:`symbols_of` gives them) None checks only the
    shape (length, punctuation).
    """
    phonemes = " ".join(unicodedata.normalize("NFC", phonemes).split())
    if not phonemes:
        raise error(f"{what}: no phonemes between the slashes")
    known = vocab if isinstance(vocab, frozenset) else symbols_of(vocab)
    fits = known is None or known.issuperset(phonemes)
    if known is not None and not fits:
        phonemes = "".join(_fit(ch, known) for ch in phonemes)
        fits = known.issuperset(phonemes)
    if len(phonemes) > MAX_PHONEMES:
        raise error(f"{what}: {len(phonemes)} phonemes; the model reads at most {MAX_PHONEMES} "
                    f"at once")
    if not NOT_PHONEMES.isdisjoint(phonemes):
        ch = next(ch for ch in phonemes if ch in NOT_PHONEMES)
        raise error(f"{what}: {ch!r} is punctuation, not a phoneme")
    if known is not None and not fits:
        ch = next(ch for ch in phonemes if ch not in known)
        hint = f" (did you mean {_HINTS[ch]}?)" if ch in _HINTS and _HINTS[ch][0] in known \
            else ""
        raise error(f"{what}: phoneme {ch!r} (U+{ord(ch):04X}) is not in the model's "
                    f"vocabulary{hint}")
    return phonemes


def symbols_of(vocab: Collection[str] | None) -> frozenset[str] | None:
    """The model's symbols (its vocabulary maps symbol -> token id) and the space, as a set."""
    if vocab is None:
        return None
    return frozenset(vocab) | {" "}


def _fit(ch: str, vocab: frozenset[str]) -> str:
    """A precomposed letter the vocabulary holds only as letter + mark (õ = o + ◌̃), split."""
    if ch in vocab:
        return ch
    parts = unicodedata.normalize("NFD", ch)
    return parts if len(parts) > 1 and all(c in vocab for c in parts) else ch


# --------------------------------------------------------------------------------------------
# IPA -> Kokoro (misaki's own mapping from espeak's IPA, without espeak's tie marks)

_TIES = dict.fromkeys(map(ord, "\u0361\u035c\u203f^"), None)  # t͡ʃ, t͜ʃ, t‿ʃ -> tʃ
_COMMON = (  # every language: the merged symbols misaki's espeak G2P emits
    ("tʃ", "ʧ"), ("dʒ", "ʤ"), ("eɪ", "A"), ("aɪ", "I"), ("aʊ", "W"), ("ɔɪ", "Y"),
    ("g", "ɡ"), ("'", "ˈ"), ("ˑ", ""), (".", ""),  # syllable dots and half-length: unspoken
)
_ENGLISH = (  # misaki's English set: no trilled r, no length in US English, ...
    ("ɚ", "əɹ"), ("ɝ", "ɜɹ"), ("r", "ɹ"), ("ɫ", "l"), ("ɬ", "l"), ("x", "k"),
    ("ç", "k"), ("ɐ", "ə"), ("\u0303", ""), ("ʲ", ""),
)
_US = (("oʊ", "O"), ("əʊ", "O"), ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", ""))
_GB = (("əʊ", "Q"), ("oʊ", "Q"), ("eə", "ɛː"), ("iə", "ɪə"))
_OTHER = (("oʊ", "O"), ("əʊ", "Q"))
_SYLLABIC = re.compile(r"(\S)\u0329")  # n̩ -> ᵊn, as misaki does
_VOWELS = "aeiouyæɑɒɔəɛɜɪʊʌᵻøœɐɨɯɤɘɵʉɞɶʏɚAIOQWYᵊ"
# IPA marks stress before a syllable, misaki (and espeak) before its vowel: "bəˈnænə" ->
# "bənˈænə", the form Kokoro learned.
_STRESS_ONSET = re.compile(rf"([ˈˌ])([^\s{_VOWELS}ˈˌ]++)(?=[{_VOWELS}])")


def ipa_to_kokoro(ipa: str, language: str) -> str:
    """IPA (as in dictionaries and SSML ``alphabet="ipa"``) in Kokoro's symbols for ``language``.

    Symbols without a Kokoro counterpart are left as they are, for :func:`check_phonemes` to
    name. Affricates ts/dz are merged only when written with a tie (t͡s), as espeak does: untied
    they are two sounds ("cats").
    """
    text = unicodedata.normalize("NFD", ipa.strip())  # combining marks apart: n̩, ɾ̃
    for tied, merged in (("t\u0361s", "ʦ"), ("d\u0361z", "ʣ"), ("t\u035cs", "ʦ"),
                         ("d\u035cz", "ʣ")):
        text = text.replace(tied, merged)
    text = text.translate(_TIES)
    text = _SYLLABIC.sub(r"ᵊ\1", text)
    english = language in ("en-us", "en-gb")
    tables: list[tuple[tuple[str, str], ...]] = [_COMMON]
    if english:
        tables += [_US if language == "en-us" else _GB, _ENGLISH]
    else:
        tables.append(_OTHER)
    for table in tables:
        for old, new in table:
            text = text.replace(old, new)
    text = _STRESS_ONSET.sub(r"\2\1", unicodedata.normalize("NFC", text))
    return text
