"""Text normalization: written text -> what a speaker would say, before G2P.

    normalize("It's 22.5°C and 65% humidity", "en-us")
    -> "It's twenty-two point five degrees Celsius and sixty-five percent humidity"

Runs per sentence on worker threads: a pure function over patterns compiled once per language.
English (en-us, en-gb), French, Spanish, Italian and Portuguese (Brazil) get every rule. Japanese
keeps its digits for pyopenjtalk but gets words for the symbols around them ("22.5°C" ->
"22点5度", "7:30" -> "7時30分"). Hindi and Chinese get the language-neutral rules (markdown,
emoji, punctuation) and keep their digits, which their phonemizers read themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from . import markup
from .rules import ORDER, rules_for
from .rules_ja import JapaneseRules

_LOGGER = logging.getLogger(__name__)

EMOJI_POLICIES = ("drop", "keep")


@dataclass(frozen=True)
class NormalizeOptions:
    """One switch per rule (all on by default)."""

    enabled: bool = True
    markdown: bool = True
    emoji: str = "drop"  # drop | keep
    punctuation: bool = True
    urls: bool = True
    abbreviations: bool = True
    symbols: bool = True
    dates: bool = True
    times: bool = True
    currency: bool = True
    temperatures: bool = True
    percent: bool = True
    units: bool = True
    ordinals: bool = True
    years: bool = True
    ranges: bool = True
    numbers: bool = True


DEFAULT_OPTIONS = NormalizeOptions()

_SWITCH = {name: name for name in ORDER} | {"decades": "years"}
_OTHER_RULES = {"ja": JapaneseRules()}


def normalize(text: str, language: str, options: NormalizeOptions = DEFAULT_OPTIONS) -> str:
    """``text`` as it should be spoken in ``language`` (one of our codes: en-us, fr, ...)."""
    if not options.enabled or not text:
        return text
    if options.markdown:
        text = markup.strip_markdown(text)
    if options.emoji == "drop":
        text = markup.drop_emoji(text)
    rules = rules_for(language) or _OTHER_RULES.get(language)
    if rules is not None:
        for name in ORDER:
            if getattr(options, _SWITCH[name]):
                try:
                    text = getattr(rules, name)(text)
                except Exception:  # a reading mistake must never cost the whole sentence
                    _LOGGER.exception("Normalization rule %r failed on %r", name, text[:200])
    if options.punctuation:
        text = markup.tame_punctuation(text)
    return markup.tidy(text)
