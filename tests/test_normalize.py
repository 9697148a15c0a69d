"""Text normalization: what is written -> what is said, per language, and the switches."""

from __future__ import annotations

import dataclasses
import re

import pytest

from wyoming_kokoro.config import Config, NormalizeConfig, NormalizeRules, load_config
from wyoming_kokoro.text.normalize import NormalizeOptions, normalize
from wyoming_kokoro.text.split import SentenceSplitter, split_sentences

ENGLISH = [
    # cardinals, decimals, negatives, fractions, codes
    ("I have 3 cats.", "I have three cats."),
    ("Pi is 3.14.", "Pi is three point one four."),
    ("It was -4 outside.", "It was minus four outside."),
    ("About 1,234,567 people.", "About one million two hundred and thirty-four thousand five "
                                "hundred and sixty-seven people."),
    ("Agent 007.", "Agent zero zero seven."),
    ("Add 1/2 cup and 3/4 cup.", "Add one half cup and three quarters cup."),
    ("We are open 24/7.", "We are open twenty-four seven."),
    ("Call 555-1234.", "Call five five five, one two three four."),
    ("COVID-19 and MP3 files.", "COVID-nineteen and MP3 files."),
    # ordinals, years, ranges
    ("The 21st and the 2nd.", "The twenty-first and the second."),
    ("She came 3rd.", "She came third."),
    ("Born in 1999.", "Born in nineteen ninety-nine."),
    ("From 2020-2024.", "From twenty twenty to twenty twenty-four."),
    ("Music of the 1990s and the '80s.", "Music of the nineteen nineties and the eighties."),
    ("It takes 1-2 days.", "It takes one to two days."),
    ("The score was 3-2.", "The score was three to two."),
    # percent, temperatures
    ("It's 22.5°C and 65% humidity",
     "It's twenty-two point five degrees Celsius and sixty-five percent humidity"),
    ("Outside it is -5 °C.", "Outside it is minus five degrees Celsius."),
    ("Set it to 72°F.", "Set it to seventy-two degrees Fahrenheit."),
    ("Just 1°C warmer.", "Just one degree Celsius warmer."),
    ("Between 20-25°C.", "Between twenty to twenty-five degrees Celsius."),
    ("Turn it 90°.", "Turn it ninety degrees."),
    ("Battery at 100%.", "Battery at one hundred percent."),
    # currency
    ("The deal is worth $5.3 billion.", "The deal is worth five point three billion dollars."),
    ("It costs $5.30.", "It costs five dollars and thirty cents."),
    ("Only $1!", "Only one dollar!"),
    ("Just $0.50.", "Just fifty cents."),
    ("Revenue of $5M.", "Revenue of five million dollars."),
    ("Tickets cost €20 or £1.", "Tickets cost twenty euros or one pound."),
    ("That is 300 USD.", "That is three hundred dollars."),
    ("Prices from $5-10.", "Prices from five to ten dollars."),
    # times
    ("Timer set for 7:30 am.", "Timer set for seven thirty a.m."),
    ("The alarm is at 19:45.", "The alarm is at nineteen forty-five."),
    ("It is 7:05.", "It is seven oh five."),
    ("Dinner at 7:00.", "Dinner at seven o'clock."),
    ("Leave at 18:00.", "Leave at eighteen hundred."),
    ("See you at 5 pm.", "See you at five p.m."),
    ("Meeting 9:30-10:30 a.m.", "Meeting nine thirty to ten thirty a.m."),
    ("Lap time 1:05:30.", "Lap time one oh five and thirty seconds."),
    # dates
    ("Due on 2024-03-15.", "Due on March fifteenth, twenty twenty-four."),
    ("Due on 03/15/2024.", "Due on March fifteenth, twenty twenty-four."),
    ("Due on March 15.", "Due on March fifteenth."),
    ("Due on Dec. 3rd, 2025.", "Due on December third, twenty twenty-five."),
    ("Due the 5th of May.", "Due the fifth of May."),
    ("Opened in March 2021.", "Opened in March twenty twenty-one."),
    # units
    ("Driving at 3 km/h.", "Driving at three kilometers per hour."),
    ("Top speed 100 mph.", "Top speed one hundred miles per hour."),
    ("It used 2.5 kWh.", "It used two point five kilowatt-hours."),
    ("Add 1 kg and 500 g.", "Add one kilogram and five hundred grams."),
    ("It draws 60 W at 230 V.", "It draws sixty watts at two hundred and thirty volts."),
    ("Wait 30 min or 2 h or 10 s.", "Wait thirty minutes or two hours or ten seconds."),
    ("It is 1 m long and 3-5 cm wide.", "It is one meter long and three to five centimeters wide."),
    ("PM2.5 is 25 µg/m³.", "PM2.5 is twenty-five micrograms per cubic meter."),
    ("The flat has 70 m².", "The flat has seventy square meters."),
    ("Download at 100 Mbps.", "Download at one hundred megabits per second."),
    ("Wind of 10 m/s.", "Wind of ten meters per second."),
    # abbreviations and symbols
    ("Dr. Smith and Mr. Jones.", "Doctor Smith and Mister Jones."),
    ("Fruit, e.g. apples, i.e. food.", "Fruit, for example apples, that is food."),
    ("Apples, pears, etc. Then more.", "Apples, pears, et cetera. Then more."),
    ("It is approx. 5 km.", "It is approximately five kilometers."),
    ("We love R&D.", "We love R and D."),
    ("It costs ~$5.", "It costs about five dollars."),
    ("Room No. 5 and #1.", "Room number five and number one."),
    # URLs and e-mail
    ("Visit https://www.example.com/docs today.", "Visit example dot com slash docs today."),
    ("See example.org.", "See example dot org."),
    ("Long https://example.com/a/b/c?x=1 link.", "Long example dot com link."),
    ("Mail john.smith@example.com.", "Mail john dot smith at example dot com."),
    # punctuation and emoji
    ("Wow!!!", "Wow!"),
    ("Really??? Yes?!?", "Really? Yes?"),
    ("Wait..... what", "Wait… what"),
    ("Party time 🎉🥳!", "Party time!"),
    ("Done ✅ 1️⃣ 👍🏽", "Done"),
]

