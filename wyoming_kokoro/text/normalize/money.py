"""Money: "$5.30" -> "five dollars and thirty cents", "5,30 €", "R$ 10", "300 USD", "$5-10",
"$5.3 billion" / "$5M" -> "five point three billion dollars", "1 000 000 €" -> "un million
d'euros"."""

from __future__ import annotations

import re

from .lexicon import CURRENCY_CODES, Currency, Lexicon
from .number_words import DASH, SIGN, SPACE, Number, Speaker, number_pattern, parse


class Money:
    def __init__(self, lex: Lexicon, say: Speaker) -> None:
        self.lex = lex
        self.say = say
        num = number_pattern(lex)
        symbols = sorted([*lex.currencies, *CURRENCY_CODES], key=len, reverse=True)
        sym = "|".join(rf"(?<![A-Za-z]){re.escape(s)}" if s[0].isalpha() else re.escape(s)
                       for s in symbols)
        words = "|".join(re.escape(w) for w in lex.magnitude_words)
        suffixes = "|".join(re.escape(s) for s in sorted(lex.magnitudes, key=len, reverse=True))
        mag = rf"(?:{SPACE}(?P<mag>(?i:{words})|{suffixes})(?![\w]))?"
        self._before = re.compile(
            rf"{SIGN}(?P<sym>{sym}){SPACE}(?P<num>{num})(?:{DASH}(?:{sym})?{SPACE}"
            rf"(?P<num2>{num}))?{mag}(?![\w])")
        self._after = re.compile(
            rf"{SIGN}(?<![\w.,])(?P<num>{num})(?:{DASH}(?P<num2>{num}))?{mag}{SPACE}"
            rf"(?P<sym>{sym})(?![A-Za-z])")

    def currency(self, text: str) -> str:
        text = self._before.sub(self._speak_money, text)
        return self._after.sub(self._speak_money, text)

    def _speak_money(self, match: re.Match[str]) -> str:
        symbol = match["sym"]
        currency = self.lex.currencies[CURRENCY_CODES.get(symbol, symbol)]
        say, lex = self.say, self.lex
        number = parse(match["num"], lex, negative=bool(match["sign"]))
        main = currency.main
        if mag := match["mag"]:
            last = parse(match["num2"], lex) if match["num2"] else number
            noun = lex.magnitudes.get(mag)
            amount = say.count(last, noun) if noun else \
                f"{say.number(last, 'm', before_noun=True)} {mag.lower()}"
            if match["num2"]:
                amount = f"{say.number(number)} {lex.to} {amount}"
            return say.of(amount, main.plural)
        if match["num2"]:
            second = parse(match["num2"], lex)
            return (f"{say.number(number, main.gender, before_noun=True)} {lex.to} "
                    f"{self._amount(second, currency)}")
        return self._amount(number, currency)

    def _amount(self, number: Number, currency: Currency) -> str:
        say, lex = self.say, self.lex
        cents_noun = currency.cents
        if cents_noun is None or not 1 <= len(number.fraction) <= 2:
            return say.count(number, currency.main)
        whole = Number(False, number.integer or "0")
        cents = Number(False, str(int(number.fraction.ljust(2, "0"))))
        parts = []
        if int(whole.integer) or not int(cents.integer):
            parts.append(say.count(whole, currency.main))
        if int(cents.integer):
            parts.append(say.count(cents, cents_noun))
        words = f" {lex.cents_and} ".join(parts)
        return f"{lex.minus} {words}" if number.negative else words
