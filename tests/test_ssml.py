"""SSML: the supported subset becomes ordered segments; anything hostile is refused cleanly."""

from __future__ import annotations

import pytest

from wyoming_kokoro.text.ssml import MAX_CHARS, Segment, SsmlError, is_ssml, parse_ssml


def texts(segments: list[Segment]) -> list[str]:
    return [s.text for s in segments]


def test_plain_speak_is_one_segment_with_defaults():
    assert parse_ssml("<speak>Hello   there.\n How are you?</speak>") == [
        Segment("Hello there. How are you?")]


def test_an_xml_declaration_and_the_ssml_namespace_are_accepted():
    ssml = ('<?xml version="1.0" encoding="UTF-8"?>\n<speak version="1.1" '
            'xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">Hi.</speak>')
    assert parse_ssml(ssml) == [Segment("Hi.", language="en-us")]


def test_plain_text_is_read_as_one_segment():
    assert parse_ssml("Fish & chips < 5") == [Segment("Fish & chips < 5")]
    assert parse_ssml("") == parse_ssml("<speak> </speak>") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("<speak>Hi</speak>", True), ('  <?xml version="1.0"?><speak>Hi</speak>', True),
     ("Hello <b>there</b>", False), ("5 < 6", False)],
)
def test_is_ssml(text, expected):
    assert is_ssml(text) is expected


# --------------------------------------------------------------------------------------------
# break


@pytest.mark.parametrize(
    ("attributes", "seconds"),
    [('time="500ms"', 0.5), ('time="1s"', 1.0), ('time="1.5s"', 1.5), ('time="250 ms"', 0.25),
     ('time="60s"', 10.0),  # capped
     ('strength="none"', 0.0), ('strength="x-weak"', 0.25), ('strength="weak"', 0.5),
     ('strength="medium"', 0.75), ('strength="strong"', 1.0), ('strength="x-strong"', 1.25),
     ("", 0.75), ('strength="weak" time="2s"', 2.0)],
)
def test_a_break_is_a_pause_of_the_requested_length_after_the_text_before_it(attributes,
                                                                              seconds):
    segments = parse_ssml(f"<speak>One <break {attributes}/> two</speak>")
    assert segments == [Segment("One", pause_after=seconds), Segment("two")]


def test_breaks_add_up_and_a_leading_break_is_an_empty_segment():
    segments = parse_ssml('<speak><break time="1s"/>Hi <break time="200ms"/>'
                          '<break time="300ms"/>there</speak>')
    assert segments == [Segment("", pause_after=1.0), Segment("Hi", pause_after=0.5),
                        Segment("there")]


@pytest.mark.parametrize("attributes", ['time="soon"', 'time="5 min"', 'strength="loud"'])
def test_a_bad_break_is_refused_with_its_position(attributes):
    with pytest.raises(SsmlError, match=r"^SSML: invalid break .* at line 1, column 12$"):
        parse_ssml(f"<speak>Hi. <break {attributes}/></speak>")


# --------------------------------------------------------------------------------------------
# prosody, voice, lang, p, s


@pytest.mark.parametrize(
    ("rate", "factor"),
    [("x-slow", 0.5), ("slow", 0.75), ("medium", 1.0), ("default", 1.0), ("fast", 1.25),
     ("x-fast", 1.5), ("80%", 0.8), ("150%", 1.5), ("+20%", 1.2), ("-20%", 0.8), ("1.2", 1.2),
     ("0.9", 0.9), ("300%", 2.0), ("0.1", 0.5)],  # the last two: clamped to 0.5 .. 2.0
)
def test_prosody_rate(rate, factor):
    segments = parse_ssml(f'<speak><prosody rate="{rate}">Hello</prosody></speak>')
    assert segments == [Segment("Hello", rate=pytest.approx(factor))]


@pytest.mark.parametrize("rate", ["zippy", "-5", "0", "fast!"])
def test_a_bad_rate_is_refused(rate):
    with pytest.raises(SsmlError, match="SSML: invalid prosody rate"):
        parse_ssml(f'<speak><prosody rate="{rate}">Hello</prosody></speak>')


def test_prosody_without_a_rate_and_pitch_or_volume_change_nothing():
    assert parse_ssml('<speak><prosody pitch="high" volume="loud">Hi</prosody></speak>') == [
        Segment("Hi")]


