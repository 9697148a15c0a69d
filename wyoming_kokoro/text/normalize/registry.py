"""The normalization switches and, per language, the rules each switch turns on, in running order.

Each switch is stated once, as a field of :class:`NormalizeOptions` (name, default, allowed values,
one-line doc); config.py derives ``text.normalize`` and its per-language overrides from these
fields. Each rule is a function text -> text registered under the switch that turns it on; a
language's pipeline is the language-neutral markup rules around the rules its entry in
:data:`LANGUAGES` lists. A language without an entry gets the neutral rules only.

Order matters: tokens that contain numbers in a specific shape (dates, times, money,
measurements) are read before bare numbers, and decades ("1990s") before units ("s").
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from . import lexicon, markup
from .abbreviations import Abbreviations
from .dates import Dates, EnglishDates, RomanceDates
from .ja import JapaneseRules
from .lexicon import Lexicon
from .measures import Measures
from .money import Money
from .number_words import Speaker
from .numbers import EnglishYears, Numbers
from .symbols import Symbols
from .times import Clock, EnglishClock, RomanceClock
from .web import Web

EMOJI_POLICIES = ("drop", "keep")


def _switch(default: Any, doc: str, *, choices: tuple[str, ...] | None = None,
            on: Any = True) -> Any:
    """A switch: its rules run while its value is ``on``."""
    return field(default=default, metadata={"doc": doc, "choices": choices, "on": on})


@dataclass(frozen=True)
class NormalizeOptions:
    """The normalization switches, one per kind of rule (all on by default)."""

    enabled: bool = _switch(True, "normalize at all")
    markdown: bool = _switch(True, "markdown to its spoken content")
    emoji: str = _switch("drop", "what happens to emoji", choices=EMOJI_POLICIES, on="drop")
    punctuation: bool = _switch(True, "tame repeated punctuation")
    urls: bool = _switch(True, "URLs and e-mail addresses")
    abbreviations: bool = _switch(True, "Dr., e.g., etc.")
    symbols: bool = _switch(True, "&, ~, #1, No. 5, 2 + 2")
    dates: bool = _switch(True, "2024-03-15, 15/03/2024, March 15")
    times: bool = _switch(True, "7:30 am, 19:45")
    currency: bool = _switch(True, "$5.30, 5,30 €, $5.3 billion")
    temperatures: bool = _switch(True, "22.5°C, 72°F")
    percent: bool = _switch(True, "65%")
    units: bool = _switch(True, "km, km/h, kWh, kg, min ...")
    ordinals: bool = _switch(True, "1st, 2e, 3º")
    years: bool = _switch(True, "in 1999, 2020-2024, the 1990s")
    ranges: bool = _switch(True, "1-2")
    numbers: bool = _switch(True, "cardinals, decimals, negatives, fractions, phones")


DEFAULT_OPTIONS = NormalizeOptions()


@dataclass(frozen=True)
class Switch:
    """One field of :class:`NormalizeOptions`, as config.py and the docs need it."""

    name: str
    type: Any  # bool or str
    default: Any
    doc: str
    choices: tuple[str, ...] | None
    on: Any  # the value under which its rules run


_HINTS = typing.get_type_hints(NormalizeOptions)
SWITCHES: tuple[Switch, ...] = tuple(
    Switch(f.name, _HINTS[f.name], f.default, f.metadata["doc"], f.metadata["choices"],
           f.metadata["on"]) for f in dataclasses.fields(NormalizeOptions))
_ON = {s.name: s.on for s in SWITCHES if s.name != "enabled"}


@dataclass(frozen=True)
class Rule:
    """One rule of a language's pipeline: runs while ``options.<switch>`` is the switch's on."""

    switch: str
    apply: Callable[[str], str]
    on: Any = field(init=False)

    def __post_init__(self) -> None:
        if self.switch not in _ON:
            raise ValueError(f"rule {self.name!r}: no normalization switch {self.switch!r}")
        object.__setattr__(self, "on", _ON[self.switch])

    @property
    def name(self) -> str:
        return self.apply.__name__


@dataclass(frozen=True)
class Reading:
    """How a language that reads numbers as words reads them; SSML's say-as uses these too."""

    lex: Lexicon
    say: Speaker
    dates: Dates
    clock: Clock