MARKDOWN = [
    ("**Bold** and __strong__", "Bold and strong"),
    ("*italic* and _emphasis_ but snake_case_name", "italic and emphasis but snake_case_name"),
    ("~~old~~ new", "old new"),
    ("## Weather today", "Weather today"),
    ("# Title #", "Title"),
    ("- Buy milk", "Buy milk"),
    ("* Buy bread", "Buy bread"),
    ("1. First step", "First step"),
    ("12) Twelfth step", "Twelfth step"),
    ("- [x] Done task", "Done task"),
    ("> Quoted text", "Quoted text"),
    ("Read [the docs](https://example.com/docs) now", "Read the docs now"),
    ("![a cat](cat.png)", "a cat"),
    ("Run `ls -la` now", "Run ls -la now"),
    ("```python", ""),
    ("```", ""),
    ("---", ""),
    ("| Room | Temp |", "Room, Temp"),
    ("|------|:----:|", ""),
    ("| Kitchen | 21°C |", "Kitchen, twenty-one degrees Celsius"),
    ("**Temperature:** 22.5°C", "Temperature: twenty-two point five degrees Celsius"),
]

OTHER_LANGUAGES = [
    # French
    ("fr", "Il fait 22,5 °C et 65 % d'humidité.",
     "Il fait vingt-deux virgule cinq degrés Celsius et soixante-cinq pour cent d'humidité."),
    ("fr", "Rendez-vous à 19h45.", "Rendez-vous à dix-neuf heures quarante-cinq."),
    ("fr", "Le réveil sonne à 7:30.", "Le réveil sonne à sept heures trente."),
    ("fr", "Il est 1:00.", "Il est une heure."),
    ("fr", "Le 1er mars 2024.", "Le premier mars deux mille vingt-quatre."),
    ("fr", "Le 15/03/2024.", "Le quinze mars deux mille vingt-quatre."),
    ("fr", "Ça coûte 5,30 €.", "Ça coûte cinq euros et trente centimes."),
    ("fr", "Un budget de 1 000 000 €.", "Un budget de un million d'euros."),
    ("fr", "Une dette de 5,3 milliards €.", "Une dette de cinq virgule trois milliards d'euros."),
    ("fr", "M. Dupont roule à 90 km/h.", "Monsieur Dupont roule à quatre-vingt-dix kilomètres "
                                         "par heure."),
    ("fr", "Il reste 1,5 km et 21 h.", "Il reste un virgule cinq kilomètre et vingt et une "
                                      "heures."),
    ("fr", "Dans 1 heure.", "Dans une heure."),
    ("fr", "Le 2e et la 1re.", "Le deuxième et la première."),
    ("fr", "Il fait -5 °C.", "Il fait moins cinq degrés Celsius."),
    ("fr", "Écrivez à marie@exemple.fr.", "Écrivez à marie arobase exemple point fr."),
    # Spanish
    ("es", "Hace 22,5 °C y 65 % de humedad.",
     "Hace veintidós coma cinco grados Celsius y sesenta y cinco por ciento de humedad."),
    ("es", "A las 7:30.", "A las siete y treinta."),
    ("es", "A la 1:00.", "A la una en punto."),
    ("es", "Son 21 km y 1 km.", "Son veintiún kilómetros y un kilómetro."),
    ("es", "Cuesta 5,30 €.", "Cuesta cinco euros con treinta céntimos."),
    ("es", "Vinieron 1.500 personas.", "Vinieron mil quinientas personas."),
    ("es", "Una hora: 1 hora.", "Una hora: una hora."),
    ("es", "Ganó 2.000.000 $.", "Ganó dos millones de dólares."),
    ("es", "El 15 de marzo de 2024.", "El quince de marzo de dos mil veinticuatro."),
    ("es", "La 1ª vez en el 3er piso.", "La primera vez en el tercer piso."),
    ("es", "El Sr. García y la Dra. López.", "El señor García y la doctora López."),
    # Italian
    ("it", "Ci sono 22,5 °C.", "Ci sono ventidue virgola cinque gradi Celsius."),
    ("it", "Alle 19:45.", "Alle diciannove e quarantacinque."),
    ("it", "Il 1° maggio.", "Il primo maggio."),
    ("it", "Costa 5,30 €.", "Costa cinque euro e trenta centesimi."),
    ("it", "Il 65% di 1 km.", "Il sessantacinque per cento di un chilometro."),
    ("it", "Il Sig. Rossi ecc.", "Il signor Rossi eccetera."),
    # Portuguese (Brazil)
    ("pt-br", "Faz 22,5 °C.", "Faz vinte e dois vírgula cinco graus Celsius."),
    ("pt-br", "Custa R$ 5,30.", "Custa cinco reais e trinta centavos."),
    ("pt-br", "Às 7:30 e à 1:00.", "Às sete e trinta e à uma hora."),
    ("pt-br", "Faltam 2 horas.", "Faltam duas horas."),
    ("pt-br", "O 1º lugar e a 1ª vez.", "O primeiro lugar e a primeira vez."),
    ("pt-br", "Em 15 de março de 2024.", "Em quinze de março de dois mil e vinte e quatro."),
    ("pt-br", "A 22 km/h.", "A vinte e dois quilômetros por hora."),
    # British English
    ("en-gb", "On 15/03/2024 at 19:45.", "On the fifteenth of March, twenty twenty-four at "
                                          "nineteen forty-five."),
    # Japanese: digits stay for pyopenjtalk, the symbols around them get words
    ("ja", "**今日**は22.5°Cです🎉!!!", "今日は22点5度です!"),
    ("ja", "気温は-5℃、湿度は65%です。", "気温はマイナス5度、湿度は65パーセントです。"),
    ("ja", "タイマーを7:30にセットしました。", "タイマーを7時30分にセットしました。"),
    ("ja", "アラームは7:30 pmです。", "アラームは午後7時30分です。"),
    ("ja", "会議は2024-03-15です。", "会議は2024年3月15日です。"),
    ("ja", "合計は$5.30、または1,234円です。", "合計は5ドル30セント、または1234円です。"),
    ("ja", "1-2日かかります。", "1から2日かかります。"),
    ("ja", "外は72°Fです。", "外は華氏72度です。"),
    ("ja", "華氏72°Fです。", "華氏72度です。"),
    # languages without rules: markup only, digits left to their phonemizers
    ("zh", "- 今天是22.5°C。", "今天是22.5°C。"),
    ("hi", "## तापमान 22°C है", "तापमान 22°C है"),
]


