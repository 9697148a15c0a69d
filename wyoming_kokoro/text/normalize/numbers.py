"""The numbers left once dates, times, money and measurements are read: ordinals ("21st", "2e",
"1ª"), ranges ("1-2"), phone numbers (digit by digit), fractions ("1/2", "½"), and cardinals
with the gender of the noun after them ("1 heure" -> "une heure"); and, for English only, years
("in 1999", "2020-2024") and decades ("the 1990s", "'80s")."""

from __future__ import annotations

import re

from .lexicon import Lexicon
from .number_words import DASH, Speaker, number_pattern, parse

_PHONE = re.compile(
    r"(?<![\w.,+-])(?:\+\d{1,3}(?:[ .-]\(?\d{1,4}\)?){2,5}|\(\d{3}\)\s?\d{3}-\d{4}"
    r"|\d{3}[-.]\d{3}[-.]\d{4}|\d{3}-\d{4})(?![\w-]|[.,]\d)")
_FRACTION = re.compile(r"(?<![\w.,/])(?P<a>\d{1,3})/(?P<b>\d{1,3})(?![\w/]|[.,]\d)")
_VULGAR = re.compile("[½¼¾]")
_COMMA_WORD = re.compile(r",(?=[^\W\d_])")
_NEXT_WORD = re.compile(r"[ \u00a0]+([^\W\d_]+)")
_FEMININE_SUFFIXES = frozenset({"ª", "re", "res", "ère", "ères", "nde"})


class Numbers:
    def __init__(self, lex: Lexicon, say: Speaker) -> None:
        self.lex = lex
        self.say = say
        num = number_pattern(lex)
        self._ordinal = re.compile(lex.ordinal_pattern)
        self._range = re.compile(
            rf"(?<![\w.,])(?<!\d[-–])(?P<n1>{num}){DASH}(?P<n2>{num})(?![\w-]|[.,/]\d)")
        decimals = re.escape(lex.decimal_separators)
        self._number = re.compile(
            rf"(?:(?<![^\s(\[~])(?P<sign>[-−+]))?(?<![\w.])(?P<num>{num})"
            rf"(?![\w]|[{decimals}]\d)")
        self._genders = lex.genders()

    def ordinals(self, text: str) -> str:
        return self._ordinal.sub(self._speak_ordinal, text)

    def ranges(self, text: str) -> str:
        return self._range.sub(self._speak_range, text)

    def numbers(self, text: str) -> str:
        text = _PHONE.sub(self._speak_phone, text)
        text = _FRACTION.sub(self._speak_fraction, text)
        text = _VULGAR.sub(lambda m: self.lex.vulgar_fractions["½¼¾".index(m.group(0))], text)
        text = self._number.sub(self._speak_number, text)
        return _COMMA_WORD.sub(", ", text)

    def _speak_ordinal(self, match: re.Match[str]) -> str:
        n, suffix = int(match["n"]), match["suffix"]
        feminine = suffix in _FEMININE_SUFFIXES or (len(suffix) == 2 and suffix.endswith("a"))
        words = self.say.ordinal(n, "f" if feminine else "m")
        if self.lex.ordinal_apocope and suffix == self.lex.ordinal_apocope:
            words = re.sub(r"o$", "", words)  # primer, tercer
        if self.lex.ordinal_plurals and suffix.endswith("s") and not words.endswith("s"):
            words += "s"
        return words

    def _speak_range(self, match: re.Match[str]) -> str:
        n1, n2 = match["n1"], match["n2"]
        if len(n1) == 3 and len(n2) == 4 and n1.isdigit() and n2.isdigit():
            return match.group(0)  # 555-1234: a phone number, not a range
        first = self.say.number(parse(n1, self.lex))
        return f"{first} {self.lex.to} {self.say.number(parse(n2, self.lex))}"

    def _speak_phone(self, match: re.Match[str]) -> str:
        groups = re.findall(r"\d+", match.group(0))
        words = ", ".join(self.say.digits(g) for g in groups)
        return f"{self.lex.plus} {words}" if match.group(0).startswith("+") else words

    def _speak_fraction(self, match: re.Match[str]) -> str:
        a, b = int(match["a"]), int(match["b"])
        say = self.say
        if b == 0:
            return match.group(0)
        if a == 24 and b == 7:
            return f"{say.cardinal(24)} {say.cardinal(7)}"
        if self.lex.ordinal_fractions and 2 <= b <= 10 and a < b:
            singular, plural = self.lex.denominators.get(b) or (say.ordinal(b),
                                                                say.ordinal(b) + "s")
            return f"{say.cardinal(a)} {singular if a == 1 else plural}"
        return f"{say.cardinal(a)} {self.lex.over} {say.cardinal(b)}"

    def _speak_number(self, match: re.Match[str]) -> str:
        sign = match["sign"]
        number = parse(match["num"], self.lex, negative=bool(sign) and sign != "+")
        following = _NEXT_WORD.match(match.string, match.end())
        gender = self._genders.get(following.group(1).lower()) if following else None
        if gender:  # "1 heure" -> "une heure", "21 días" -> "veintiún días"
            words = self.say.number(number, gender, before_noun=True)
        else:
            words = self.say.number(number)
        return f"{self.lex.plus} {words}" if sign == "+" else words


