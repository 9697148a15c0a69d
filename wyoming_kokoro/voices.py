"""The voice catalogue: the model's voice packs, named blends, and their configured settings.

Blends use Kokoro-FastAPI's syntax, in a request's voice name or in ``mixes:`` of config.yaml::

    jf_alpha+jm_kumo            equal parts
    jf_alpha(2)+jm_kumo(1)      weights, normalized to sum 1
    jf_alpha-jm_kumo(0.3)       subtraction

A term's weight defaults to 1; the blend is ``sum(sign_i * w_i / sum(w) * pack_i)``. Voice names
are matched against the loaded voices only (never used as paths). Blends are computed once and
cached per catalogue.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .config import Config, ConfigError
from .suggest import did_you_mean
from .text.language import LANGUAGES, language_of_voice, languages_served, parse_language

_LOGGER = logging.getLogger(__name__)

_GENDERS = {"f": "female", "m": "male"}
_NAME = re.compile(r"[A-Za-z0-9_]+")
_TERM = re.compile(r"\s*([A-Za-z0-9_]+)\s*(?:\(\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*\))?\s*")
MAX_TERMS = 8
MAX_CACHED_BLENDS = 32


class UnknownVoice(ValueError):
    """A request names a voice the server cannot serve, or a malformed blend."""


@dataclass(frozen=True)
class Voice:
    name: str
    pack: np.ndarray  # float32 [510, 1, 256]: one style vector per phoneme count
    language: str
    speed: float
    volume: float
    description: str
    languages: tuple[str, ...]  # Wyoming codes this voice serves
    fingerprint: str  # identifies the style pack's content (cache keys)


@dataclass(frozen=True)
class BlendTerm:
    sign: int  # +1 or -1
    name: str
    weight: float


def is_blend(name: str) -> bool:
    return any(ch in name for ch in "+-(")


def parse_blend(expression: str) -> list[BlendTerm]:
    """``jf_alpha(2)+jm_kumo`` -> terms; UnknownVoice with a clear reason when malformed."""
    parts = re.split(r"([+-])", expression)
    terms: list[BlendTerm] = []
    sign = 1
    for i, part in enumerate(parts):
        if i % 2 == 1:
            sign = 1 if part == "+" else -1
            continue
        match = _TERM.fullmatch(part)
        if match is None:
            where = "at the start" if i == 0 else f"after '{parts[i - 1]}'"
            raise UnknownVoice(f"malformed voice blend {expression!r}: expected a voice name "
                               f"{where}, got {part.strip()!r} (syntax: a(2)+b(1), a-b(0.3))")
        weight = float(match.group(2)) if match.group(2) is not None else 1.0
        if not math.isfinite(weight) or weight <= 0:
            raise UnknownVoice(f"malformed voice blend {expression!r}: weights must be positive")
        terms.append(BlendTerm(sign, match.group(1), weight))
    if len(terms) > MAX_TERMS:
        raise UnknownVoice(f"voice blend {expression!r} has more than {MAX_TERMS} voices")
    return terms


def blend_packs(terms: list[BlendTerm], packs: dict[str, np.ndarray]) -> np.ndarray:
    total = sum(t.weight for t in terms)
    out = np.zeros_like(packs[terms[0].name])
    for term in terms:
        out += term.sign * (term.weight / total) * packs[term.name]
    return out


class VoiceCatalog:
    """The voices a model and a config snapshot offer together; rebuilt when either changes."""

    def __init__(self, packs: dict[str, np.ndarray], config: Config) -> None:
        self.config = config
        self._packs = packs
        self._voices: dict[str, Voice] = {}
        for name in sorted(packs):
            self._voices[name] = self._make(name, packs[name], language_of_voice(name))
        for name, expression in config.mixes.items():
            if not _NAME.fullmatch(name):
                raise ConfigError(f"mixes.{name}: a mix name may only hold letters, digits "
                                  f"and '_'")
            if name in packs:
                raise ConfigError(f"mixes.{name}: the model already has a voice of that name")
            try:
                terms = self._terms(expression)
            except UnknownVoice as err:
                raise ConfigError(f"mixes.{name}: {err}") from err
            self._voices[name] = self._make(
                name, blend_packs(terms, packs), self._voices[terms[0].name].language,
                description=f"{name} (blend of {expression})")
        for name in config.voices:
            if name not in self._voices:
                _LOGGER.warning("voices.%s: no voice or mix of that name; ignored", name)
        if config.default_voice not in self._voices:
            raise ConfigError(f"default_voice: unknown voice {config.default_voice!r}"
                              f"{did_you_mean(config.default_voice, self._voices)}; "
                              f"available: {', '.join(self._voices)}")
        self.default = self._voices[config.default_voice]
        self._blends: OrderedDict[str, Voice] = OrderedDict()

    def _make(self, name: str, pack: np.ndarray, implied: str | None,
              description: str | None = None) -> Voice:
        config = self.config
        fallback = config.text.fallback_language
        settings = config.voice_settings(name)
        language = settings.language or implied or fallback
        return Voice(
            name=name,
            pack=pack,
            language=language,
            speed=settings.speed,
            volume=settings.volume,
            description=settings.description or description or _describe(name, language),
            languages=tuple(languages_served(language, fallback)),
            fingerprint=hashlib.blake2b(np.ascontiguousarray(pack).tobytes(),
                                        digest_size=12).hexdigest(),
        )

    def _terms(self, expression: str) -> list[BlendTerm]:
        terms = parse_blend(expression)
        for term in terms:
            if term.name not in self._packs:
                raise UnknownVoice(f"unknown voice {term.name!r} in blend {expression!r}"
                                   f"{did_you_mean(term.name, self._packs)}")
        return terms

    def __iter__(self):
        return iter(self._voices.values())

    def __len__(self) -> int:
        return len(self._voices)

    def __contains__(self, name: str) -> bool:
        return name in self._voices

    def resolve(self, name: str | None = None, language: str | None = None) -> Voice:
        """The voice a request asks for: by name or blend, else by language, else the default."""
        if name:
            voice = self._voices.get(name)
            if voice is not None:
                return voice
            if is_blend(name):
                return self._blend(name)
            raise UnknownVoice(f"unknown voice {name!r}{did_you_mean(name, self._voices)}; "
                               f"available: {', '.join(self._voices)}")
        if language:
            code = parse_language(language)
            if code is None:
                raise UnknownVoice(f"no voice for language {language!r}")
            wyoming = LANGUAGES[code].wyoming
            if wyoming in self.default.languages:
                return self.default
            for voice in self:
                if wyoming in voice.languages:
                    return voice
            raise UnknownVoice(f"no voice for language {language!r}")
        return self.default

    def _blend(self, expression: str) -> Voice:
        voice = self._blends.get(expression)
        if voice is not None:
            self._blends.move_to_end(expression)
            return voice
        terms = self._terms(expression)
        voice = self._make(expression, blend_packs(terms, self._packs),
                           self._voices[terms[0].name].language)
        self._blends[expression] = voice
        if len(self._blends) > MAX_CACHED_BLENDS:
            self._blends.popitem(last=False)
        return voice


def _describe(name: str, language: str) -> str:
    gender = _GENDERS.get(name[1:2]) if language_of_voice(name) else None
    label = LANGUAGES[language].name
    return f"{name} ({label}, {gender})" if gender else f"{name} ({label})"
