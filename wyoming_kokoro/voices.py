"""The voice catalogue: the model's voice packs joined with their configured settings."""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass

import numpy as np

from .config import Config, ConfigError
from .text.language import LANGUAGES, language_of_voice, languages_served, parse_language

_LOGGER = logging.getLogger(__name__)

_GENDERS = {"f": "female", "m": "male"}


class UnknownVoice(ValueError):
    """A request names a voice the server cannot serve."""


@dataclass(frozen=True)
class Voice:
    name: str
    pack: np.ndarray  # float32 [510, 1, 256]: one style vector per phoneme count
    language: str
    speed: float
    volume: float
    description: str
    languages: tuple[str, ...]  # Wyoming codes this voice serves


class VoiceCatalog:
    """The voices a model and a config snapshot offer together; rebuilt when either changes."""

    def __init__(self, packs: dict[str, np.ndarray], config: Config) -> None:
        self.config = config
        fallback = config.text.fallback_language
        self._voices: dict[str, Voice] = {}
        for name in sorted(packs):
            settings = config.voice_settings(name)
            language = settings.language or language_of_voice(name) or fallback
            self._voices[name] = Voice(
                name=name,
                pack=packs[name],
                language=language,
                speed=settings.speed,
                volume=settings.volume,
                description=settings.description or _describe(name, language),
                languages=tuple(languages_served(language, fallback)),
            )
        for name in config.voices:
            if name not in self._voices:
                _LOGGER.warning("voices.%s: the model has no voice of that name; ignored", name)
        if config.default_voice not in self._voices:
            raise ConfigError(f"default_voice: unknown voice {config.default_voice!r}"
                              f"{_suggest(config.default_voice, self._voices)}; "
                              f"available: {', '.join(self._voices)}")
        self.default = self._voices[config.default_voice]

    def __iter__(self):
        return iter(self._voices.values())

    def __len__(self) -> int:
        return len(self._voices)

    def __contains__(self, name: str) -> bool:
        return name in self._voices

    def resolve(self, name: str | None = None, language: str | None = None) -> Voice:
        """The voice a request asks for: by name, else by language, else the default."""
        if name:
            voice = self._voices.get(name)
            if voice is None:
                raise UnknownVoice(f"unknown voice {name!r}{_suggest(name, self._voices)}; "
                                   f"available: {', '.join(self._voices)}")
            return voice
        if language:
            code = parse_language(language)
            wyoming = LANGUAGES[code].wyoming if code else None
            if wyoming is None:
                raise UnknownVoice(f"no voice for language {language!r}")
            if wyoming in self.default.languages:
                return self.default
            for voice in self:
                if wyoming in voice.languages:
                    return voice
            raise UnknownVoice(f"no voice for language {language!r}")
        return self.default


def _describe(name: str, language: str) -> str:
    gender = _GENDERS.get(name[1:2]) if language_of_voice(name) else None
    label = LANGUAGES[language].name
    return f"{name} ({label}, {gender})" if gender else f"{name} ({label})"


def _suggest(name: str, known) -> str:
    hint = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""
