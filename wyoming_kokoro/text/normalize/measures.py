"""Measurements after numbers: temperatures ("22.5°C", "-5 °C", "72°F", "20-25°C"), percentages
("65%", "65 %") and units ("3 km", "km/h", "kWh", "m²", "µg/m³"), with singular and plural and
the noun's gender ("1 km" -> "one kilometer", "21 km" -> "veintiún kilómetros")."""

from __future__ import annotations

import re

from .lexicon import Lexicon, Noun
from .number_words import DASH, SIGN, SPACE, Speaker, number_pattern, parse


class Measures:
    def __init__(self, lex: Lexicon, say: Speaker) -> None:
        self.lex = lex
        self.say = say
        num = number_pattern(lex)
        quantity = (rf"{SIGN}(?<![\w.,])(?P<num>{num})"
                    rf"(?:{DASH}(?P<sign2>[-−])?(?P<num2>{num}))?")
        self._temperature = re.compile(
            rf"{quantity}{SPACE}(?:(?P<deg>[°º]){SPACE}(?P<scale>[CF])?|(?P<cel>℃)|(?P<fah>℉))"
            rf"(?![\w])")
        self._percent = re.compile(rf"{quantity}{SPACE}%")
        self._percent_noun = Noun(lex.percent, lex.percent)
        units = sorted(lex.units, key=len, reverse=True)
        unit = rf"(?:{'|'.join(re.escape(u) for u in units)})[²³]?"
        self._unit = re.compile(
            rf"{quantity}{SPACE}(?P<unit>{unit}(?:/{unit})?)(?![\w²³/])")

    def temperatures(self, text: str) -> str:
        return self._temperature.sub(self._speak_temperature, text)

    def percent(self, text: str) -> str:
        return self._percent.sub(lambda m: self._quantity(m, self._percent_noun), text)

    def units(self, text: str) -> str:
        return self._unit.sub(self._speak_unit, text)

    def _words(self, match: re.Match[str], group: str = "num", gender: str = "",
               noun: Noun | None = None) -> str:
        sign = match.groupdict().get("sign" if group == "num" else "sign2")
        number = parse(match.group(group), self.lex, negative=bool(sign))
        if noun is not None:
            return self.say.count(number, noun)
        return self.say.number(number, gender, before_noun=bool(gender))

    def _quantity(self, match: re.Match[str], noun: Noun, after: str = "") -> str:
        """``3-5 km`` -> ``three to five kilometers``; ``-1 °C`` -> ``minus one degree``."""
        if match.group("num2"):
            first = self._words(match, "num", noun.gender)
            return f"{first} {self.lex.to} {self._words(match, 'num2', noun=noun)}{after}"
        return f"{self._words(match, noun=noun)}{after}"

    def _speak_temperature(self, match: re.Match[str]) -> str:
        scale = match["scale"] or ("C" if match["cel"] else "F" if match["fah"] else "")
        if not scale and match["deg"] and match["deg"] in self.lex.ordinal_indicators:
            return match.group(0)  # 1º: an ordinal indicator, not a degree sign
        name = {"C": self.lex.celsius, "F": self.lex.fahrenheit}.get(scale, "")
        return self._quantity(match, self.lex.degree, f" {name}" if name else "")

    def _speak_unit(self, match: re.Match[str]) -> str:
        first, _, second = match["unit"].partition("/")
        if match["unit"] in self.lex.units:
            noun = self.lex.units[match["unit"]]
        else:
            noun = self._unit_noun(first)
            if second:
                noun = noun.compound(after=f" {self.lex.per} {self._unit_noun(second).singular}")
        return self._quantity(match, noun)

    def _unit_noun(self, symbol: str) -> Noun:
        power = symbol[-1] if symbol[-1] in "²³" else ""
        noun = self.lex.units[symbol.rstrip("²³")]
        if not power:
            return noun
        before, singular, plural = self.lex.square if power == "²" else self.lex.cubic
        return Noun(f"{before}{noun.singular}{singular}", f"{before}{noun.plural}{plural}",
                    noun.gender)
