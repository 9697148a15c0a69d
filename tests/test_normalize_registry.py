"""The normalization registry: which rules each language runs, in what order, under which switch."""

from __future__ import annotations

import dataclasses

import pytest

from wyoming_kokoro.config import NormalizeConfig, NormalizeRules
from wyoming_kokoro.text.normalize import SWITCHES, NormalizeOptions, normalize
from wyoming_kokoro.text.normalize.ja import JapaneseRules
from wyoming_kokoro.text.normalize.registry import LANGUAGES, Rule, rules_for

RULE_SWITCHES = [s for s in SWITCHES if s.name != "enabled"]


def _off(switch) -> object:
    """The value that turns ``switch``'s rules off: false, or the other choice (emoji: keep)."""
    if switch.choices:
        return next(c for c in switch.choices if c != switch.on)
    return False


def only(name: str) -> NormalizeOptions:
    return NormalizeOptions(**{s.name: s.on if s.name == name else _off(s) for s in RULE_SWITCHES})


def all_but(name: str) -> NormalizeOptions:
    return NormalizeOptions(**{name: _off(next(s for s in SWITCHES if s.name == name))})


NOTHING = NormalizeOptions(**{s.name: _off(s) for s in RULE_SWITCHES})

NEUTRAL = {"markdown": "**Bold** text", "emoji": "Hi 🎉", "punctuation": "Wow!!!"}
SAMPLES: dict[str, dict[str, str]] = {
    "en-us": NEUTRAL | {
        "urls": "See example.com", "abbreviations": "Dr. Who", "symbols": "R&D",
        "dates": "On 2024-03-15", "times": "At 7:30", "currency": "Costs $5",
        "temperatures": "It is 22°C", "percent": "At 65%", "units": "Drive 3 km",
        "ordinals": "The 21st", "years": "In 1999, the 1990s", "ranges": "Takes 1-2 days",
        "numbers": "I have 3 cats"},
    "en-gb": NEUTRAL | {
        "urls": "See example.co.uk", "abbreviations": "Mr. Bean", "symbols": "No. 5",
        "dates": "On 15/03/2024", "times": "At 19:45", "currency": "Costs £5",
        "temperatures": "It is -5 °C", "percent": "At 100%", "units": "Drive 3 mi",
        "ordinals": "The 2nd", "years": "Since 2020-2024", "ranges": "Takes 3-4 days",
        "numbers": "Pi is 3.14"},
    "fr": NEUTRAL | {
        "urls": "Voir exemple.fr", "abbreviations": "M. Dupont", "symbols": "R&D",
        "dates": "Le 15/03/2024", "times": "À 19h45", "currency": "Ça coûte 5,30 €",
        "temperatures": "Il fait 22,5 °C", "percent": "À 65 %", "units": "Encore 3 km",
        "ordinals": "Le 2e", "ranges": "Dans 1-2 jours", "numbers": "Dans 1 heure"},
    "es": NEUTRAL | {
        "urls": "Ver ejemplo.com", "abbreviations": "El Sr. García", "symbols": "R&D",
        "dates": "El 15/03/2024", "times": "A la 1:00", "currency": "Cuesta 5,30 €",
        "temperatures": "Hace 22,5 °C", "percent": "Al 65 %", "units": "Son 21 km",
        "ordinals": "El 3er piso", "ranges": "En 1-2 días", "numbers": "Vinieron 1.500"},
    "it": NEUTRAL | {
        "urls": "Vedi esempio.com/info", "abbreviations": "Il Sig. Rossi", "symbols": "R&D",
        "dates": "Il 1° maggio", "times": "Alle 19:45", "currency": "Costa 5,30 €",
        "temperatures": "Ci sono 22,5 °C", "percent": "Il 65%", "units": "Di 1 km",
        "ordinals": "La 2ª volta", "ranges": "In 1-2 giorni", "numbers": "Sono 3 gatti"},
    "pt-br": NEUTRAL | {
        "urls": "Veja exemplo.com.br", "abbreviations": "O Sr. Silva", "symbols": "R&D",
        "dates": "Em 2024-03-15", "times": "Às 1:00", "currency": "Custa R$ 5,30",
        "temperatures": "Faz 22,5 °C", "percent": "De 65 %", "units": "A 22 km/h",
        "ordinals": "O 1º lugar", "ranges": "Em 1-2 dias", "numbers": "Faltam 2 horas"},
    "ja": NEUTRAL | {
        "dates": "会議は2024-03-15です。", "times": "7:30にセット", "currency": "合計は$5です",
        "temperatures": "外は72°Fです", "percent": "湿度は65%です", "ranges": "1-2日",
        "numbers": "気温は-5です"},
    "hi": NEUTRAL,
    "zh": NEUTRAL,
    "xx": NEUTRAL,  # a language we have no entry for
}
CASES = [(lang, switch) for lang, samples in SAMPLES.items() for switch in samples]