_DECADE = re.compile(
    r"(?<![\w'’])(?P<y>\d{3}0)s(?![\w])|[’'](?P<d>\d0)s(?![\w])|(?<=[Tt]he\s)"
    r"(?P<t>\d0)s(?![\w])")
_YEAR_RANGE = re.compile(
    r"(?<![\w.,-])(?P<y>1[1-9]\d\d|20\d\d)\s?[-–]\s?(?P<y2>1[1-9]\d\d|20\d\d)"
    r"(?![\w-]|[.,]\d)")


class EnglishYears:
    """Years read as years, where English says they are: after "in", "since" ... and in year
    ranges ("nineteen ninety-nine", not "one thousand nine hundred ..."); decades ("the
    nineties"). The other languages read a year as a cardinal, which the number rule does."""

    def __init__(self, lex: Lexicon, say: Speaker) -> None:
        self.lex = lex
        self.say = say
        year_words = "|".join(lex.year_words) or "(?!)"
        self._year_context = re.compile(
            rf"(?<![\w])(?P<w>(?i:{year_words}))\s+(?P<y>\d{{4}})"
            rf"(?:{DASH}(?P<y2>\d{{4}}|\d{{2}}))?(?![\w]|[.,]\d)")

    def decades(self, text: str) -> str:
        return _DECADE.sub(self._speak_decade, text)

    def years(self, text: str) -> str:
        text = self._year_context.sub(self._speak_year_context, text)
        return _YEAR_RANGE.sub(self._speak_year_range, text)

    def _speak_decade(self, match: re.Match[str]) -> str:
        if match["y"]:
            words = self.say.year(int(match["y"]))
        else:
            words = self.say.cardinal(int(match["d"] or match["t"]))
        return re.sub(r"y$", "ie", words) + "s"

    def _year_words(self, year: str, year2: str | None) -> str:
        words = self.say.year(int(year))
        if year2:
            end = int(year2) if len(year2) == 4 else int(year[:2] + year2)
            words += f" {self.lex.to} {self.say.year(end)}"
        return words

    def _speak_year_context(self, match: re.Match[str]) -> str:
        if not 1000 <= int(match["y"]) <= 2099:
            return match.group(0)
        return f"{match['w']} {self._year_words(match['y'], match['y2'])}"

    def _speak_year_range(self, match: re.Match[str]) -> str:
        if int(match["y2"]) <= int(match["y"]):
            return match.group(0)
        return self._year_words(match["y"], match["y2"])
