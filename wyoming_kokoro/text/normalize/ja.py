"""Japanese: the phonemizer (pyopenjtalk) reads digits and counters itself, so these rules keep
the digits and only give the symbols around them their Japanese words.

Without them "22.5°C" is read "22 5", "$5" is read "5", and "7:30" is read "7 30". The registry
lists which of these rules Japanese has (dates, times, currency, temperatures, percent, ranges,
numbers); it has no others.
"""

from __future__ import annotations

import re

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_CURRENCY = {"$": "ドル", "US$": "ドル", "USD": "ドル", "€": "ユーロ", "EUR": "ユーロ",
             "£": "ポンド", "GBP": "ポンド", "¥": "円", "JPY": "円", "₹": "ルピー", "INR": "ルピー",
             "R$": "レアル", "BRL": "レアル", "CHF": "スイスフラン"}
_SYMBOLS = "|".join(re.escape(s) for s in sorted(_CURRENCY, key=len, reverse=True))


class JapaneseRules:
    """Japanese words for the symbols around digits; each method is one rule."""

    _iso_date = re.compile(r"(?<!\d)(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?!\d)")
    _clock = re.compile(r"(?<![\d:.])(\d{1,2}):(\d{2})(?::(\d{2}))?(?!\d)"
                        r"(?:\s?([aApP])\.?[mM]\.?(?![A-Za-z]))?")
    _money_before = re.compile(rf"(?P<sym>{_SYMBOLS})\s?(?P<num>{_NUM})")
    _money_after = re.compile(rf"(?P<num>{_NUM})\s?(?P<sym>{_SYMBOLS})(?![A-Za-z])")
    _temperature = re.compile(rf"(?P<num>-?{_NUM})\s?(?:[°º]\s?(?P<scale>[CF])?|(?P<c>℃)|"
                              rf"(?P<f>℉))(?![A-Za-z])")
    _percent = re.compile(rf"({_NUM})\s?[%％]")
    _range = re.compile(rf"(?<![\d.,:-])({_NUM})\s?[-–~〜]\s?({_NUM})(?![\d:-])")
    _grouping = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
    _negative = re.compile(r"(?<![\dA-Za-z.])[-−](?=\d)")
    _decimal = re.compile(r"(?<=\d)\.(?=\d)")

    def dates(self, text: str) -> str:
        return self._iso_date.sub(
            lambda m: f"{m[1]}年{int(m[2])}月{int(m[3])}日"
            if 1 <= int(m[2]) <= 12 and 1 <= int(m[3]) <= 31 else m[0], text)

    def times(self, text: str) -> str:
        return self._clock.sub(self._speak_clock, text)

    @staticmethod
    def _speak_clock(match: re.Match[str]) -> str:
        h, m, s, ampm = int(match[1]), int(match[2]), match[3], match[4]
        if h > 24 or m > 59 or (s and int(s) > 59):
            return match[0]
        words = f"{h}時" + (f"{m}分" if m else "") + (f"{int(s)}秒" if s else "")
        if ampm:
            words = ("午前" if ampm.lower() == "a" else "午後") + words
        return words

    def currency(self, text: str) -> str:
        text = self._money_before.sub(self._speak_money, text)
        return self._money_after.sub(self._speak_money, text)

    @staticmethod
    def _speak_money(match: re.Match[str]) -> str:
        unit = _CURRENCY[match["sym"]]
        whole, _, cents = match["num"].partition(".")
        if unit in ("ドル", "ユーロ") and len(cents) == 2:  # $5.30: 5ドル30セント
            return f"{whole}{unit}" + (f"{int(cents)}セント" if int(cents) else "")
        return match["num"] + unit

    def temperatures(self, text: str) -> str:
        def speak(m: re.Match[str]) -> str:
            fahrenheit = (m["scale"] == "F" or m["f"]) and \
                m.string[max(0, m.start() - 2):m.start()] != "華氏"
            return f"華氏{m['num']}度" if fahrenheit else f"{m['num']}度"

        return self._temperature.sub(speak, text)

    def percent(self, text: str) -> str:
        return self._percent.sub(r"\1パーセント", text)

    def ranges(self, text: str) -> str:
        return self._range.sub(r"\1から\2", text)

    def numbers(self, text: str) -> str:
        text = self._grouping.sub("", text)
        text = self._negative.sub("マイナス", text)
        return self._decimal.sub("点", text)