def test_voice_lang_and_prosody_nest_and_each_closes_back_to_its_parent():
    ssml = ('<speak>Start. <voice name="jf_alpha+jm_kumo">Blend <lang xml:lang="fr-FR">'
            'Bonjour <prosody rate="slow">lentement <prosody rate="80%">très</prosody>'
            '</prosody> fin</lang> back</voice> <voice name="af_heart">'
            '<lang xml:lang="ja-JP">こんにちは</lang></voice> End.</speak>')
    assert parse_ssml(ssml) == [
        Segment("Start."),
        Segment("Blend", voice="jf_alpha+jm_kumo"),
        Segment("Bonjour", voice="jf_alpha+jm_kumo", language="fr"),
        Segment("lentement", voice="jf_alpha+jm_kumo", language="fr", rate=0.75),
        Segment("très", voice="jf_alpha+jm_kumo", language="fr", rate=pytest.approx(0.6)),
        Segment("fin", voice="jf_alpha+jm_kumo", language="fr"),
        Segment("back", voice="jf_alpha+jm_kumo"),
        Segment("こんにちは", voice="af_heart", language="ja"),
        Segment("End."),
    ]


@pytest.mark.parametrize(
    ("tag", "language"),
    [("en-GB", "en-gb"), ("en", "en-us"), ("es-MX", "es"), ("pt-BR", "pt-br"), ("it", "it"),
     ("zh-CN", "zh"), ("hi-IN", "hi"), ("de-DE", None)],  # unknown: the surrounding language
)
def test_lang_maps_to_our_language_codes(tag, language):
    assert parse_ssml(f'<speak><lang xml:lang="{tag}">Text</lang></speak>') == [
        Segment("Text", language=language)]


def test_a_voice_without_a_name_keeps_the_voice_and_a_bad_name_is_refused():
    assert parse_ssml('<speak><voice gender="female">Hi</voice></speak>') == [Segment("Hi")]
    with pytest.raises(SsmlError, match="invalid voice name"):
        parse_ssml('<speak><voice name="a b/../c">Hi</voice></speak>')


def test_paragraphs_and_sentences_are_breaks_between_segments():
    ssml = "<speak><p><s>One</s><s>Two</s></p><p>Three</p>Four</speak>"
    assert texts(parse_ssml(ssml)) == ["One", "Two", "Three", "Four"]


# --------------------------------------------------------------------------------------------
# say-as and sub


@pytest.mark.parametrize(
    ("attributes", "content", "spoken"),
    [
        ('interpret-as="characters"', "ABC", "A. B. C."),
        ('interpret-as="spell-out"', "ab12", "A. B. one two"),
        ('interpret-as="cardinal"', "1234", "one thousand two hundred and thirty-four"),
        ('interpret-as="number"', "-3.5", "minus three point five"),
        ('interpret-as="ordinal"', "3", "third"),
        ('interpret-as="ordinal"', "21st", "twenty-first"),
        ('interpret-as="date" format="mdy"', "03/15/2024", "March fifteenth, twenty twenty-four"),
        ('interpret-as="date" format="dmy"', "15.03.2024", "March fifteenth, twenty twenty-four"),
        ('interpret-as="date" format="ymd"', "2024-03-15", "March fifteenth, twenty twenty-four"),
        ('interpret-as="date"', "2024-03-15", "March fifteenth, twenty twenty-four"),
        ('interpret-as="date" format="md"', "3/15", "March fifteenth"),
        ('interpret-as="date" format="my"', "3/2024", "March twenty twenty-four"),
        ('interpret-as="date" format="y"', "1999", "nineteen ninety-nine"),
        ('interpret-as="time"', "7:30", "seven thirty"),
        ('interpret-as="time"', "7:30pm", "seven thirty p.m."),
        ('interpret-as="time"', "19:05", "nineteen oh five"),
        ('interpret-as="time" format="hms24"', "1930", "nineteen thirty"),
        ('interpret-as="telephone"', "555-1234", "five five five, one two three four"),
        ('interpret-as="telephone"', "+1 (555) 123-4567",
         "plus one, five five five, one two three, four five six seven"),
        ('interpret-as="unknown-kind"', "5 km", "five kilometers"),
    ],
)
def test_say_as_is_expanded_to_speakable_text(attributes, content, spoken):
    segments = parse_ssml(f"<speak><say-as {attributes}>{content}</say-as></speak>")
    assert texts(segments) == [spoken]


@pytest.mark.parametrize(
    ("language", "content", "attributes", "spoken"),
    [
        ("fr-FR", "15/03/2024", 'interpret-as="date"', "quinze mars deux mille vingt-quatre"),
        ("fr-FR", "19:45", 'interpret-as="time"', "dix-neuf heures quarante-cinq"),
        ("es-ES", "1", 'interpret-as="ordinal"', "primero"),
        ("es-ES", "21", 'interpret-as="cardinal"', "veintiuno"),
        ("it-IT", "07:30", 'interpret-as="time"', "sette e trenta"),
        ("pt-BR", "2024-03-15", 'interpret-as="date"', "quinze de março de dois mil e vinte "
                                                        "e quatro"),
        ("ja-JP", "555-1234", 'interpret-as="telephone"', "5 5 5, 1 2 3 4"),
    ],
)
def test_say_as_reads_in_the_surrounding_language(language, content, attributes, spoken):
    ssml = (f'<speak><lang xml:lang="{language}"><say-as {attributes}>{content}</say-as>'
            "</lang></speak>")
    assert texts(parse_ssml(ssml)) == [spoken]