@pytest.mark.parametrize(("text", "spoken"), ENGLISH)
def test_english(text, spoken):
    assert normalize(text, "en-us") == spoken


@pytest.mark.parametrize(("text", "spoken"), MARKDOWN)
def test_markdown_is_read_as_its_spoken_content(text, spoken):
    assert normalize(text, "en-us") == spoken


@pytest.mark.parametrize(("language", "text", "spoken"), OTHER_LANGUAGES)
def test_other_languages(language, text, spoken):
    assert normalize(text, language) == spoken


def test_a_whole_markdown_reply_line_by_line_or_at_once_reads_the_same():
    reply = ("## Today\n\n**Weather:** 22.5°C, 65% humidity.\n\n"
             "1. Buy milk at 7:30 am.\n2. Pay $5.30.\n\n```\ncode here\n```\n")
    at_once = normalize(reply, "en-us").split("\n")
    per_sentence = [normalize(s, "en-us") for s in split_sentences(reply)]
    assert [line for line in at_once if line] == per_sentence
    assert per_sentence == [
        "Today", "Weather: twenty-two point five degrees Celsius, sixty-five percent humidity.",
        "Buy milk at seven thirty a.m.", "Pay five dollars and thirty cents.", "code here"]


# --------------------------------------------------------------------------------------------
# Switches