@dataclass(frozen=True)
class Language:
    rules: tuple[Rule, ...]  # between the neutral rules, in the order they run
    reading: Reading | None = None


def _english(lex: Lexicon) -> Language:
    say = Speaker(lex)
    reading = Reading(lex, say, EnglishDates(lex, say), EnglishClock(lex, say))
    money, measures = Money(lex, say), Measures(lex, say)
    numbers, years = Numbers(lex, say), EnglishYears(lex, say)
    return Language((
        Rule("urls", Web(lex).urls),
        Rule("abbreviations", Abbreviations(lex).abbreviations),
        Rule("symbols", Symbols(lex).symbols),
        Rule("dates", reading.dates.dates),
        Rule("times", reading.clock.times),
        Rule("currency", money.currency),
        Rule("temperatures", measures.temperatures),
        Rule("percent", measures.percent),
        Rule("years", years.decades),
        Rule("units", measures.units),
        Rule("ordinals", numbers.ordinals),
        Rule("years", years.years),
        Rule("ranges", numbers.ranges),
        Rule("numbers", numbers.numbers),
    ), reading)


def _romance(lex: Lexicon) -> Language:
    """French, Spanish, Italian, Portuguese: as English, without the year rules (a year is a
    cardinal there: "deux mille vingt-quatre")."""
    say = Speaker(lex)
    reading = Reading(lex, say, RomanceDates(lex, say), RomanceClock(lex, say))
    money, measures, numbers = Money(lex, say), Measures(lex, say), Numbers(lex, say)
    return Language((
        Rule("urls", Web(lex).urls),
        Rule("abbreviations", Abbreviations(lex).abbreviations),
        Rule("symbols", Symbols(lex).symbols),
        Rule("dates", reading.dates.dates),
        Rule("times", reading.clock.times),
        Rule("currency", money.currency),
        Rule("temperatures", measures.temperatures),
        Rule("percent", measures.percent),
        Rule("units", measures.units),
        Rule("ordinals", numbers.ordinals),
        Rule("ranges", numbers.ranges),
        Rule("numbers", numbers.numbers),
    ), reading)


def _japanese() -> Language:
    """Digits stay (pyopenjtalk reads them); the symbols around them get Japanese words."""
    ja = JapaneseRules()
    return Language((
        Rule("dates", ja.dates),
        Rule("times", ja.times),
        Rule("currency", ja.currency),
        Rule("temperatures", ja.temperatures),
        Rule("percent", ja.percent),
        Rule("ranges", ja.ranges),
        Rule("numbers", ja.numbers),
    ))


def _neutral_only() -> Language:
    """Hindi, Chinese: their phonemizers read digits and symbols themselves."""
    return Language(())


LANGUAGES: dict[str, Callable[[], Language]] = {
    "en-us": lambda: _english(lexicon.ENGLISH),
    "en-gb": lambda: _english(lexicon.ENGLISH_GB),
    "fr": lambda: _romance(lexicon.FRENCH),
    "es": lambda: _romance(lexicon.SPANISH),
    "it": lambda: _romance(lexicon.ITALIAN),
    "pt-br": lambda: _romance(lexicon.PORTUGUESE),
    "ja": _japanese,
    "hi": _neutral_only,
    "zh": _neutral_only,
}
"""Per language (our codes), its rules; built on first use (they compile many patterns)."""

_BEFORE = (Rule("markdown", markup.strip_markdown), Rule("emoji", markup.drop_emoji))
_AFTER = (Rule("punctuation", markup.tame_punctuation),)


@cache
def _language(language: str) -> Language:
    return LANGUAGES.get(language, _neutral_only)()


@cache
def rules_for(language: str) -> tuple[Rule, ...]:
    """Every rule ``language`` runs, in order: the neutral markup rules around its own."""
    return (*_BEFORE, *_language(language).rules, *_AFTER)


def reading_for(language: str) -> Reading | None:
    """How ``language`` reads numbers, dates and times as words; None where it does not."""
    return _language(language).reading
