"""Phonemes written in requests: inline [word](/phonemes/), SSML <phoneme>, IPA -> Kokoro, the
pipeline that hands them to G2P untouched, and the preview; bad and hostile input."""

from __future__ import annotations

import pytest

from wyoming_kokoro.text.inline import find_inline, strip_inline
from wyoming_kokoro.text.normalize import NormalizeOptions
from wyoming_kokoro.text.phonemes import PhonemeError, check_phonemes, ipa_to_kokoro
from wyoming_kokoro.text.pipeline import preview, read, to_phonemes
from wyoming_kokoro.text.pronunciations import Pronunciations
from wyoming_kokoro.text.ssml import SsmlError, parse_ssml

from .support.kokoro_vocab import VOCAB

OPTIONS = NormalizeOptions()
NO_MARKDOWN = NormalizeOptions(markdown=False)
EMPTY = Pronunciations.compile({}, VOCAB)  # what the service holds with no entries


class Echo:
    """A G2P stand-in that records what it is asked to read and returns it in angle brackets."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, language: str, text: str) -> str:
        self.calls.append((language, text))
        return f"<{text}>"


def spans(text: str) -> list[tuple[str, str]]:
    return [(s.text, s.phonemes) for s in find_inline(text, VOCAB)]


# --------------------------------------------------------------------------------------------
# What counts as inline phonemes


def test_inline_phonemes_are_found_and_links_are_left_to_the_markdown_stripper():
    text = ("[Kokoro](/kˈOkəɹO/) and [Home Assistant](/hˈOm ɐsˈɪstᵊnt/), [docs](https://x.org), "
            "[Settings](/config/), [Entities](/config/entities_list/), [API](/api_v2/)")
    assert spans(text) == [("Kokoro", "kˈOkəɹO"), ("Home Assistant", "hˈOm ɐsˈɪstᵊnt")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[Kokoro](/kˈOkəʉ/)", "inline phonemes for 'Kokoro': phoneme 'ʉ' (U+0289) is not in "
                               "the model's vocabulary"),
        ("[a](/" + "ə" * 511 + "/)", "inline phonemes for 'a': 511 phonemes; the model reads "
                                    "at most 510"),
        ("[Hi](/hˈI!/)", "'!' is punctuation, not a phoneme"),
    ],
)
def test_bad_inline_phonemes_get_a_clear_error(text, message):
    with pytest.raises(PhonemeError) as err:
        find_inline(text, VOCAB)
    assert message in str(err.value)
    with pytest.raises(PhonemeError):  # and the same from the pipeline the service calls
        to_phonemes(Echo(), "en-us", f"Say {text} now.", OPTIONS, EMPTY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[a [b](/bˈi/)", [("b", "bˈi")]),  # nested: the inner, complete one
        ("[a](/bˈi/", []),  # unclosed
        ("[a](bˈi/)", []),  # no leading slash
        ("[](/bˈi/)", []),  # nothing between the brackets: as misaki and the link rule
        ("[ ](/bˈi/)", []),
        ("[a]\n(/bˈi/)", []),
        ("[a](/b/i/)", []),  # a path
    ],
)
def test_unbalanced_or_nested_brackets_are_read_as_plain_text(text, expected):
    assert spans(text) == expected
    for options in (OPTIONS, NO_MARKDOWN):
        g2p = Echo()
        to_phonemes(g2p, "en-us", text, options, EMPTY)  # no error: read as written
        given = "".join(t for _, t in g2p.calls)  # misaki sees only our spans as links
        assert given.count("[") == given.count("](/") == len(expected)


@pytest.mark.timeout(60)  # a backtracking pattern would take hours on these
@pytest.mark.parametrize(
    "text",
    ["[" * 10_000, "[a](/" * 10_000, "](/" * 10_000, "[" + "a" * 100_000,
     "[a](/" + "ə" * 100_000, "[" * 5_000 + "a](/bˈi/)" + ")" * 5_000,
     "[a](/bˈi/) " * 10_000],
)
def test_hostile_bracket_runs_are_scanned_in_one_pass(text):
    found = find_inline(text, VOCAB)
    assert len(found) <= 10_000
    phonemes = to_phonemes(lambda language, t: t[:50], "es", text, OPTIONS, EMPTY)
    assert isinstance(phonemes, str)


# --------------------------------------------------------------------------------------------
# Through the pipeline


def test_no_rule_touches_inline_phonemes_and_english_g2p_gets_them_in_misaki_form():
    g2p = Echo()
    phonemes = to_phonemes(g2p, "en-us", "It is [22°C](/tˈu/) **now**, see [docs](https://x.org).",
                           OPTIONS, EMPTY)
    assert g2p.calls == [("en-us", "It is [22°C](/tˈu/) now, see docs.")]
    assert phonemes == "<It is [22°C](/tˈu/) now, see docs.>"


def test_other_languages_get_the_plain_stretches_and_the_phonemes_in_between():
    g2p = Echo()
    phonemes = to_phonemes(g2p, "fr", "Il fait [22°C](/vɛ̃ də/) à 7:30.", OPTIONS, EMPTY)
    assert [text for _, text in g2p.calls] == ["Il fait ", " à sept heures trente."]
    assert phonemes == "<Il fait > vɛ̃ də < à sept heures trente.>"


def test_inline_phonemes_off_reads_the_word_even_without_the_markdown_stripper():
    for options in (OPTIONS, NO_MARKDOWN):
        g2p = Echo()
        to_phonemes(g2p, "en-us", "Hello [Kokoro](/kˈOkəɹO/).", options, EMPTY, inline=False)
        assert g2p.calls == [("en-us", "Hello Kokoro.")]


def test_a_link_left_in_the_text_is_not_taken_for_phonemes_by_misaki():
    g2p = Echo()  # markdown off: the link stays, but misaki must not read /config/ as phonemes
    to_phonemes(g2p, "en-us", "Open [Settings](/config/).", NO_MARKDOWN, EMPTY)
    assert g2p.calls == [("en-us", "Open Settings (/config/).")]


def test_lexicon_phonemes_and_respellings_reach_g2p_in_place():
    lex = Pronunciations.compile({"en-us": {"Blorptastic": "/bənˈænə/", "Ecobee": "ee-co-bee"},
                                  "all": {"Siobhan": "/ʃɪvˈɔn/"}}, VOCAB)
    g2p = Echo()
    reading = read(g2p, "en-us", "Siobhan's Ecobee has a Blorptastic.", OPTIONS, lex)
    assert g2p.calls == [("en-us", "[Siobhan's](/ʃɪvˈɔnz/) ee-co-bee has a "
                                   "[Blorptastic](/bənˈænə/).")]
    assert [(h.source, h.text, h.phonemes, h.respelling) for h in reading.hits] == [
        ("lexicon", "Siobhan's", "ʃɪvˈɔnz", None), ("lexicon", "Ecobee", None, "ee-co-bee"),
        ("lexicon", "Blorptastic", "bənˈænə", None)]
    for hit in reading.hits:
        assert reading.normalized[hit.start:hit.end] == hit.text
    g2p = Echo()
    assert to_phonemes(g2p, "es", "Siobhan y Blorptastic.", OPTIONS, lex) == \
        "ʃɪvˈɔn < y Blorptastic.>"


def test_the_preview_shows_each_sentence_its_language_and_what_was_matched():
    lex = Pronunciations.compile({"en-us": {"Dr. Who": "/dˈɑktəɹ hˈu/"}}, VOCAB)
    readings = preview(Echo(), "Dr. Who is at 7:30. [Kokoro](/kˈOkəɹO/) speaks! 東京です。",
                       "ja", "en-us", lambda language: OPTIONS, lex)
    assert [r.as_dict() for r in readings] == [
        {"text": "Dr. Who is at 7:30.", "language": "en-us",
         "normalized": "Doctor Who is at seven thirty.",
         "phonemes": "<[Doctor Who](/dˈɑktəɹ hˈu/) is at seven thirty.>",
         "hits": [{"source": "lexicon", "text": "Doctor Who", "start": 0, "end": 10,
                   "scope": "en-us", "key": "Dr. Who", "value": "/dˈɑktəɹ hˈu/",
                   "phonemes": "dˈɑktəɹ hˈu"}]},
        {"text": "[Kokoro](/kˈOkəɹO/) speaks!", "language": "en-us",
         "normalized": "Kokoro speaks!", "phonemes": "<[Kokoro](/kˈOkəɹO/) speaks!>",
         "hits": [{"source": "inline", "text": "Kokoro", "start": 0, "end": 6,
                   "phonemes": "kˈOkəɹO"}]},
        {"text": "東京です。", "language": "ja", "normalized": "東京です。",
         "phonemes": "<東京です。>", "hits": []},
    ]


def test_private_use_characters_in_the_text_cannot_pose_as_inline_phonemes():
    g2p = Echo()
    to_phonemes(g2p, "en-us", "a\U000f0000b [x](/ˈA/)", OPTIONS, EMPTY)
    assert g2p.calls == [("en-us", "ab [x](/ˈA/)")]


# --------------------------------------------------------------------------------------------
# SSML <phoneme>


def test_ssml_phoneme_in_ipa_or_kokoro_becomes_inline_phonemes():
    segments = parse_ssml(
        '<speak>A <phoneme alphabet="ipa" ph="bəˈnɑːnə">Blorp</phoneme>, a <phoneme '
        'alphabet="kokoro" ph="bənˈænə">Zorp</phoneme> and <phoneme ph="t͡ʃiːz">cheese</phoneme>'
        '.</speak>', "en-us", vocab=VOCAB)
    assert [s.text for s in segments] == [
        "A [Blorp](/bənˈɑnə/), a [Zorp](/bənˈænə/) and [cheese](/ʧiz/)."]
    assert spans(segments[0].text) == [("Blorp", "bənˈɑnə"), ("Zorp", "bənˈænə"),
                                       ("cheese", "ʧiz")]


@pytest.mark.parametrize(
    ("ssml", "message"),
    [
        ('<phoneme alphabet="x-sampa" ph="b@">Blorp</phoneme>',
         'unknown phoneme alphabet "x-sampa" (use ipa or kokoro)'),
        ('<phoneme ph="bəˈnænəʉ">Blorp</phoneme>',
         "phoneme 'ʉ' (U+0289) is not in the model's vocabulary"),
        ('<phoneme alphabet="kokoro" ph="bənˈæ,nə">Blorp</phoneme>',
         "',' is punctuation, not a phoneme"),
        ("<phoneme>Blorp</phoneme>", "phoneme needs a ph attribute"),
        ("Say [a](/ʉ/) now", "inline phonemes for 'a': phoneme 'ʉ'"),
    ],
)
def test_bad_ssml_phonemes_are_an_ssml_error(ssml, message):
    with pytest.raises(SsmlError) as err:
        parse_ssml(f"<speak>{ssml}</speak>", "en-us", vocab=VOCAB)
    assert message in str(err.value) and "at line 1" in str(err.value)


def test_with_inline_phonemes_off_ssml_text_markup_is_read_as_its_word_but_phoneme_works():
    segments = parse_ssml('<speak>Hi [Kokoro](/kˈOkəɹO/) and <phoneme alphabet="kokoro" '
                          'ph="bənˈænə">Blorp</phoneme></speak>', vocab=VOCAB,
                          inline_phonemes=False)
    assert [s.text for s in segments] == ["Hi Kokoro and [Blorp](/bənˈænə/)"]
    assert strip_inline("Hi [Kokoro](/kˈOkəɹO/) [docs](/config/)", VOCAB) == \
        "Hi Kokoro [docs](/config/)"


# --------------------------------------------------------------------------------------------
# IPA -> Kokoro


@pytest.mark.parametrize(
    ("ipa", "language", "kokoro"),
    [
        ("ʃɪˈvɔːn", "en-us", "ʃɪvˈɔn"),  # stress before the vowel, no length in US English
        ("ʃɪˈvɔːn", "en-gb", "ʃɪvˈɔːn"),
        ("ˈhoʊm əˈsɪstənt", "en-us", "hˈOm əsˈɪstənt"),
        ("ɡəʊ", "en-gb", "ɡQ"),
        ("ɡoʊ", "en-us", "ɡO"),
        ("ˈstreɪndʒ", "en-us", "stɹˈAnʤ"),
        ("t͡ʃaɪ", "en-us", "ʧI"),
        ("ˈbʌtɚ", "en-us", "bˈʌtəɹ"),
        ("bɜːd", "en-us", "bɜɹd"),
        ("haʊ bɔɪ", "en-us", "hW bY"),
        ("ˈsiː.oʊ", "en-us", "sˈiO"),  # syllable dots are not spoken
        ("gɪv", "en-us", "ɡɪv"),  # an ASCII g
        ("ˈpit͡sa", "it", "pˈiʦa"),
        ("ˈpitsa", "it", "pˈitsa"),  # untied: two sounds
        ("ʁəˈɡaʁ", "fr", "ʁəɡˈaʁ"),
        ("ˈpeɾo", "es", "pˈeɾo"),  # the Spanish r stays
    ],
)
def test_ipa_is_written_in_kokoro_symbols(ipa, language, kokoro):
    converted = ipa_to_kokoro(ipa, language)
    assert converted == kokoro
    assert check_phonemes(converted, VOCAB, "x") == kokoro