SWITCHES = [
    ("markdown", "**Bold** text", "**Bold** text"),
    ("punctuation", "Wow!!!", "Wow!!!"),
    ("urls", "See example.com now", "See example.com now"),
    ("abbreviations", "Dr. Who", "Dr. Who"),
    ("symbols", "R&D", "R&D"),
    ("dates", "On 2024-03-15", "On two thousand and twenty-four-zero three-fifteen"),
    ("times", "At 7:30", "At seven:thirty"),
    ("currency", "Costs $5", "Costs $five"),
    ("temperatures", "It is 22°C", "It is twenty-two°C"),
    ("percent", "At 65%", "At sixty-five%"),
    ("units", "Drive 3 km", "Drive three km"),
    ("ordinals", "The 21st", "The 21st"),
    ("years", "In 1999", "In one thousand nine hundred and ninety-nine"),
    ("ranges", "Takes 1-2 days", "Takes one-two days"),
    ("numbers", "I have 3 cats", "I have 3 cats"),
]


@pytest.mark.parametrize(("switch", "text", "spoken"), SWITCHES)
def test_every_rule_can_be_switched_off(switch, text, spoken):
    options = NormalizeOptions(**{switch: False})
    assert normalize(text, "en-us", options) == spoken
    assert normalize(text, "en-us") != spoken


def test_emoji_can_be_kept_and_normalization_switched_off_entirely():
    assert normalize("Hi 🎉", "en-us", NormalizeOptions(emoji="keep")) == "Hi 🎉"
    assert normalize("Hi 🎉", "en-us") == "Hi"
    text = "**It is** 22°C!!!"
    assert normalize(text, "en-us", NormalizeOptions(enabled=False)) == text


def test_switches_are_configured_globally_and_per_language(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("text:\n  normalize:\n    units: false\n    languages:\n"
                    "      fr:\n        units: true\n        emoji: keep\n")
    config = load_config(path).text.normalize
    assert config.options("en-us") == NormalizeOptions(units=False)
    assert config.options("fr") == NormalizeOptions(units=True, emoji="keep")
    assert normalize("Drive 3 km", "en-us", config.options("en-us")) == "Drive three km"
    assert Config().text.normalize.options("ja") == NormalizeOptions()


def test_the_config_switches_are_exactly_the_normalize_options():
    names = [f.name for f in dataclasses.fields(NormalizeOptions)]
    assert [f.name for f in dataclasses.fields(NormalizeConfig)] == [*names, "languages"]
    assert [f.name for f in dataclasses.fields(NormalizeRules)] == names
    assert NormalizeConfig().options("en-us") == NormalizeOptions()


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("text:\n  normalize:\n    languages:\n      klingon: {}\n",
         "text.normalize.languages.klingon: unknown key; must be one of en-us"),
        ("text:\n  normalize:\n    languages:\n      fr:\n        unitz: false\n",
         "text.normalize.languages.fr.unitz: unknown key (did you mean 'units'?)"),
        ("text:\n  normalize:\n    emoji: eat\n",
         "text.normalize.emoji: must be one of drop, keep"),
        ("text:\n  normalize:\n    units: maybe\n",
         "text.normalize.units: must be true or false"),
    ],
)
def test_bad_normalize_config_names_the_key(tmp_path, yaml_text, message):
    from wyoming_kokoro.config import ConfigError

    path = tmp_path / "config.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