@pytest.mark.parametrize(("language", "switch"), CASES)
def test_every_switch_turns_its_rules_on_and_off(language, switch):
    text = SAMPLES[language][switch]
    assert normalize(text, language, NOTHING) == text  # every switch off: left as written
    assert normalize(text, language, only(switch)) != text  # its rules alone read it
    # and with only this switch off, what it reads is left to no rule
    assert normalize(text, language, all_but(switch)) != normalize(text, language)


@pytest.mark.parametrize("language", SAMPLES)
def test_a_language_has_rules_under_exactly_the_switches_sampled_for_it(language):
    assert {rule.switch for rule in rules_for(language)} == set(SAMPLES[language])


@pytest.mark.parametrize("language", SAMPLES)
def test_a_switch_a_language_has_no_rules_for_changes_nothing_there(language):
    absent = [s.name for s in RULE_SWITCHES if s.name not in SAMPLES[language]]
    for text in {t for samples in SAMPLES.values() for t in samples.values()}:
        for name in absent:
            assert normalize(text, language, all_but(name)) == normalize(text, language)


def test_every_language_with_an_entry_is_sampled():
    assert set(LANGUAGES) <= set(SAMPLES)


def _order(language: str) -> list[tuple[str, str]]:
    return [(rule.switch, rule.name) for rule in rules_for(language)]


BEFORE = [("markdown", "strip_markdown"), ("emoji", "drop_emoji")]
AFTER = [("punctuation", "tame_punctuation")]


def test_english_rules_run_in_this_order():
    # shaped numbers (dates, times, money, measurements) before bare ones; decades before units
    # ("1990s" is no count of seconds) and years before ranges ("2020-2024")
    assert _order("en-us") == _order("en-gb") == [*BEFORE,
        ("urls", "urls"), ("abbreviations", "abbreviations"), ("symbols", "symbols"),
        ("dates", "dates"), ("times", "times"), ("currency", "currency"),
        ("temperatures", "temperatures"), ("percent", "percent"), ("years", "decades"),
        ("units", "units"), ("ordinals", "ordinals"), ("years", "years"),
        ("ranges", "ranges"), ("numbers", "numbers"), *AFTER]


@pytest.mark.parametrize("language", ["fr", "es", "it", "pt-br"])
def test_romance_rules_run_in_the_english_order_without_the_year_rules(language):
    assert _order(language) == [rule for rule in _order("en-us") if rule[0] != "years"]


def test_japanese_rules_run_in_this_order():
    assert _order("ja") == [*BEFORE,
        ("dates", "dates"), ("times", "times"), ("currency", "currency"),
        ("temperatures", "temperatures"), ("percent", "percent"), ("ranges", "ranges"),
        ("numbers", "numbers"), *AFTER]


@pytest.mark.parametrize("language", ["xx", "de", "hi", "zh", ""])
def test_an_unknown_language_gets_only_the_language_neutral_rules(language):
    assert _order(language) == [*BEFORE, *AFTER]
    assert normalize("**It is 22°C** at 7:30!!! 🎉", language) == "It is 22°C at 7:30!"


def test_japanese_rules_are_its_own_methods_and_it_has_no_others():
    rules = JapaneseRules()
    for rule in rules_for("ja")[len(BEFORE):-len(AFTER)]:
        assert rule.apply.__func__ is vars(JapaneseRules)[rule.name]
    for missing in ("urls", "abbreviations", "symbols", "units", "ordinals", "years"):
        with pytest.raises(AttributeError):
            getattr(rules, missing)  # no silent no-op for a rule Japanese does not have


def test_a_rule_under_a_switch_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="no normalization switch 'unitz'"):
        Rule("unitz", str.strip)


def test_the_config_classes_are_derived_from_the_switches():
    defaults = {f.name: f for f in dataclasses.fields(NormalizeConfig)}
    overrides = {f.name: f for f in dataclasses.fields(NormalizeRules)}
    for switch in SWITCHES:
        for f, default in ((defaults[switch.name], switch.default),
                           (overrides[switch.name], None)):
            assert f.default == default
            assert f.metadata["choices"] == switch.choices
    assert NormalizeConfig().options("xx") == NormalizeOptions()
    assert NormalizeRules() == NormalizeRules(**{s.name: None for s in SWITCHES})
    for frozen in (NormalizeConfig(), NormalizeRules(), NormalizeOptions()):
        with pytest.raises(dataclasses.FrozenInstanceError):
            frozen.units = False
