"""Clock times: "7:30", "7:30:15", "9:30-10:30 a.m.", "5 pm", and "19h45" where it is written so.

:class:`Clock` finds the times and checks them (25:61 is no time); English ("seven oh five",
"seven o'clock", "eighteen hundred") and the Romance languages ("sept heures trente", "la una en
punto", "duas horas") read the hour and minutes differently in kind, so each has a subclass; the
rest is lexicon data.
"""

from __future__ import annotations

import re

from .lexicon import Lexicon
from .number_words import DASH, Number, Speaker

_AMPM = r"(?:\s?(?P<ampm{0}>[aApP]\.?[mM]\.?)(?![\w]))?"
_CLOCK = (r"(?<![\d:.,])(?P<h{0}>\d{{1,2}}):(?P<m{0}>\d{{2}})(?::(?P<s{0}>\d{{2}}))?"
          r"(?![\d:])" + _AMPM)
_CLOCK_RANGE = re.compile(_CLOCK.format("") + rf"(?:{DASH}{_CLOCK.format('2')})?")
_HOUR_AMPM = re.compile(r"(?<![\d:.,])(?P<h>\d{1,2})\s?(?P<ampm>[aApP]\.?[mM]\.?)(?![\w])")


class Clock:
    _patterns: tuple[re.Pattern[str], ...] = (_CLOCK_RANGE, _HOUR_AMPM)

    def __init__(self, lex: Lexicon, say: Speaker) -> None:
        self.lex = lex
        self.say = say

    def times(self, text: str) -> str:
        for pattern in self._patterns:
            text = pattern.sub(self._speak_clock, text)
        return text

    def _speak_clock(self, match: re.Match[str]) -> str:
        groups = match.groupdict()
        first = self.time_words(groups["h"], groups.get("m"), groups.get("s"), groups.get("ampm"))
        if first is None:
            return match.group(0)
        if not groups.get("h2"):
            return first
        second = self.time_words(groups["h2"], groups["m2"], groups["s2"], groups["ampm2"])
        return f"{first} {self.lex.to} {second}" if second else match.group(0)

    def time_words(self, h_text: str, m_text: str | None, s_text: str | None,
                   ampm: str | None) -> str | None:
        """A clock time as spoken, or None if it is no time (25:61)."""
        h, m = int(h_text), int(m_text or 0)
        if m > 59 or h > 24 or (ampm and not 1 <= h <= 12) or (s_text and int(s_text) > 59):
            return None
        lex, say = self.lex, self.say
        period = ""
        if ampm:
            morning = ampm[0].lower() == "a"
            period = lex.am if morning else (
                lex.evening if (h % 12) >= lex.evening_from else lex.pm)
        words = self._hours_and_minutes(h, m, h_text, bool(ampm))
        if s_text:
            seconds = say.count(Number(False, str(int(s_text))), lex.second)
            words += f" {lex.and_} {seconds}"
        return f"{words} {period}" if period else words

    def _hours_and_minutes(self, h: int, m: int, h_text: str, ampm: bool) -> str:
        raise NotImplementedError


class EnglishClock(Clock):
    """"seven oh five", "seven o'clock" (1-12), "eighteen hundred" (and "07:00")."""

    def _hours_and_minutes(self, h: int, m: int, h_text: str, ampm: bool) -> str:
        words = self.say.cardinal(h)
        if m:
            return words + (f" oh {self.say.cardinal(m)}" if m < 10 else
                            f" {self.say.cardinal(m)}")
        if ampm:
            return words
        return words + (" o'clock" if 1 <= h <= 12 and not h_text.startswith("0") else
                        " hundred")


class RomanceClock(Clock):
    """The hour in its gender, its noun where the language says it, a joiner, the minutes."""

    _patterns = (_CLOCK_RANGE, re.compile(r"(?<![\w.,])(?P<h>\d{1,2})h(?P<m>\d{2})(?![\w])"),
                 _HOUR_AMPM)

    def _hours_and_minutes(self, h: int, m: int, h_text: str, ampm: bool) -> str:
        lex, say = self.lex, self.say
        full = not m and not ampm
        words = say.cardinal(h, gender=lex.hour.gender)
        if lex.hour_noun == "always" or (lex.hour_noun == "full" and full):
            words += f" {say.noun(Number(False, str(h)), lex.hour)}"
        if m:
            joiner = f" {lex.time_joiner}" if lex.time_joiner else ""
            words += f"{joiner} {say.cardinal(m)}"
        elif full and lex.full_hour:
            words += f" {lex.full_hour}"
        return words