# --------------------------------------------------------------------------------------------
# Sentence splitting of the raw text, before normalization

SPLITS = [
    ("Wake me at 7:30 a.m. tomorrow, please.", ["Wake me at 7:30 a.m. tomorrow, please."]),
    ("Wake me at 7 a.m. Then make coffee.", ["Wake me at 7 a.m.", "Then make coffee."]),
    ("Lunch at 1 p.m. and dinner at 7 p.m.", ["Lunch at 1 p.m. and dinner at 7 p.m."]),
    ("Fruit, e.g. apples, is fine.", ["Fruit, e.g. apples, is fine."]),
    ("Apples, pears, etc. and more.", ["Apples, pears, etc. and more."]),
    ("Apples, pears, etc. Then more.", ["Apples, pears, etc.", "Then more."]),
    ("Shopping:\n1. Buy milk\n2. Buy bread", ["Shopping:", "1. Buy milk", "2. Buy bread"]),
    ("Done. 2. Next step.", ["Done.", "2. Next step."]),
    ("It costs $5.3 billion. Wow.", ["It costs $5.3 billion.", "Wow."]),
    ("Room No. 5 is free. I said no. Fine.", ["Room No. 5 is free.", "I said no.", "Fine."]),
    ("El Sr. García llegó. La Sra. López también.",
     ["El Sr. García llegó.", "La Sra. López también."]),
]


@pytest.mark.parametrize(("text", "sentences"), SPLITS)
def test_sentences_split_around_what_normalization_reads(text, sentences):
    assert split_sentences(text) == sentences


@pytest.mark.parametrize(
    ("chunks", "sentences"),
    [
        (["Timer set for 7:", "30 am. Bye."], ["Timer set for 7:30 am.", "Bye."]),
        (["It costs $5", ".", "3 billion. Ok."], ["It costs $5.3 billion.", "Ok."]),
        (["Fruit, e.", "g. apples. Done."], ["Fruit, e.g. apples.", "Done."]),
        (["Wake me at 7 a.", "m. ", "tomorrow. Ok."], ["Wake me at 7 a.m. tomorrow.", "Ok."]),
        (["Wake me at 7 a.m. ", "Then go."], ["Wake me at 7 a.m.", "Then go."]),
        (["Steps:\n1", ". Buy milk\n2. Pay"], ["Steps:", "1. Buy milk", "2. Pay"]),
    ],
)
def test_streamed_chunks_never_split_numbers_times_or_abbreviations(chunks, sentences):
    splitter = SentenceSplitter()
    out: list[str] = []
    for chunk in chunks:
        out += splitter.add(chunk)
    out += splitter.finish()
    assert out == sentences
    assert out == split_sentences("".join(chunks))


def test_a_sentence_ending_in_an_ambiguous_abbreviation_waits_for_the_next_word():
    splitter = SentenceSplitter()
    assert splitter.add("Wake me at 7 a.m. ") == []  # "tomorrow" or "Then"?
    assert splitter.add("Then") == ["Wake me at 7 a.m."]
    assert splitter.finish() == ["Then"]


def test_streamed_sentences_normalize_like_the_whole_text():
    text = "It's 22.5°C. Timer set for 7:30 a.m. tomorrow. That's $5.3 billion, e.g. a lot."
    splitter = SentenceSplitter()
    out: list[str] = []
    for i in range(0, len(text), 3):
        out += splitter.add(text[i:i + 3])
    out += splitter.finish()
    assert [normalize(s, "en-us") for s in out] == [
        "It's twenty-two point five degrees Celsius.",
        "Timer set for seven thirty a.m. tomorrow.",
        "That's five point three billion dollars, for example a lot.",
    ]


def test_a_failing_rule_costs_only_its_own_reading(monkeypatch, caplog):
    from wyoming_kokoro.text import normalize as module

    def times(text):
        raise ValueError("bug")

    rules = tuple(dataclasses.replace(r, apply=times) if r.name == "times" else r
                  for r in module.rules_for("en-us"))
    monkeypatch.setattr(module, "rules_for", lambda language: rules)
    assert normalize("At 7:30, **it** is 22°C", "en-us") == (
        "At seven:thirty, it is twenty-two degrees Celsius")
    assert "rule 'times' failed" in caplog.text
