"""The language-specific normalization rules: each turns one kind of written token into words.

A :class:`Rules` holds every pattern for one language, compiled once; each public method is one
rule (the names are the switches in :class:`~wyoming_kokoro.text.normalize.NormalizeOptions`)
and maps text to text. Rules run in the order of :data:`ORDER`: tokens that contain numbers in a
specific shape (dates, times, money, measurements) before bare numbers.
"""

from __future__ import annotations

import re
from functools import cache

from .lexicon import CURRENCY_CODES, LEXICONS, Lexicon, Noun
from .numbers import NBSP, Number, Speaker, number_pattern, parse

ORDER = ("urls", "abbreviations", "symbols", "dates", "times", "currency", "temperatures",
         "percent", "decades", "units", "ordinals", "years", "ranges", "numbers")
"""Rule methods in the order they run; ``decades`` is switched by the ``years`` option."""

_S = rf"[ {NBSP}]?"  # an optional space between a number and its symbol
_SIGN = r"(?:(?<![^\s(\[~])(?P<sign>[-−]))?"  # a minus only at the start of a token
_DASH = r"\s?[-–]\s?"
_END = r"(?![\w])"

_TLDS = "com|org|net|io|dev|app|ai|gov|edu|info|uk|de|fr|eu|nl|br|ch|tv"
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_EMAIL = re.compile(r"(?:mailto:)?(?<![\w.+-])(?P<local>[\w.+-]+)@(?P<host>[\w-]+(?:\.[\w-]+)+)")
_DOMAIN = re.compile(
    rf"(?<![\w@./-])(?P<host>(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:{_TLDS}))"
    r"(?P<path>/[^\s]*)?(?![\w-])")
_PATH_WORD = re.compile(r"[A-Za-z][A-Za-z_-]{0,19}")
_TRAILING = ".,;:!?)]}'\""

_FRACTIONS = {
    "en": ("one half", "one quarter", "three quarters"),
    "fr": ("un demi", "un quart", "trois quarts"),
    "es": ("un medio", "un cuarto", "tres cuartos"),
    "it": ("un mezzo", "un quarto", "tre quarti"),
    "pt_BR": ("um meio", "um quarto", "três quartos"),
}
_PHONE = re.compile(
    r"(?<![\w.,+-])(?:\+\d{1,3}(?:[ .-]\(?\d{1,4}\)?){2,5}|\(\d{3}\)\s?\d{3}-\d{4}"
    r"|\d{3}[-.]\d{3}[-.]\d{4}|\d{3}-\d{4})(?![\w-]|[.,]\d)")
_EN_DENOMINATORS = {2: ("half", "halves"), 4: ("quarter", "quarters")}


