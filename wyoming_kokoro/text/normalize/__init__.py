"""Text normalization: written text -> what a speaker would say, before G2P.

    normalize("It's 22.5°C and 65% humidity", "en-us")
    -> "It's twenty-two point five degrees Celsius and sixty-five percent humidity"

Runs per sentence on worker threads: a pure function over patterns compiled once per language.
English (en-us, en-gb), French, Spanish, Italian and Portuguese (Brazil) get every rule. Japanese
keeps its digits for pyopenjtalk but gets words for the symbols around them ("22.5°C" ->
"22点5度", "7:30" -> "7時30分"). Hindi and Chinese get the language-neutral rules (markdown,
emoji, punctuation) and keep their digits, which their phonemizers read themselves.

The package, by domain: registry.py (the switches, and per language which rules run in which
order), markup.py (markdown, emoji, punctuation), web.py, abbreviations.py, symbols.py,
dates.py, times.py, money.py, measures.py, numbers.py (ordinals, ranges, cardinals, years), over
lexicon.py (the words per language) and number_words.py (num2words, agreement); ja.py is
Japanese.
"""

from __future__ import annotations

import logging

from . import markup
from .registry import DEFAULT_OPTIONS, EMOJI_POLICIES, SWITCHES, NormalizeOptions, rules_for

__all__ = ["DEFAULT_OPTIONS", "EMOJI_POLICIES", "SWITCHES", "NormalizeOptions", "normalize"]

_LOGGER = logging.getLogger(__name__)


def normalize(text: str, language: str, options: NormalizeOptions = DEFAULT_OPTIONS) -> str:
    """``text`` as it should be spoken in ``language`` (one of our codes: en-us, fr, ...)."""
    if not options.enabled or not text:
        return text
    for rule in rules_for(language):
        if getattr(options, rule.switch) == rule.on:
            try:
                text = rule.apply(text)
            except Exception:  # a reading mistake must never cost the whole sentence
                _LOGGER.exception("Normalization rule %r failed on %r", rule.name, text[:200])
    return markup.tidy(text)
