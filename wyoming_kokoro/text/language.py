"""Languages Kokoro speaks, and which one a piece of text is read in.

A request's language comes from the voice (its config, else its Kokoro prefix: ``a`` = en-us,
``j`` = ja, ...). When the text is written in a script that language cannot read (Latin text for a
Japanese voice), the configured fallback language reads it instead, so the embedded Japanese
voices read English text as English.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # our code, as in config.yaml: en-us
    wyoming: str  # Home Assistant / Wyoming code: en_US
    name: str
    script: str  # latin | kana | han | devanagari
    prefix: str  # Kokoro voice-name prefix letter


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en-us", "en_US", "English (US)", "latin", "a"),
        Language("en-gb", "en_GB", "English (UK)", "latin", "b"),
        Language("es", "es_ES", "Spanish", "latin", "e"),
        Language("fr", "fr_FR", "French", "latin", "f"),
        Language("hi", "hi_IN", "Hindi", "devanagari", "h"),
        Language("it", "it_IT", "Italian", "latin", "i"),
        Language("ja", "ja_JP", "Japanese", "kana", "j"),
        Language("pt-br", "pt_BR", "Portuguese (Brazil)", "latin", "p"),
        Language("zh", "zh_CN", "Chinese (Mandarin)", "han", "z"),
    )
}

_BY_PREFIX = {lang.prefix: lang.code for lang in LANGUAGES.values()}
_BY_WYOMING = {lang.wyoming.lower(): lang.code for lang in LANGUAGES.values()}


def language_of_voice(voice_name: str) -> str | None:
    """Language implied by a Kokoro voice name (``jf_alpha`` -> ``ja``), or None."""
    if len(voice_name) >= 3 and voice_name[2] == "_":
        return _BY_PREFIX.get(voice_name[0].lower())
    return None


def parse_language(value: str) -> str | None:
    """Our code for a user/HA language tag: ``en_US``, ``en-us``, ``ja``, ``ja-JP`` ..."""
    tag = value.strip().lower().replace("_", "-")
    if tag in LANGUAGES:
        return tag
    if (code := _BY_WYOMING.get(tag.replace("-", "_"))) is not None:
        return code
    base = tag.split("-")[0]
    if base == "en":
        return "en-us"
    if base == "pt":
        return "pt-br"
    return base if base in LANGUAGES else None


def scripts_in(text: str) -> set[str]:
    """The writing systems whose letters appear in ``text`` (digits and symbols count for none)."""
    found: set[str] = set()
    for ch in text:
        cp = ord(ch)
        if cp < 0x80:
            if ch.isalpha():
                found.add("latin")
        elif 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9F:
            found.add("kana")
        elif 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF:
            found.add("han")
        elif 0x0900 <= cp <= 0x097F:
            found.add("devanagari")
        elif ch.isalpha() and (0xC0 <= cp <= 0x24F or 0x1E00 <= cp <= 0x1EFF
                               or 0xFF21 <= cp <= 0xFF5A):  # accented and full-width Latin
            found.add("latin")
    return found


def can_read(language: str, scripts: set[str]) -> bool:
    script = LANGUAGES[language].script
    if script == "kana":  # Japanese is written in kana and kanji
        return bool(scripts & {"kana", "han"})
    return script in scripts


def pick_language(text: str, voice_language: str, fallback: str) -> str:
    """The language ``text`` is read in by a voice of ``voice_language``."""
    scripts = scripts_in(text)
    if not scripts or can_read(voice_language, scripts):
        return voice_language
    if can_read(fallback, scripts):
        return fallback
    if "kana" in scripts:
        return "ja"
    if "han" in scripts:
        return "zh"
    if "devanagari" in scripts:
        return "hi"
    return "en-us"


def languages_served(voice_language: str, fallback: str) -> list[str]:
    """Wyoming codes a voice can serve: its own, plus the fallback for a different script."""
    codes = [LANGUAGES[voice_language].wyoming]
    if LANGUAGES[fallback].script != LANGUAGES[voice_language].script:
        codes.append(LANGUAGES[fallback].wyoming)
    return codes