class Rules:
    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self.say = Speaker(lex)
        self.english = lex.num2words == "en"
        num = number_pattern(lex)
        self.num = num

        # symbols
        self._ampersand = re.compile(r"\s*&\s*")
        self._about = re.compile(r"[~≈]\s?(?=[-−]?(?:[$€£¥₹]\s?)?\d)")
        self._number_sign = re.compile(
            r"(?:(?<![\w&#])#|(?<!\w)(?:No|Nr|nr|núm|Núm|[Nn])\.|(?<!\w)[Nn]\.?[º°])\s?(?=\d)")
        self._plus = re.compile(r"(?<=\d)\s?\+\s?(?=\d)")

        # abbreviations: lower-case keys also match capitalized ("E.g."); titles need a name
        keys = {}
        for key, expansion in lex.abbreviations.items():
            keys[key] = expansion
            if key[0].islower():
                keys[key[0].upper() + key[1:]] = expansion[0].upper() + expansion[1:]
        self._abbreviation_words = keys
        alternatives = []
        for key in sorted(keys, key=len, reverse=True):
            tail = r"(?=\s+[A-ZÀ-Ý])" if re.fullmatch(r"M{1,2}\.", key) else (
                r"(?![\w])" if key[-1].isalnum() or key[-1] == "." else "")
            alternatives.append(re.escape(key) + tail)
        self._abbreviations = re.compile(rf"(?<![\w.])(?:{'|'.join(alternatives)})")
        self._final = frozenset(lex.sentence_final) | {
            k[0].upper() + k[1:] for k in lex.sentence_final}

        # dates
        months = {name: i + 1 for i, name in enumerate(lex.months)}
        month_alts = [re.escape(m) for m in sorted(months, key=len, reverse=True)]
        month_alts += [re.escape(a) + r"\.?" for a in sorted(lex.month_aliases, key=len,
                                                               reverse=True)]
        self._month_numbers = {k.lower(): v for k, v in {**months,
                                                          **lex.month_aliases}.items()}
        flags = 0 if lex.months_case_sensitive else re.IGNORECASE
        month = rf"(?P<month>{'|'.join(month_alts)})(?![\w])"
        self._iso_date = re.compile(
            r"(?<![\d./-])(?P<y>\d{4})([-/])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?![\d/-]|\.\d)")
        self._numeric_date = re.compile(
            r"(?<![\d./-])(?P<a>\d{1,2})([/.])(?P<b>\d{1,2})\2(?P<y>\d{4}|\d{2})"
            r"(?![\d/]|\.\d)")
        suffix = r"(?:st|nd|rd|th)?" if self.english else r"(?:er|re|\.?º|°)?"
        day = rf"(?P<day>\d{{1,2}}){suffix}(?![\w:]|[.,]\d)"
        year = r"(?P<year>\d{4})(?![\d])"
        if self.english:
            self._month_first = re.compile(
                rf"(?<![\w]){month}\s+{day}(?:{_DASH}(?P<day2>\d{{1,2}}){suffix}(?![\w:]))?"
                rf"(?:,?\s+{year})?", flags)
            self._day_first = re.compile(
                rf"(?:(?P<the>\b[Tt]he)\s+)?(?<![\w.,]){day}(?:\s+of)?\s+{month}"
                rf"(?:,?\s+{year})?", flags)
        else:
            self._month_first = None
            self._day_first = re.compile(
                rf"(?<![\w.,]){day}\s+(?:de\s+)?{month}(?:\s+(?:de\s+)?{year})?", flags)
        self._month_year = re.compile(rf"(?<![\w]){month}\s+{year}", flags)

        # times
        ampm = r"(?:\s?(?P<ampm{0}>[aApP]\.?[mM]\.?)(?![\w]))?"
        clock = (r"(?<![\d:.,])(?P<h{0}>\d{{1,2}}):(?P<m{0}>\d{{2}})(?::(?P<s{0}>\d{{2}}))?"
                 r"(?![\d:])" + ampm)
        self._clock = re.compile(clock.format("") + rf"(?:{_DASH}{clock.format('2')})?")
        self._hour_ampm = re.compile(
            r"(?<![\d:.,])(?P<h>\d{1,2})\s?(?P<ampm>[aApP]\.?[mM]\.?)(?![\w])")
        self._h_clock = None if self.english else re.compile(
            r"(?<![\w.,])(?P<h>\d{1,2})h(?P<m>\d{2})(?![\w])")

        # money
        symbols = sorted([*lex.currencies, *CURRENCY_CODES], key=len, reverse=True)
        sym = "|".join(rf"(?<![A-Za-z]){re.escape(s)}" if s[0].isalpha() else re.escape(s)
                       for s in symbols)
        words = "|".join(re.escape(w) for w in lex.magnitude_words)
        suffixes = "|".join(re.escape(s) for s in sorted(lex.magnitudes, key=len, reverse=True))
        mag = rf"(?:{_S}(?P<mag>(?i:{words})|{suffixes})(?![\w]))?"
        self._money_before = re.compile(
            rf"{_SIGN}(?P<sym>{sym}){_S}(?P<num>{num})(?:{_DASH}(?:{sym})?{_S}(?P<num2>{num}))?"
            rf"{mag}(?![\w])")
        self._money_after = re.compile(
            rf"{_SIGN}(?<![\w.,])(?P<num>{num})(?:{_DASH}(?P<num2>{num}))?{mag}{_S}"
            rf"(?P<sym>{sym})(?![A-Za-z])")

        # measurements
        quantity = (rf"{_SIGN}(?<![\w.,])(?P<num>{num})"
                    rf"(?:{_DASH}(?P<sign2>[-−])?(?P<num2>{num}))?")
        self._temperature = re.compile(
            rf"{quantity}{_S}(?:(?P<deg>[°º]){_S}(?P<scale>[CF])?|(?P<cel>℃)|(?P<fah>℉))"
            rf"(?![\w])")
        self._percent = re.compile(rf"{quantity}{_S}%")
        units = sorted(lex.units, key=len, reverse=True)
        unit = rf"(?:{'|'.join(re.escape(u) for u in units)})[²³]?"
        self._unit = re.compile(
            rf"{quantity}{_S}(?P<unit>{unit}(?:/{unit})?)(?![\w²³/])")

        # numbers
        if self.english:
            self._ordinal = re.compile(r"(?<![\w.,])(?P<n>\d+)(?P<suffix>st|nd|rd|th)(?![\w])")
        elif lex.num2words == "fr":
            self._ordinal = re.compile(
                r"(?<![\w.,])(?P<n>\d+)(?P<suffix>ères?|res?|ers?|èmes?|emes?|e|nde?)(?![\w])")
        else:
            self._ordinal = re.compile(
                r"(?<![\w.,])(?P<n>\d+)\.?(?P<suffix>[ºª]|(?:er|ro|do|to|vo|mo|no|ra|da|ta|va"
                r"|ma|na)(?=\s))")
        self._decade = re.compile(
            r"(?<![\w'’])(?P<y>\d{3}0)s(?![\w])|[’'](?P<d>\d0)s(?![\w])|(?<=[Tt]he\s)"
            r"(?P<t>\d0)s(?![\w])")
        year_words = "|".join(lex.year_words) or "(?!)"
        self._year_context = re.compile(
            rf"(?<![\w])(?P<w>(?i:{year_words}))\s+(?P<y>\d{{4}})"
            rf"(?:{_DASH}(?P<y2>\d{{4}}|\d{{2}}))?(?![\w]|[.,]\d)")
        self._year_range = re.compile(
            r"(?<![\w.,-])(?P<y>1[1-9]\d\d|20\d\d)\s?[-–]\s?(?P<y2>1[1-9]\d\d|20\d\d)"
            r"(?![\w-]|[.,]\d)")
        self._range = re.compile(
            rf"(?<![\w.,])(?<!\d[-–])(?P<n1>{num}){_DASH}(?P<n2>{num})(?![\w-]|[.,/]\d)")
        self._fraction = re.compile(r"(?<![\w.,/])(?P<a>\d{1,3})/(?P<b>\d{1,3})(?![\w/]|[.,]\d)")
        self._vulgar = re.compile("[½¼¾]")
        decimals = re.escape(lex.decimal_separators)
        self._number = re.compile(
            rf"(?:(?<![^\s(\[~])(?P<sign>[-−+]))?(?<![\w.])(?P<num>{num})"
            rf"(?![\w]|[{decimals}]\d)")
        self._comma_word = re.compile(r",(?=[^\W\d_])")
        self._next_word = re.compile(r"[ \u00a0]+([^\W\d_]+)")
        self._genders = lex.genders()

    # ----------------------------------------------------------------------------------------
    # helpers

    def _n(self, text: str, sign: str | None = None) -> Number:
        return parse(text, self.lex, negative=bool(sign))

    def _words(self, match: re.Match[str], group: str = "num", gender: str = "",
               noun: Noun | None = None) -> str:
        number = self._n(match.group(group), match.groupdict().get(
            "sign" if group == "num" else "sign2"))
        if noun is not None:
            return self.say.count(number, noun)
        return self.say.number(number, gender, before_noun=bool(gender))

    def _quantity(self, match: re.Match[str], noun: Noun, after: str = "") -> str:
        """``3-5 km`` -> ``three to five kilometers``; ``-1 °C`` -> ``minus one degree``."""
        if match.group("num2"):
            first = self._words(match, "num", noun.gender)
            return f"{first} {self.lex.to} {self._words(match, 'num2', noun=noun)}{after}"
        return f"{self._words(match, noun=noun)}{after}"

    # ----------------------------------------------------------------------------------------
    # rules

    def urls(self, text: str) -> str:
        text = _URL.sub(self._speak_url, text)
        text = _EMAIL.sub(self._speak_email, text)
        return _DOMAIN.sub(self._speak_url, text)

    def _speak_url(self, match: re.Match[str]) -> str:
        url = match.group(0)
        stripped = url.rstrip(_TRAILING)
        trail = url[len(stripped):]
        address = re.sub(r"^(?:https?://)?(?:www\.)?", "", stripped, flags=re.IGNORECASE)
        host, _, path = address.partition("/")
        host = host.split("@")[-1].split(":")[0]
        words = [self._host(host)]
        segments = [s for s in re.split(r"[?#]", path, maxsplit=1)[0].split("/") if s]
        if 0 < len(segments) <= 2 and all(_PATH_WORD.fullmatch(s) for s in segments):
            words += [f"{self.lex.slash} {re.sub(r'[-_]', ' ', s)}" for s in segments]
        return " ".join(words) + trail

    def _host(self, host: str) -> str:
        labels = [label.replace("-", " ") for label in host.split(".") if label]
        return f" {self.lex.dot} ".join(labels)

    def _speak_email(self, match: re.Match[str]) -> str:
        local = re.sub(r"\.", f" {self.lex.dot} ", match.group("local"))
        local = re.sub(r"[_-]", " ", local).replace("+", f" {self.lex.plus} ")
        host = match.group("host")
        stripped = host.rstrip(_TRAILING)
        return f"{local} {self.lex.at} {self._host(stripped)}{host[len(stripped):]}"

    def abbreviations(self, text: str) -> str:
        return self._abbreviations.sub(self._expand, text)

    def _expand(self, match: re.Match[str]) -> str:
        key = match.group(0)
        words = self._abbreviation_words[key]
        if key.endswith("."):
            rest = match.string[match.end():]
            if not rest.strip() or (key in self._final and re.match(r"\s+[A-ZÀ-Ý]", rest)):
                words += "."  # the abbreviation's period also ended the sentence
        return words

    def symbols(self, text: str) -> str:
        text = self._ampersand.sub(f" {self.lex.and_} ", text)
        text = self._about.sub(f"{self.lex.about} ", text)
        text = self._number_sign.sub(f"{self.lex.number} ", text)
        return self._plus.sub(f" {self.lex.plus} ", text)

    def dates(self, text: str) -> str:
        text = self._iso_date.sub(self._speak_iso_date, text)
        text = self._numeric_date.sub(self._speak_numeric_date, text)
        if self._month_first is not None:
            text = self._month_first.sub(self._speak_month_first, text)
        text = self._day_first.sub(self._speak_day_first, text)
        return self._month_year.sub(
            lambda m: f"{self._month_name(m.group('month'))} {self.say.year(int(m['year']))}",
            text)

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

    def date_words(self, day: int, month: int, year: int | None, the: str = "",
                   day2: int | None = None) -> str | None:
        """A date as spoken, or None if it is no date (month 13)."""
        if not (1 <= month <= 12 and 1 <= day <= 31 and (day2 is None or 1 <= day2 <= 31)):
            return None
        name = self.lex.months[month - 1]
        code = self.lex.num2words
        spoken_year = self.say.year(year) if year is not None else ""
        if self.english:
            ordinal = self.say.ordinal(day)
            if day2 is not None:
                ordinal += f" {self.lex.to} {self.say.ordinal(day2)}"
            if self.lex.date_order == "mdy" and not the:
                return f"{name} {ordinal}" + (f", {spoken_year}" if year is not None else "")
            return f"{the or 'the'} {ordinal} of {name}" + (f", {spoken_year}"
                                                            if year is not None else "")
        if day == 1 and code in ("fr", "it", "pt_BR"):
            spoken_day = self.say.ordinal(1)
        else:
            spoken_day = self.say.cardinal(day)
        if code in ("es", "pt_BR"):
            return f"{spoken_day} de {name}" + (f" de {spoken_year}" if year is not None else "")
        return f"{spoken_day} {name}" + (f" {spoken_year}" if year is not None else "")

    def _month_name(self, written: str) -> str:
        return self.lex.months[self._month_numbers[written.rstrip(".").lower()] - 1]

    def _speak_month_first(self, match: re.Match[str]) -> str:
        month = self._month_numbers[match["month"].rstrip(".").lower()]
        year = int(match["year"]) if match["year"] else None
        day2 = int(match["day2"]) if match["day2"] else None
        return self.date_words(int(match["day"]), month, year, day2=day2) or match.group(0)

    def _speak_day_first(self, match: re.Match[str]) -> str:
        month = self._month_numbers[match["month"].rstrip(".").lower()]
        year = int(match["year"]) if match["year"] else None
        the = match.groupdict().get("the") or ("the" if self.english else "")
        return self.date_words(int(match["day"]), month, year, the=the) or match.group(0)

    def times(self, text: str) -> str:
        text = self._clock.sub(self._speak_clock, text)
        if self._h_clock is not None:
            text = self._h_clock.sub(self._speak_clock, text)
        return self._hour_ampm.sub(self._speak_clock, text)

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
        if self.english:
            words = say.cardinal(h)
            if m:
                words += f" oh {say.cardinal(m)}" if m < 10 else f" {say.cardinal(m)}"
            elif not ampm:
                words += " o'clock" if 1 <= h <= 12 and not h_text.startswith("0") else \
                    " hundred"
        elif lex.num2words == "fr":
            words = say.count(Number(False, str(h)), lex.hour)
            if m:
                words += f" {say.cardinal(m)}"
        else:
            words = say.cardinal(h, gender=lex.hour.gender)
            if m:
                words += f" {lex.time_joiner} {say.cardinal(m)}"
            elif lex.num2words == "es" and not ampm:
                words += " en punto"
            elif lex.num2words == "pt_BR" and not ampm:
                words += f" {say.noun(Number(False, str(h)), lex.hour)}"
        if s_text:
            seconds = say.count(Number(False, str(int(s_text))), lex.second)
            words += f" {lex.and_} {seconds}"
        return f"{words} {period}" if period else words

    def currency(self, text: str) -> str:
        text = self._money_before.sub(self._speak_money, text)
        return self._money_after.sub(self._speak_money, text)

    def _speak_money(self, match: re.Match[str]) -> str:
        symbol = match["sym"]
        currency = self.lex.currencies[CURRENCY_CODES.get(symbol, symbol)]
        say, lex = self.say, self.lex
        number = self._n(match["num"], match["sign"])
        main = currency.main
        if mag := match["mag"]:
            last = self._n(match["num2"]) if match["num2"] else number
            noun = lex.magnitudes.get(mag)
            amount = say.count(last, noun) if noun else \
                f"{say.number(last, 'm', before_noun=True)} {mag.lower()}"
            if match["num2"]:
                amount = f"{say.number(number)} {lex.to} {amount}"
            return say.of(amount, main.plural)
        if match["num2"]:
            second = self._n(match["num2"])
            return (f"{say.number(number, main.gender, before_noun=True)} {lex.to} "
                    f"{self._amount(second, currency)}")
        return self._amount(number, currency)

    def _amount(self, number: Number, currency) -> str:
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

    def temperatures(self, text: str) -> str:
        return self._temperature.sub(self._speak_temperature, text)

    def _speak_temperature(self, match: re.Match[str]) -> str:
        scale = match["scale"] or ("C" if match["cel"] else "F" if match["fah"] else "")
        if match["deg"] == "º" and not scale and not self.english and self.lex.code != "fr":
            return match.group(0)  # 1º: an ordinal indicator, not a degree sign
        name = {"C": self.lex.celsius, "F": self.lex.fahrenheit}.get(scale, "")
        return self._quantity(match, self.lex.degree, f" {name}" if name else "")

    def percent(self, text: str) -> str:
        return self._percent.sub(
            lambda m: self._quantity(m, Noun(self.lex.percent, self.lex.percent)), text)

    def decades(self, text: str) -> str:
        if not self.english:
            return text
        return self._decade.sub(self._speak_decade, text)

    def _speak_decade(self, match: re.Match[str]) -> str:
        if match["y"]:
            words = self.say.year(int(match["y"]))
        else:
            words = self.say.cardinal(int(match["d"] or match["t"]))
        return re.sub(r"y$", "ie", words) + "s"

    def units(self, text: str) -> str:
        return self._unit.sub(self._speak_unit, text)

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

    def ordinals(self, text: str) -> str:
        return self._ordinal.sub(self._speak_ordinal, text)

    def _speak_ordinal(self, match: re.Match[str]) -> str:
        n, suffix = int(match["n"]), match["suffix"]
        feminine = suffix in ("ª", "re", "res", "ère", "ères", "nde") or (
            len(suffix) == 2 and suffix.endswith("a"))
        words = self.say.ordinal(n, "f" if feminine else "m")
        if self.lex.num2words == "es" and suffix == "er":
            words = re.sub(r"o$", "", words)  # primer, tercer
        if self.lex.num2words == "fr" and suffix.endswith("s") and not words.endswith("s"):
            words += "s"
        return words

    def years(self, text: str) -> str:
        if not self.english:
            return text
        text = self._year_context.sub(self._speak_year_context, text)
        return self._year_range.sub(self._speak_year_range, text)

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

    def ranges(self, text: str) -> str:
        return self._range.sub(self._speak_range, text)

    def _speak_range(self, match: re.Match[str]) -> str:
        n1, n2 = match["n1"], match["n2"]
        if len(n1) == 3 and len(n2) == 4 and n1.isdigit() and n2.isdigit():
            return match.group(0)  # 555-1234: a phone number, not a range
        first = self.say.number(self._n(n1))
        return f"{first} {self.lex.to} {self.say.number(self._n(n2))}"

    def numbers(self, text: str) -> str:
        text = _PHONE.sub(self._speak_phone, text)
        text = self._fraction.sub(self._speak_fraction, text)
        text = self._vulgar.sub(lambda m: _FRACTIONS[self.lex.num2words]["½¼¾".index(
            m.group(0))], text)
        text = self._number.sub(self._speak_number, text)
        return self._comma_word.sub(", ", text)

    def _speak_fraction(self, match: re.Match[str]) -> str:
        a, b = int(match["a"]), int(match["b"])
        if b == 0:
            return match.group(0)
        if a == 24 and b == 7:
            return f"{self.say.cardinal(24)} {self.say.cardinal(7)}"
        if self.english and 2 <= b <= 10 and a < b:
            singular, plural = _EN_DENOMINATORS.get(b) or (self.say.ordinal(b),
                                                          self.say.ordinal(b) + "s")
            return f"{self.say.cardinal(a)} {singular if a == 1 else plural}"
        return f"{self.say.cardinal(a)} {self.lex.over} {self.say.cardinal(b)}"

    def _speak_phone(self, match: re.Match[str]) -> str:
        groups = re.findall(r"\d+", match.group(0))
        words = ", ".join(self.say.digits(g) for g in groups)
        return f"{self.lex.plus} {words}" if match.group(0).startswith("+") else words

    def _speak_number(self, match: re.Match[str]) -> str:
        sign = match["sign"]
        number = self._n(match["num"], sign if sign != "+" else None)
        following = self._next_word.match(match.string, match.end())
        gender = self._genders.get(following.group(1).lower()) if following else None
        if gender:  # "1 heure" -> "une heure", "21 días" -> "veintiún días"
            words = self.say.number(number, gender, before_noun=True)
        else:
            words = self.say.number(number)
        return f"{self.lex.plus} {words}" if sign == "+" else words



@cache
def rules_for(language: str) -> Rules | None:
    """The rules for one of our language codes, or None where only neutral rules apply."""
    lex = LEXICONS.get(language)
    return Rules(lex) if lex is not None else None
