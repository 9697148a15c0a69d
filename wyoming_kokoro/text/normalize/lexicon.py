"""Per-language words the normalizer needs: units, currencies, months, abbreviations, connectors.

Number words themselves come from num2words (see number_words.py); this module holds only the
words around them, and the small differences in how each language writes and reads dates, times,
ordinals and fractions, as data the rules read. Which rules a language gets at all is stated in
registry.py: a language without a lexicon (hi, ja, zh) gets no number-reading rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Noun:
    """A counted word: ``one kilometer``, ``two kilometers``; gender drives number agreement."""

    singular: str
    plural: str
    gender: str = "m"  # m | f

    def compound(self, after: str = "", before: str = "") -> Noun:
        """``kilometer`` -> ``kilometer per hour`` (after) or ``square kilometer`` (before)."""
        return Noun(f"{before}{self.singular}{after}", f"{before}{self.plural}{after}", self.gender)


@dataclass(frozen=True)
class Currency:
    main: Noun
    cents: Noun | None = None


@dataclass(frozen=True)
class Lexicon:
    code: str  # our language code
    num2words: str  # num2words' language code
    decimal_word: dict[str, str]  # written decimal separator -> spoken word
    digits_after_point: bool  # 3.14: "three point one four", not "trois virgule quatorze"
    group_separators: str  # thousands separators besides the non-breaking spaces
    decimal_separators: str
    plural_from_two: bool  # French: "1,5 kilomètre" (singular below two)
    minus: str
    plus: str
    to: str  # ranges: 1-2
    per: str  # km/h
    over: str  # fractions: 3/7
    and_: str  # the & sign
    cents_and: str  # "five dollars AND thirty cents"
    of: str  # "un million DE dollars"; "" in English
    about: str  # ~5
    number: str  # No. 5 / n° 5
    percent: str
    degree: Noun
    celsius: str
    fahrenheit: str
    dot: str
    at: str
    slash: str
    months: tuple[str, ...]
    month_aliases: dict[str, int]  # abbreviations (without the dot) -> month number
    months_case_sensitive: bool
    date_order: str  # numeric dates: dmy | mdy
    hour: Noun
    minute: Noun
    second: Noun
    time_joiner: str  # "sept heures trente": {h} {joiner} {m}
    am: str
    pm: str  # afternoon
    evening: str  # p.m. from six (or eight) o'clock
    evening_from: int
    magnitudes: dict[str, Noun]  # suffixes after amounts: $5M, 3k
    magnitude_words: tuple[str, ...]  # written magnitudes after amounts: "$5.3 billion"
    currencies: dict[str, Currency]
    units: dict[str, Noun]
    square: tuple[str, str, str]  # (before, singular after, plural after)
    cubic: tuple[str, str, str]
    abbreviations: dict[str, str]
    day_suffix: str  # regex: what may follow a day number in a date ("15th", "1er", "1º")
    ordinal_pattern: str  # regex with groups n and suffix: one written ordinal ("21st", "2e")
    vulgar_fractions: tuple[str, str, str]  # ½ ¼ ¾
    sentence_final: frozenset[str] = frozenset()  # abbreviations that may end a sentence: etc.
    year_words: tuple[str, ...] = ()  # English: "in 1999" reads as a year
    nouns: str = ""  # common nouns after numbers, "word:gender ...": "1 heure" -> "une heure"
    # dates: "1 mars" is read "premier mars"; the word between day, month and year ("de")
    first_day_ordinal: bool = False
    date_of: str = ""
    # times: where the hour is followed by its noun ("always": sept heures trente; "full": on
    # the full hour only, duas horas; "": never), and what follows a full hour ("en punto")
    hour_noun: str = ""
    full_hour: str = ""
    # ordinals: after this suffix the ordinal drops its final o (es 1er -> primer); a suffix
    # ending in s makes the ordinal plural (fr 1ers -> premiers)
    ordinal_apocope: str = ""
    ordinal_plurals: bool = False
    ordinal_indicators: str = ""  # signs that after a bare number are ordinals, not degrees: 1º
    # fractions: 3/8 -> "three eighths" (proper fractions up to tenths) instead of "3 over 8";
    # the denominators with names of their own, (singular, plural): half, quarter
    ordinal_fractions: bool = False
    denominators: dict[int, tuple[str, str]] = field(default_factory=dict)

    def genders(self) -> dict[str, str]:
        """Gender of every noun this lexicon counts, by lower-case word form."""
        nouns = [self.degree, self.hour, self.minute, self.second, *self.units.values()]
        for currency in self.currencies.values():
            nouns += [currency.main] + ([currency.cents] if currency.cents else [])
        found = {form.lower(): n.gender for n in nouns for form in (n.singular, n.plural)
                 if " " not in form}
        for item in self.nouns.split():
            word, _, gender = item.partition(":")
            found[word] = gender
        return found


# --------------------------------------------------------------------------------------------
# Units: a few base units, SI prefixes, and per-language exceptions.

_PREFIXES = {  # symbol -> word, per language
    "en": {"k": "kilo", "M": "mega", "G": "giga", "T": "tera", "m": "milli", "c": "centi",
           "d": "deci", "h": "hecto", "µ": "micro"},
    "fr": {"k": "kilo", "M": "méga", "G": "giga", "T": "téra", "m": "milli", "c": "centi",
           "d": "déci", "h": "hecto", "µ": "micro"},
    "es": {"k": "kilo", "M": "mega", "G": "giga", "T": "tera", "m": "mili", "c": "centi",
           "d": "deci", "h": "hecto", "µ": "micro"},
    "it": {"k": "chilo", "M": "mega", "G": "giga", "T": "tera", "m": "milli", "c": "centi",
           "d": "deci", "h": "etto", "µ": "micro"},
    "pt": {"k": "quilo", "M": "mega", "G": "giga", "T": "tera", "m": "mili", "c": "centi",
           "d": "deci", "h": "hecto", "µ": "micro"},
}

# base symbol -> the prefixes it is written with
_PREFIXED = {
    "m": "kcmµ", "g": "kmµ", "l": "mcd", "L": "mcd", "W": "kMG", "Wh": "kMG", "V": "km",
    "A": "m", "Hz": "kMG", "B": "kMGT", "Pa": "hk", "cal": "k", "s": "mµ",
}


def _n(singular: str, plural: str | None = None, gender: str = "m") -> Noun:
    return Noun(singular, plural if plural is not None else singular + "s", gender)


_BASE_UNITS: dict[str, dict[str, Noun]] = {
    "en": {
        "m": _n("meter"), "g": _n("gram"), "l": _n("liter"), "W": _n("watt"),
        "Wh": _n("watt-hour"), "V": _n("volt"), "A": _n("amp"), "Hz": _n("hertz", "hertz"),
        "B": _n("byte"), "Pa": _n("pascal"), "cal": _n("calorie"), "s": _n("second"),
        "bit": _n("bit"), "min": _n("minute"), "h": _n("hour"), "mph": _n("mile per hour",
                                                                          "miles per hour"),
        "mi": _n("mile"), "ft": _n("foot", "feet"), "lb": _n("pound"), "oz": _n("ounce"),
        "gal": _n("gallon"), "dB": _n("decibel"), "ppm": _n("part per million",
                                                              "parts per million"),
        "lx": _n("lux", "lux"), "lm": _n("lumen"),
    },
    "fr": {
        "m": _n("mètre"), "g": _n("gramme"), "l": _n("litre"), "W": _n("watt"),
        "Wh": _n("wattheure"), "V": _n("volt"), "A": _n("ampère"), "Hz": _n("hertz", "hertz"),
        "B": _n("octet"), "Pa": _n("pascal"), "cal": _n("calorie", gender="f"),
        "s": _n("seconde", gender="f"), "bit": _n("bit"), "min": _n("minute", gender="f"),
        "h": _n("heure", gender="f"), "mph": _n("mile par heure", "miles par heure"),
        "mi": _n("mile"), "ft": _n("pied"), "lb": _n("livre", gender="f"),
        "oz": _n("once", gender="f"), "gal": _n("gallon"), "dB": _n("décibel"),
        "ppm": _n("partie par million", "parties par million", "f"), "lx": _n("lux", "lux"),
        "lm": _n("lumen"),
    },
    "es": {
        "m": _n("metro"), "g": _n("gramo"), "l": _n("litro"), "W": _n("vatio"),
        "Wh": _n("vatio hora", "vatios hora"), "V": _n("voltio"), "A": _n("amperio"),
        "Hz": _n("hercio"), "B": _n("byte"), "Pa": _n("pascal", "pascales"),
        "cal": _n("caloría", gender="f"), "s": _n("segundo"), "bit": _n("bit"),
        "min": _n("minuto"), "h": _n("hora", gender="f"),
        "mph": _n("milla por hora", "millas por hora", "f"), "mi": _n("milla", gender="f"),
        "ft": _n("pie"), "lb": _n("libra", gender="f"), "oz": _n("onza", gender="f"),
        "gal": _n("galón", "galones"), "dB": _n("decibelio"),
        "ppm": _n("parte por millón", "partes por millón", "f"), "lx": _n("lux", "lux"),
        "lm": _n("lumen", "lúmenes"),
    },
    "it": {
        "m": _n("metro", "metri"), "g": _n("grammo", "grammi"), "l": _n("litro", "litri"),
        "W": _n("watt", "watt"), "Wh": _n("wattora", "wattora"), "V": _n("volt", "volt"),
        "A": _n("ampere", "ampere"), "Hz": _n("hertz", "hertz"), "B": _n("byte", "byte"),
        "Pa": _n("pascal", "pascal"), "cal": _n("caloria", "calorie", "f"),
        "s": _n("secondo", "secondi"), "bit": _n("bit", "bit"), "min": _n("minuto", "minuti"),
        "h": _n("ora", "ore", "f"), "mph": _n("miglio orario", "miglia orarie"),
        "mi": _n("miglio", "miglia"), "ft": _n("piede", "piedi"),
        "lb": _n("libbra", "libbre", "f"), "oz": _n("oncia", "once", "f"),
        "gal": _n("gallone", "galloni"), "dB": _n("decibel", "decibel"),
        "ppm": _n("parte per milione", "parti per milione", "f"), "lx": _n("lux", "lux"),
        "lm": _n("lumen", "lumen"),
    },
    "pt": {
        "m": _n("metro"), "g": _n("grama"), "l": _n("litro"), "W": _n("watt"),
        "Wh": _n("watt-hora", "watts-hora"), "V": _n("volt"), "A": _n("ampere"),
        "Hz": _n("hertz", "hertz"), "B": _n("byte"), "Pa": _n("pascal", "pascais"),
        "cal": _n("caloria", gender="f"), "s": _n("segundo"), "bit": _n("bit"),
        "min": _n("minuto"), "h": _n("hora", gender="f"),
        "mph": _n("milha por hora", "milhas por hora", "f"), "mi": _n("milha", gender="f"),
        "ft": _n("pé"), "lb": _n("libra", gender="f"), "oz": _n("onça", gender="f"),
        "gal": _n("galão", "galões"), "dB": _n("decibel", "decibéis"),
        "ppm": _n("parte por milhão", "partes por milhão", "f"), "lx": _n("lux", "lux"),
        "lm": _n("lúmen", "lúmens"),
    },
}

_UNIT_EXCEPTIONS: dict[str, dict[str, Noun]] = {
    "es": {"km": _n("kilómetro"), "cm": _n("centímetro"), "mm": _n("milímetro")},
    "pt": {"km": _n("quilômetro"), "cm": _n("centímetro"), "mm": _n("milímetro")},
    "it": {"km/h": _n("chilometro orario", "chilometri orari")},
}

_ALIASES = {"sec": "s", "hr": "h", "hrs": "h", "lbs": "lb", "kph": "km/h", "ug": "µg",
            "μg": "µg", "KB": "kB"}


def _units(lang: str) -> dict[str, Noun]:
    base = _BASE_UNITS[lang]
    prefixes = _PREFIXES[lang]
    units = dict(base)
    for symbol, allowed in _PREFIXED.items():
        noun = base[symbol.lower() if symbol == "L" else symbol]
        if symbol not in units:
            units[symbol] = noun
        for p in allowed:
            units[p + symbol] = Noun(prefixes[p] + noun.singular, prefixes[p] + noun.plural,
                                     noun.gender)
    per = {"en": " per second", "fr": " par seconde", "es": " por segundo",
           "it": " al secondo", "pt": " por segundo"}[lang]
    for p in "kMG":
        bit = base["bit"]
        units[f"{p}bps"] = Noun(prefixes[p] + bit.singular + per, prefixes[p] + bit.plural + per)
    per_hour = {"en": " per hour", "fr": " par heure", "es": " por hora", "it": " all'ora",
                "pt": " por hora"}[lang]
    units.update(_UNIT_EXCEPTIONS.get(lang, {}))
    units.setdefault("km/h", units["km"].compound(after=per_hour))
    for alias, target in _ALIASES.items():
        units[alias] = units[target]
    return units


# --------------------------------------------------------------------------------------------
# Currencies


def _c(main: Noun, cents: Noun | None = None) -> Currency:
    return Currency(main, cents)


_CURRENCIES: dict[str, dict[str, Currency]] = {
    "en": {"$": _c(_n("dollar"), _n("cent")), "€": _c(_n("euro"), _n("cent")),
           "£": _c(_n("pound"), _n("penny", "pence")), "¥": _c(_n("yen", "yen")),
           "₹": _c(_n("rupee"), _n("paisa", "paise")), "R$": _c(_n("real", "reais"),
                                                                 _n("centavo")),
           "CHF": _c(_n("Swiss franc"), _n("centime"))},
    "fr": {"$": _c(_n("dollar"), _n("cent")), "€": _c(_n("euro"), _n("centime")),
           "£": _c(_n("livre", gender="f"), _n("penny", "pence")), "¥": _c(_n("yen")),
           "₹": _c(_n("roupie", gender="f"), _n("paisa", "paise")),
           "R$": _c(_n("réal", "réaux"), _n("centavo")),
           "CHF": _c(_n("franc suisse", "francs suisses"), _n("centime"))},
    "es": {"$": _c(_n("dólar", "dólares"), _n("centavo")), "€": _c(_n("euro"), _n("céntimo")),
           "£": _c(_n("libra", gender="f"), _n("penique")), "¥": _c(_n("yen", "yenes")),
           "₹": _c(_n("rupia", gender="f"), _n("paisa")),
           "R$": _c(_n("real", "reales"), _n("centavo")),
           "CHF": _c(_n("franco suizo", "francos suizos"), _n("céntimo"))},
    "it": {"$": _c(_n("dollaro", "dollari"), _n("centesimo", "centesimi")),
           "€": _c(_n("euro", "euro"), _n("centesimo", "centesimi")),
           "£": _c(_n("sterlina", "sterline", "f"), _n("penny", "pence")),
           "¥": _c(_n("yen", "yen")), "₹": _c(_n("rupia", "rupie", "f"), _n("paisa", "paise")),
           "R$": _c(_n("real", "reais"), _n("centavo", "centavos")),
           "CHF": _c(_n("franco svizzero", "franchi svizzeri"), _n("centesimo", "centesimi"))},
    "pt": {"$": _c(_n("dólar", "dólares"), _n("centavo")), "€": _c(_n("euro"), _n("centavo")),
           "£": _c(_n("libra", gender="f"), _n("pêni", "pence")), "¥": _c(_n("iene")),
           "₹": _c(_n("rupia", gender="f"), _n("paisa", "paise")),
           "R$": _c(_n("real", "reais"), _n("centavo")),
           "CHF": _c(_n("franco suíço", "francos suíços"), _n("centavo"))},
}

CURRENCY_CODES = {"USD": "$", "US$": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹",
                  "BRL": "R$", "CHF": "CHF"}


# --------------------------------------------------------------------------------------------
# The languages

_ROMANCE_DAY_SUFFIX = r"(?:er|re|\.?º|°)?"
_ROMANCE_ORDINALS = (r"(?<![\w.,])(?P<n>\d+)\.?(?P<suffix>[ºª]|(?:er|ro|do|to|vo|mo|no|ra|da|ta|va"
                     r"|ma|na)(?=\s))")

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")

ENGLISH = Lexicon(
    code="en-us", num2words="en", decimal_word={".": "point"}, digits_after_point=True,
    group_separators=",", decimal_separators=".", plural_from_two=False,
    minus="minus", plus="plus", to="to", per="per", over="over", and_="and", cents_and="and",
    of="", about="about", number="number", percent="percent", degree=_n("degree"),
    celsius="Celsius", fahrenheit="Fahrenheit", dot="dot", at="at", slash="slash",
    months=_MONTHS_EN,
    month_aliases={"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8,
                   "Sep": 9, "Sept": 9, "Oct": 10, "Nov": 11, "Dec": 12},
    months_case_sensitive=True, date_order="mdy",
    hour=_n("hour"), minute=_n("minute"), second=_n("second"), time_joiner="",
    am="a.m.", pm="p.m.", evening="p.m.", evening_from=12,
    magnitudes={"k": _n("thousand", "thousand"), "K": _n("thousand", "thousand"),
                "M": _n("million", "million"), "mn": _n("million", "million"),
                "B": _n("billion", "billion"), "bn": _n("billion", "billion"),
                "T": _n("trillion", "trillion"), "tn": _n("trillion", "trillion")},
    magnitude_words=("thousand", "million", "billion", "trillion"),
    currencies=_CURRENCIES["en"], units=_units("en"),
    square=("square ", "", ""), cubic=("cubic ", "", ""),
    abbreviations={
        "Dr.": "Doctor", "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz",
        "Prof.": "Professor", "Jr.": "Junior", "Sr.": "Senior", "Mt.": "Mount",
        "vs.": "versus", "vs": "versus", "e.g.": "for example", "i.e.": "that is",
        "etc.": "et cetera", "approx.": "approximately", "appt.": "appointment",
        "dept.": "department", "Inc.": "Incorporated", "Ltd.": "Limited",
        "Corp.": "Corporation", "Fig.": "figure", "cf.": "compare", "ca.": "circa",
        "avg.": "average", "Ave.": "Avenue", "Blvd.": "Boulevard", "Rd.": "Road",
        "Apt.": "Apartment", "tbsp": "tablespoon", "tsp": "teaspoon", "w/o": "without",
        "w/": "with",
    },
    day_suffix=r"(?:st|nd|rd|th)?",
    ordinal_pattern=r"(?<![\w.,])(?P<n>\d+)(?P<suffix>st|nd|rd|th)(?![\w])",
    vulgar_fractions=("one half", "one quarter", "three quarters"),
    sentence_final=frozenset({"etc."}),
    year_words=("in", "since", "from", "until", "till", "by", "of", "year", "before", "after",
                "during", "circa", "around", "early", "late", "mid", "summer", "winter",
                "spring", "autumn", "fall", "between"),
    ordinal_fractions=True, denominators={2: ("half", "halves"), 4: ("quarter", "quarters")},
)

ENGLISH_GB = replace(ENGLISH, code="en-gb", date_order="dmy")

FRENCH = Lexicon(
    code="fr", num2words="fr", decimal_word={".": "virgule", ",": "virgule"},
    digits_after_point=False, group_separators=". ", decimal_separators=",.",
    plural_from_two=True, minus="moins", plus="plus", to="à", per="par", over="sur",
    and_="et", cents_and="et", of="de", about="environ", number="numéro",
    percent="pour cent", degree=_n("degré"), celsius="Celsius", fahrenheit="Fahrenheit",
    dot="point", at="arobase", slash="slash",
    months=("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
            "septembre", "octobre", "novembre", "décembre"),
    month_aliases={"janv": 1, "févr": 2, "fév": 2, "avr": 4, "juil": 7, "sept": 9, "oct": 10,
                   "nov": 11, "déc": 12},
    months_case_sensitive=False, date_order="dmy",
    hour=_n("heure", gender="f"), minute=_n("minute", gender="f"),
    second=_n("seconde", gender="f"), time_joiner="",
    am="du matin", pm="de l'après-midi", evening="du soir", evening_from=6,
    magnitudes={"k": _n("mille", "mille"), "M": _n("million"), "Md": _n("milliard"),
                "Mds": _n("milliard")},
    magnitude_words=("mille", "millions", "million", "milliards", "milliard"),
    currencies=_CURRENCIES["fr"], units=_units("fr"),
    square=("", " carré", " carrés"), cubic=("", " cube", " cubes"),
    abbreviations={
        "M.": "Monsieur", "MM.": "Messieurs", "Mme": "Madame", "Mmes": "Mesdames",
        "Mlle": "Mademoiselle", "Dr": "Docteur", "Dr.": "Docteur", "Pr": "Professeur",
        "St": "Saint", "Ste": "Sainte", "etc.": "et cetera", "p. ex.": "par exemple",
        "env.": "environ", "c.-à-d.": "c'est-à-dire", "cf.": "voir", "av.": "avenue",
        "bd": "boulevard", "tél.": "téléphone",
    },
    day_suffix=_ROMANCE_DAY_SUFFIX,
    ordinal_pattern=r"(?<![\w.,])(?P<n>\d+)(?P<suffix>ères?|res?|ers?|èmes?|emes?|e|nde?)(?![\w])",
    vulgar_fractions=("un demi", "un quart", "trois quarts"),
    sentence_final=frozenset({"etc."}),
    nouns="personne:f personnes:f fois:f semaine:f semaines:f année:f années:f journée:f "
          "journées:f nuit:f nuits:f pièce:f pièces:f lampe:f lampes:f porte:f portes:f "
          "fenêtre:f fenêtres:f lumière:f lumières:f jour:m jours:m an:m ans:m mois:m",
    first_day_ordinal=True, hour_noun="always", ordinal_plurals=True,
)

SPANISH = Lexicon(
    code="es", num2words="es", decimal_word={".": "punto", ",": "coma"},
    digits_after_point=False, group_separators=".", decimal_separators=",.",
    plural_from_two=False, minus="menos", plus="más", to="a", per="por", over="entre",
    and_="y", cents_and="con", of="de", about="aproximadamente", number="número",
    percent="por ciento", degree=_n("grado"), celsius="Celsius", fahrenheit="Fahrenheit",
    dot="punto", at="arroba", slash="barra",
    months=("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
            "septiembre", "octubre", "noviembre", "diciembre"),
    month_aliases={"ene": 1, "feb": 2, "mar": 3, "abr": 4, "jun": 6, "jul": 7, "ago": 8,
                   "sep": 9, "sept": 9, "set": 9, "setiembre": 9, "oct": 10, "nov": 11,
                   "dic": 12},
    months_case_sensitive=False, date_order="dmy",
    hour=_n("hora", gender="f"), minute=_n("minuto"), second=_n("segundo"), time_joiner="y",
    am="de la mañana", pm="de la tarde", evening="de la noche", evening_from=8,
    magnitudes={"k": _n("mil", "mil"), "M": _n("millón", "millones")},
    magnitude_words=("mil millones", "mil", "millones", "millón", "billones", "billón"),
    currencies=_CURRENCIES["es"], units=_units("es"),
    square=("", " cuadrado", " cuadrados"), cubic=("", " cúbico", " cúbicos"),
    abbreviations={
        "Sr.": "señor", "Sra.": "señora", "Srta.": "señorita", "Dr.": "doctor",
        "Dra.": "doctora", "Ud.": "usted", "Uds.": "ustedes", "Vd.": "usted",
        "p. ej.": "por ejemplo", "etc.": "etcétera", "aprox.": "aproximadamente",
        "Av.": "avenida", "Avda.": "avenida", "pág.": "página", "tel.": "teléfono",
        "EE. UU.": "Estados Unidos", "EE.UU.": "Estados Unidos",
    },
    day_suffix=_ROMANCE_DAY_SUFFIX, ordinal_pattern=_ROMANCE_ORDINALS,
    vulgar_fractions=("un medio", "un cuarto", "tres cuartos"),
    sentence_final=frozenset({"etc.", "EE. UU.", "EE.UU."}),
    nouns="persona:f personas:f vez:f veces:f semana:f semanas:f noche:f noches:f luz:f "
          "luces:f puerta:f puertas:f ventana:f ventanas:f habitación:f habitaciones:f "
          "lámpara:f lámparas:f día:m días:m año:m años:m mes:m meses:m",
    date_of="de", full_hour="en punto", ordinal_apocope="er", ordinal_indicators="º",
)

ITALIAN = Lexicon(
    code="it", num2words="it", decimal_word={".": "virgola", ",": "virgola"},
    digits_after_point=False, group_separators=".", decimal_separators=",.",
    plural_from_two=False, minus="meno", plus="più", to="a", per="per", over="su",
    and_="e", cents_and="e", of="di", about="circa", number="numero", percent="per cento",
    degree=_n("grado", "gradi"), celsius="Celsius", fahrenheit="Fahrenheit", dot="punto",
    at="chiocciola", slash="slash",
    months=("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
            "settembre", "ottobre", "novembre", "dicembre"),
    month_aliases={"gen": 1, "genn": 1, "feb": 2, "febbr": 2, "mar": 3, "apr": 4, "mag": 5,
                   "giu": 6, "lug": 7, "ago": 8, "set": 9, "sett": 9, "ott": 10, "nov": 11,
                   "dic": 12},
    months_case_sensitive=False, date_order="dmy",
    hour=_n("ora", "ore", "f"), minute=_n("minuto", "minuti"),
    second=_n("secondo", "secondi"), time_joiner="e",
    am="di mattina", pm="di pomeriggio", evening="di sera", evening_from=6,
    magnitudes={"k": _n("mila", "mila"), "M": _n("milione", "milioni"),
                "Mld": _n("miliardo", "miliardi"), "mld": _n("miliardo", "miliardi")},
    magnitude_words=("mila", "milioni", "milione", "miliardi", "miliardo"),
    currencies=_CURRENCIES["it"], units=_units("it"),
    square=("", " quadrato", " quadrati"), cubic=("", " cubo", " cubi"),
    abbreviations={
        "Sig.ra": "signora", "Sig.na": "signorina", "Sig.": "signor",
        "Dott.ssa": "dottoressa", "Dott.": "dottor", "Prof.ssa": "professoressa",
        "Prof.": "professor", "ecc.": "eccetera", "ad es.": "ad esempio",
        "per es.": "per esempio", "p.es.": "per esempio", "ca.": "circa", "pag.": "pagina",
        "tel.": "telefono",
    },
    day_suffix=_ROMANCE_DAY_SUFFIX, ordinal_pattern=_ROMANCE_ORDINALS,
    vulgar_fractions=("un mezzo", "un quarto", "tre quarti"),
    sentence_final=frozenset({"ecc."}),
    nouns="persona:f persone:f volta:f volte:f settimana:f settimane:f notte:f notti:f "
          "luce:f luci:f porta:f porte:f finestra:f finestre:f stanza:f stanze:f lampada:f "
          "lampade:f giorno:m giorni:m anno:m anni:m mese:m mesi:m",
    first_day_ordinal=True, ordinal_indicators="º",
)

PORTUGUESE = Lexicon(
    code="pt-br", num2words="pt_BR", decimal_word={".": "vírgula", ",": "vírgula"},
    digits_after_point=False, group_separators=".", decimal_separators=",.",
    plural_from_two=False, minus="menos", plus="mais", to="a", per="por", over="sobre",
    and_="e", cents_and="e", of="de", about="cerca de", number="número",
    percent="por cento", degree=_n("grau", "graus"), celsius="Celsius",
    fahrenheit="Fahrenheit", dot="ponto", at="arroba", slash="barra",
    months=("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
            "setembro", "outubro", "novembro", "dezembro"),
    month_aliases={"jan": 1, "fev": 2, "mar": 3, "abr": 4, "jun": 6, "jul": 7, "ago": 8,
                   "set": 9, "out": 10, "nov": 11, "dez": 12},
    months_case_sensitive=False, date_order="dmy",
    hour=_n("hora", gender="f"), minute=_n("minuto"), second=_n("segundo"), time_joiner="e",
    am="da manhã", pm="da tarde", evening="da noite", evening_from=6,
    magnitudes={"k": _n("mil", "mil"), "mi": _n("milhão", "milhões"),
                "M": _n("milhão", "milhões"), "bi": _n("bilhão", "bilhões"),
                "tri": _n("trilhão", "trilhões")},
    magnitude_words=("mil", "milhões", "milhão", "bilhões", "bilhão", "trilhões", "trilhão"),
    currencies=_CURRENCIES["pt"], units=_units("pt"),
    square=("", " quadrado", " quadrados"), cubic=("", " cúbico", " cúbicos"),
    abbreviations={
        "Sr.": "senhor", "Sra.": "senhora", "Srta.": "senhorita", "Dr.": "doutor",
        "Dra.": "doutora", "Profa.": "professora", "Prof.": "professor",
        "etc.": "etcétera", "p. ex.": "por exemplo", "aprox.": "aproximadamente",
        "Av.": "avenida", "pág.": "página", "tel.": "telefone", "Ltda.": "limitada",
    },
    day_suffix=_ROMANCE_DAY_SUFFIX, ordinal_pattern=_ROMANCE_ORDINALS,
    vulgar_fractions=("um meio", "um quarto", "três quartos"),
    sentence_final=frozenset({"etc."}),
    nouns="pessoa:f pessoas:f vez:f vezes:f semana:f semanas:f noite:f noites:f luz:f "
          "luzes:f porta:f portas:f janela:f janelas:f lâmpada:f lâmpadas:f dia:m dias:m "
          "ano:m anos:m mês:m meses:m",
    first_day_ordinal=True, date_of="de", hour_noun="full", ordinal_indicators="º",
)
