"""Dates: ISO ("2024-03-15"), numeric ("15/03/2024", month first in en-us), named months ("March
15", "15 mars", "15 de marzo de 2024") and month with year ("March 2021").

:class:`Dates` holds what every language shares; English (ordinal days, "the 5th of May",
month first) and the Romance languages (cardinal days, "15 de marzo") read a named-month date
differently in kind, so each has its own subclass; the rest is lexicon data.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .lexicon import Lexicon
from .number_words import DASH, Speaker


class Dates:
    def __init__(self, lex: Lexicon, say: Speaker) -> None:
        self.lex = lex
        self.say = say
        months = {name: i + 1 for i, name in enumerate(lex.months)}
        month_alts = [re.escape(m) for m in sorted(months, key=len, reverse=True)]
        month_alts += [re.escape(a) + r"\.?" for a in sorted(lex.month_aliases, key=len,
                                                               reverse=True)]
        self._month_numbers = {k.lower(): v for k, v in {**months,
                                                          **lex.month_aliases}.items()}
        self._flags = 0 if lex.months_case_sensitive else re.IGNORECASE
        self._month = rf"(?P<month>{'|'.join(month_alts)})(?![\w])"
        self._day = rf"(?P<day>\d{{1,2}}){lex.day_suffix}(?![\w:]|[.,]\d)"
        self._year = r"(?P<year>\d{4})(?![\d])"
        self._iso_date = re.compile(
            r"(?<![\d./-])(?P<y>\d{4})([-/])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?![\d/-]|\.\d)")
        self._numeric_date = re.compile(
            r"(?<![\d./-])(?P<a>\d{1,2})([/.])(?P<b>\d{1,2})\2(?P<y>\d{4}|\d{2})"
            r"(?![\d/]|\.\d)")
        self._named = self._named_dates()
        self._month_year = re.compile(rf"(?<![\w]){self._month}\s+{self._year}", self._flags)

    def _named_dates(self) -> tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...]:
        """The patterns of dates with a month name, in the order they apply, with readers."""
        raise NotImplementedError

    def date_words(self, day: int, month: int, year: int | None, the: str = "",
                   day2: int | None = None) -> str | None:
        """A date as spoken, or None if it is no date (month 13)."""
        raise NotImplementedError

    def dates(self, text: str) -> str:
        text = self._iso_date.sub(self._speak_iso_date, text)
        text = self._numeric_date.sub(self._speak_numeric_date, text)
        for pattern, speak in self._named:
            text = pattern.sub(speak, text)
        return self._month_year.sub(
            lambda m: f"{self._month_name(m.group('month'))} {self.say.year(int(m['year']))}",
            text)

    def _valid(self, day: int, month: int, day2: int | None = None) -> bool:
        return 1 <= month <= 12 and 1 <= day <= 31 and (day2 is None or 1 <= day2 <= 31)

    def _speak_iso_date(self, match: re.Match[str]) -> str:
        return self.date_words(int(match["d"]), int(match["m"]), int(match["y"])) or match.group(0)

    def _speak_numeric_date(self, match: re.Match[str]) -> str:
        a, b, year = int(match["a"]), int(match["b"]), match["y"]
        day, month = (b, a) if self.lex.date_order == "mdy" else (a, b)
        if month > 12 >= day:
            day, month = month, day
        y = int(year) if len(year) == 4 else (2000 + int(year) if int(year) < 70
                                                else 1900 + int(year))
        return self.date_words(day, month, y) or match.group(0)

    def _month_number(self, written: str) -> int:
        return self._month_numbers[written.rstrip(".").lower()]

    def _month_name(self, written: str) -> str:
        return self.lex.months[self._month_number(written) - 1]


class EnglishDates(Dates):
    """"March 15th, 2024" and "the 15th of March": ordinal days, month first in en-us."""

    def _named_dates(self) -> tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...]:
        day, month, year, suffix = self._day, self._month, self._year, self.lex.day_suffix
        month_first = re.compile(
            rf"(?<![\w]){month}\s+{day}(?:{DASH}(?P<day2>\d{{1,2}}){suffix}(?![\w:]))?"
            rf"(?:,?\s+{year})?", self._flags)
        day_first = re.compile(
            rf"(?:(?P<the>\b[Tt]he)\s+)?(?<![\w.,]){day}(?:\s+of)?\s+{month}"
            rf"(?:,?\s+{year})?", self._flags)
        return (month_first, self._speak_month_first), (day_first, self._speak_day_first)

    def date_words(self, day: int, month: int, year: int | None, the: str = "",
                   day2: int | None = None) -> str | None:
        if not self._valid(day, month, day2):
            return None
        name = self.lex.months[month - 1]
        spoken_year = f", {self.say.year(year)}" if year is not None else ""
        ordinal = self.say.ordinal(day)
        if day2 is not None:
            ordinal += f" {self.lex.to} {self.say.ordinal(day2)}"
        if self.lex.date_order == "mdy" and not the:
            return f"{name} {ordinal}{spoken_year}"
        return f"{the or 'the'} {ordinal} of {name}{spoken_year}"

    def _speak_month_first(self, match: re.Match[str]) -> str:
        year = int(match["year"]) if match["year"] else None
        day2 = int(match["day2"]) if match["day2"] else None
        return self.date_words(int(match["day"]), self._month_number(match["month"]), year,
                               day2=day2) or match.group(0)

    def _speak_day_first(self, match: re.Match[str]) -> str:
        year = int(match["year"]) if match["year"] else None
        return self.date_words(int(match["day"]), self._month_number(match["month"]), year,
                               the=match["the"] or "the") or match.group(0)


class RomanceDates(Dates):
    """"15 mars 2024", "15 de marzo de 2024", "1er mai" -> "premier mai": day first, cardinal."""

    def _named_dates(self) -> tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...]:
        day_first = re.compile(
            rf"(?<![\w.,]){self._day}\s+(?:de\s+)?{self._month}(?:\s+(?:de\s+)?{self._year})?",
            self._flags)
        return ((day_first, self._speak_day_first),)

    def _speak_day_first(self, match: re.Match[str]) -> str:
        year = int(match["year"]) if match["year"] else None
        return self.date_words(int(match["day"]), self._month_number(match["month"]),
                               year) or match.group(0)

    def date_words(self, day: int, month: int, year: int | None, the: str = "",
                   day2: int | None = None) -> str | None:
        if not self._valid(day, month, day2):
            return None
        lex = self.lex
        spoken_day = self.say.ordinal(1) if day == 1 and lex.first_day_ordinal else \
            self.say.cardinal(day)
        of = f" {lex.date_of} " if lex.date_of else " "
        spoken_year = f"{of}{self.say.year(year)}" if year is not None else ""
        return f"{spoken_day}{of}{lex.months[month - 1]}{spoken_year}"