def test_say_as_uses_the_callers_language_outside_any_lang():
    ssml = '<speak><say-as interpret-as="cardinal">21</say-as></speak>'
    assert texts(parse_ssml(ssml, language="fr")) == ["vingt et un"]


def test_say_as_inside_a_sentence_keeps_the_sentence_together():
    ssml = ('<speak>Your code is <say-as interpret-as="characters">XK7</say-as>, '
            'call <say-as interpret-as="telephone">555-1234</say-as>.</speak>')
    assert texts(parse_ssml(ssml)) == [
        "Your code is X. K. seven, call five five five, one two three four."]


def test_sub_reads_its_alias_instead_of_its_text():
    ssml = '<speak><sub alias="World Wide Web Consortium">W3C</sub> and <sub>NASA</sub></speak>'
    assert texts(parse_ssml(ssml)) == ["World Wide Web Consortium and NASA"]


def test_markup_inside_say_as_is_read_as_its_text():
    ssml = '<speak><say-as interpret-as="characters">A<emphasis>B</emphasis></say-as></speak>'
    assert texts(parse_ssml(ssml)) == ["A. B."]


# --------------------------------------------------------------------------------------------
# unknown tags and malformed input


def test_unknown_tags_are_read_as_their_text():
    ssml = ('<speak><emphasis level="strong">Very</emphasis> <audio src="http://x/a.wav">'
            'fallback</audio> <mark name="m1"/><token role="x">tomato</token> '
            "<foo:bar xmlns:foo='urn:x'>ok</foo:bar></speak>")
    assert texts(parse_ssml(ssml)) == ["Very fallback tomato ok"]


def test_predefined_and_numeric_character_references_are_fine():
    assert texts(parse_ssml("<speak>a &lt; b &amp; c &#233;&#x20AC;</speak>")) == [
        "a < b & c é€"]


@pytest.mark.parametrize(
    ("ssml", "message"),
    [
        ("<speak>Hello <b>world</speak>", "SSML: mismatched tag at line 1, column 24"),
        ("<speak>Hello", "SSML: no element found at line 1, column 13"),
        ("<speak>\n  <break time=500ms/>\n</speak>", "SSML: not well-formed (invalid token) at "
                                                    "line 2, column 15"),
        ("<speak>&nbsp;</speak>", "SSML: undefined entity at line 1, column 8"),
        ("<speak>a</speak><speak>b</speak>", "SSML: junk after document element at line 1, "
                                             "column 17"),
    ],
)
def test_malformed_ssml_is_refused_with_a_message_for_the_client(ssml, message):
    with pytest.raises(SsmlError) as err:
        parse_ssml(ssml)
    assert str(err.value) == message


# --------------------------------------------------------------------------------------------
# hostile input

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<speak>&lol9;</speak>"""


@pytest.mark.parametrize(
    "ssml",
    [
        BILLION_LAUGHS,
        '<!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><speak>&xxe;</speak>',
        '<!DOCTYPE speak [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/x">]><speak>&xxe;</speak>',
        '<!DOCTYPE speak [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p.dtd"> %p;]><speak/>',
        '<!DOCTYPE speak SYSTEM "http://127.0.0.1:1/speak.dtd"><speak>x</speak>',
        "<!DOCTYPE speak><speak>x</speak>",
    ],
    ids=["billion-laughs", "external-file", "external-url", "parameter-entity",
         "external-dtd", "any-doctype"],
)
def test_dtds_and_entities_are_refused_before_anything_expands_or_is_fetched(ssml):
    with pytest.raises(SsmlError, match="SSML: document type declarations"):
        parse_ssml(ssml)


def test_deep_nesting_is_refused():
    depth = 10_000
    ssml = "<speak>" + "<s>" * depth + "deep" + "</s>" * depth + "</speak>"
    with pytest.raises(SsmlError, match="nested deeper than 32 levels at line 1, column"):
        parse_ssml(ssml)
    ok = "<speak>" + "<s>" * 30 + "fine" + "</s>" * 30 + "</speak>"
    assert texts(parse_ssml(ok)) == ["fine"]


def test_a_megabyte_of_input_is_refused_without_parsing_it():
    ssml = "<speak>" + "word " * 200_000 + "</speak>"
    assert len(ssml) > 1_000_000
    with pytest.raises(SsmlError, match=f"longer than {MAX_CHARS} characters"):
        parse_ssml(ssml)


def test_lots_of_breaks_cannot_ask_for_unbounded_silence():
    ssml = "<speak>Hi" + '<break time="10s"/>' * 1000 + "</speak>"
    assert parse_ssml(ssml) == [Segment("Hi", pause_after=10.0)]
