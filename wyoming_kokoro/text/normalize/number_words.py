"""Written numbers -> words, per language, with num2words doing the counting.

Adds what num2words leaves out: parsing numbers as each language writes them ("1,000.5" in
English, "1.000,5" in Spanish, "1 000,5" in French), decimals read the way each language reads
them, gender agreement before a noun ("veintiún kilómetros", "una hora", "duas horas") and
singular/plural choice for the noun.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from num2words import num2words

from .lexicon import Lexicon, Noun

NBSP = "\u00a0\u202f"  # no-break space, narrow no-break space (French thousands, "22 %")
MAX_DIGITS = 15  # longer integers are read digit by digit
MAX_ORDINAL_DIGITS = 9  # num2words' ordinals break on huge numbers in some languages

# Pieces of the rules' patterns around numbers
SPACE = rf"[ {NBSP}]?"  # an optional space between a number and its symbol
SIGN = r"(?:(?<![^\s(\[~])(?P<sign>[-−]))?"  # a minus only at the start of a token
DASH = r"\s?[-–]\s?"


@dataclass(frozen=True)
class Number:
    """A parsed written number: sign, integer digits, fraction digits, decimal separator."""

    negative: bool
    integer: str
    fraction: str = ""
    separator: str = ""

    @property
    def value(self) -> Decimal:
        text = f"{self.integer or '0'}.{self.fraction}" if self.fraction else self.integer
        value = Decimal(text or "0")
        return -value if self.negative else value

    @property
    def is_integer(self) -> bool:
        return not self.fraction


def number_pattern(lex: Lexicon) -> str:
    """Regex (no groups) for one written number in ``lex``'s conventions, without a sign."""
    groups = re.escape(lex.group_separators) + NBSP
    decimals = re.escape(lex.decimal_separators)
    point = re.escape(lex.decimal_separators[0])
    grouped = rf"\d{{1,3}}(?:[{groups}]\d{{3}})+(?![\d])(?:[{point}]\d+)?"
    plain = rf"\d+(?:[{decimals}]\d+)?"
    return rf"(?:{grouped}|{plain})"


def parse(text: str, lex: Lexicon, negative: bool = False) -> Number:
    """Parse a string matched by :func:`number_pattern`."""
    text = text.strip()
    for sep in lex.decimal_separators:
        head, dot, tail = text.rpartition(sep)
        # a separator followed by exactly three digits after a group is a thousands separator
        if dot and tail.isdigit() and not (sep in lex.group_separators and len(tail) == 3):
            integer = re.sub(r"\D", "", head)
            return Number(negative, integer, tail, sep)
    return Number(negative, re.sub(r"\D", "", text))


class Speaker:
    """Number words for one language."""

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self.lang = lex.num2words
        self.zero = self.cardinal(0)

    def cardinal(self, n: int, gender: str = "", before_noun: bool = False) -> str:
        if len(str(abs(n))) > MAX_DIGITS:
            return self.digits(str(abs(n)))
        words = num2words(n, lang=self.lang).replace(",", "")  # no pauses inside a number
        return self._agree(words, gender, before_noun) if gender or before_noun else words

    def ordinal(self, n: int, gender: str = "m") -> str:
        if len(str(n)) > MAX_ORDINAL_DIGITS:
            return self.cardinal(n)
        words = num2words(n, lang=self.lang, to="ordinal").replace(",", "")
        if gender == "f":
            return self._feminine_ordinal(words)
        return words

    def year(self, n: int) -> str:
        if self.lang == "en":
            return num2words(n, lang="en", to="year").replace("oh-", "oh ")
        return self.cardinal(n)

    def digits(self, digits: str) -> str:
        return " ".join(self.cardinal(int(d)) for d in digits if d.isdigit())

    def number(self, number: Number, gender: str = "", before_noun: bool = False) -> str:
        """Words for a parsed number: ``-22.5`` -> ``minus twenty-two point five``."""
        integer = number.integer
        if integer.startswith("0") and len(integer) > 1 and not number.fraction:
            words = self.digits(integer)  # a code, not an amount: 007
        elif not integer:
            words = self.zero if number.fraction else ""
        else:
            words = self.cardinal(int(integer), gender, before_noun and number.is_integer)
        if number.fraction:
            point = self.lex.decimal_word.get(number.separator) or next(
                iter(self.lex.decimal_word.values()))
            words = f"{words} {point} {self._fraction(number.fraction)}"
        if number.negative:
            words = f"{self.lex.minus} {words}"
        return words

    def count(self, number: Number, noun: Noun) -> str:
        """``1`` + kilometer -> ``one kilometer``; ``21`` + kilómetro -> ``veintiún kilómetros``."""
        return self.of(self.number(number, noun.gender, before_noun=True),
                       self.noun(number, noun))

    def noun(self, number: Number, noun: Noun) -> str:
        """The singular or plural of ``noun`` for ``number`` in this language."""
        value = abs(number.value)
        singular = value < 2 if self.lex.plural_from_two else (value == 1 and number.is_integer)
        return noun.singular if singular else noun.plural

    def of(self, words: str, noun_words: str) -> str:
        """``un million`` + ``euros`` -> ``un million d'euros`` where the language wants it."""
        if not self.lex.of or not _ENDS_WITH_MAGNITUDE.search(words):
            return f"{words} {noun_words}"
        of = self.lex.of
        if of == "de" and self.lang == "fr" and noun_words[:1].lower() in "aeiouéèêh":
            return f"{words} d'{noun_words}"
        return f"{words} {of} {noun_words}"

    # ----------------------------------------------------------------------------------------

    def _fraction(self, digits: str) -> str:
        if self.lex.digits_after_point or len(digits) > 3:
            return self.digits(digits)
        zeros = len(digits) - len(digits.lstrip("0"))
        rest = digits[zeros:]
        parts = [self.zero] * zeros + ([self.cardinal(int(rest))] if rest else [])
        return " ".join(parts)

    def _agree(self, words: str, gender: str, before_noun: bool) -> str:
        """Gender (and apocope before a noun) on the last word of a cardinal."""
        lang = self.lang
        if lang == "es":
            if gender == "f":
                words = re.sub(r"uno$", "una", words)
                return re.sub(r"ientos\b", "ientas", words)
            if before_noun:
                words = re.sub(r"veintiuno$", "veintiún", words)
                return re.sub(r"\buno$", "un", words)
        elif lang == "pt_BR" and gender == "f":
            words = re.sub(r"\bum$", "uma", words)
            words = re.sub(r"\bdois$", "duas", words)
            return re.sub(r"entos\b", "entas", words)
        elif lang == "fr" and gender == "f":
            return re.sub(r"\bun$", "une", words)
        elif lang == "it":
            if gender == "f":
                return re.sub(r"^uno$", "una", words)
            if before_noun:
                return re.sub(r"^uno$", "un", words)
        return words

    def _feminine_ordinal(self, words: str) -> str:
        if self.lang in ("es", "pt_BR", "it"):
            return re.sub(r"o\b", "a", words)
        if self.lang == "fr":
            return re.sub(r"premier$", "première", words)
        return words


_ENDS_WITH_MAGNITUDE = re.compile(
    r"\b(?:millions?|milliards?|mill[oó]n|millones|billones|bill[oó]n|milion[ei]|miliard[oi]|"
    r"milh[ãõ]o|milhões|bilh[ãõ]o|bilhões|trilh[ãõ]o|trilhões)$")
