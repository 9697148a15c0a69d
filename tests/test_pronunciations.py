"""The pronunciation lexicon: what matches where, what wins, what is refused, the fingerprint."""

from __future__ import annotations

import random
import string

import pytest

from wyoming_kokoro.config import ConfigError, load_config
from wyoming_kokoro.text.normalize import NormalizeOptions
from wyoming_kokoro.text.pipeline import read
from wyoming_kokoro.text.pronunciations import (
    MAX_ENTRIES,
    PronunciationError,
    Pronunciations,
)

from .support.kokoro_vocab import VOCAB

OPTIONS = NormalizeOptions()


def lexicon(**scopes: dict[str, str]) -> Pronunciations:
    """Pronunciations.compile with scopes as keywords: en_us= for en-us, all= for all."""
    return Pronunciations.compile({k.replace("_", "-"): v for k, v in scopes.items()}, VOCAB)


def found(lex: Pronunciations, text: str, language: str = "en-us",
          options: NormalizeOptions = OPTIONS) -> list[tuple[str, str]]:
    """(matched text, key) for each match in ``text`` (taken as already normalized)."""
    return [(text[m.start:m.end], m.entry.key) for m in lex.matches(text, language, options)]


# --------------------------------------------------------------------------------------------
# Matching


def test_keys_match_whole_words_only_and_ignore_case():
    lex = lexicon(en_us={"Blorp": "/blˈɔɹp/"})
    assert found(lex, "BLORP and blorp and Blorp") == [("BLORP", "Blorp"), ("blorp", "Blorp"),
                                                       ("Blorp", "Blorp")]
    assert found(lex, "Blorpy, reblorp, blorp2 and Blorp'd") == []


def test_punctuation_and_brackets_next_to_a_word_do_not_stop_a_match():
    lex = lexicon(en_us={"Siobhan": "/ʃɪvˈɔn/"})
    text = "(Siobhan), “Siobhan!” -Siobhan- Siobhan."
    assert [m[0] for m in found(lex, text)] == ["Siobhan"] * 4


def test_a_possessive_after_the_key_still_matches():
    lex = lexicon(en_us={"Siobhan": "/ʃɪvˈɔn/"})
    assert found(lex, "Siobhan's phone and Siobhan’s keys") == [("Siobhan", "Siobhan")] * 2


def test_the_longest_entry_wins_where_entries_overlap():
    lex = lexicon(en_us={"Home": "/hˈOm/", "Home Assistant": "/hˈOm ɐsˈɪstᵊnt/",
                         "Assistant Pro": "/ɐsˈɪstᵊnt pɹˈO/"})
    assert found(lex, "Home Assistant is at home.") == [("Home Assistant", "Home Assistant"),
                                                        ("home", "Home")]
    # left to right: the phrase starting first is taken, the overlapping one is not
    assert found(lex, "Home Assistant Pro") == [("Home Assistant", "Home Assistant")]
    assert found(lex, "my Assistant Pro") == [("Assistant Pro", "Assistant Pro")]


def test_a_phrase_needs_its_own_separators_between_its_words():
    lex = lexicon(en_us={"Home Assistant": "/hˈOm ɐsˈɪstᵊnt/", "Wi-Fi": "/wˈI fˈI/"})
    assert found(lex, "Home   Assistant") == [("Home   Assistant", "Home Assistant")]
    assert found(lex, "Home, Assistant") == []
    assert found(lex, "Home-Assistant") == []
    assert found(lex, "the Wi-Fi is down") == [("Wi-Fi", "Wi-Fi")]
    assert found(lex, "the Wi Fi is down") == []


def test_an_entry_for_all_applies_to_every_language_and_the_language_own_entry_wins():
    lex = lexicon(all={"Tado": "/tˈɑdO/", "Nguyen": "/wˈɪn/"}, fr={"Tado": "/tadˈo/"},
                  en_us={"Nguyen Van": "/wˈɪn vˈæn/"})
    for language in ("en-us", "es", "ja"):
        assert found(lex, "Tado", language) == [("Tado", "Tado")]
        assert lex.matches("Tado", language, OPTIONS)[0].entry.scope == "all"
    assert lex.matches("Tado", "fr", OPTIONS)[0].entry.value == "/tadˈo/"
    # a longer match wins whichever scope it comes from
    assert found(lex, "Nguyen Van", "en-us") == [("Nguyen Van", "Nguyen Van")]
    assert found(lex, "Nguyen Van", "fr") == [("Nguyen", "Nguyen")]


def test_keys_are_matched_after_normalization_like_the_text():
    lex = lexicon(en_us={"Dr. Who": "/dˈɑktəɹ hˈu/", "Smith vs Jones": "/smˈɪθ ʤˈOnz/",
                         "R2D2": "/ˈɑɹtu dˈitu/"})
    reading = read(_Echo(), "en-us", "Dr. Who met Smith vs Jones and R2D2.", OPTIONS, lex)
    assert reading.normalized.startswith("Doctor Who met Smith versus Jones")
    assert [h.entry.key for h in reading.hits] == ["Dr. Who", "Smith vs Jones", "R2D2"]
    # with normalization off, the key is matched as written
    raw = NormalizeOptions(enabled=False)
    assert found(lex, "Dr. Who is here", options=raw) == [("Dr. Who", "Dr. Who")]


def test_keys_match_inside_japanese_and_chinese_runs():
    lex = lexicon(ja={"東京": "/toːkʲoː/"}, zh={"北京": "/pei tɕiŋ/"})
    assert found(lex, "明日東京に行きます", "ja") == [("東京", "東京")]
    assert found(lex, "我在北京工作", "zh") == [("北京", "北京")]


def test_a_lexicon_of_100000_entries_matches_100000_characters_of_text():
    rng = random.Random(15)

    def word() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 9)))

    entries = {}
    while len(entries) < 100_000:
        key = word().capitalize() + (" " + word() if rng.random() < 0.3 else "")
        entries[key] = "/bənˈænə/" if rng.random() < 0.7 else "bananna"
    lex = lexicon(all=entries)
    keys = list(entries)
    planted, words = [], []
    while sum(len(w) + 1 for w in words) < 100_000:
        if rng.random() < 0.1:
            planted.append(rng.choice(keys))
            words.append(planted[-1])
        else:
            words.append("Z" + word())  # never a key: keys start with a lower-case letter
    text = " ".join(words)
    assert [key for _, key in found(lex, text)] == planted
    reading = read(_Echo(), "en-us", text, OPTIONS, lex)  # the whole way: normalize, match
    assert [hit.entry.key for hit in reading.hits] == planted


# --------------------------------------------------------------------------------------------
# Refused entries (the running config keeps serving: a reload checks first)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/ʃɪvˈɔnʉ/", "pronunciations.en-us.Siobhan: phoneme 'ʉ' (U+0289) is not in the "
                      "model's vocabulary"),
        ("/ʃɪvˈɔng/", "phoneme 'g' (U+0067) is not in the model's vocabulary (did you mean "
                      "ɡ (U+0261)?)"),
        ("/ʃɪv, ɔn/", "pronunciations.en-us.Siobhan: ',' is punctuation, not a phoneme"),
        ("/ʃɪvˈɔn", "pronunciations.en-us.Siobhan: phonemes are written between two slashes"),
        ("ʃɪvˈɔn/", "phonemes are written between two slashes"),
        ("/ʃɪv/ɔn/", "with no slash inside"),
        ("/ /", "no phonemes between the slashes"),
        ("/" + "ə" * 511 + "/", "511 phonemes; the model reads at most 510"),
        ("x" * 201, "a respelling is at most 200 characters"),
        ("!!!", "a respelling must be words"),
        ("", "must be /phonemes/ or a respelling"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_entry_and_the_reason(value, message):
    with pytest.raises(PronunciationError) as err:
        lexicon(en_us={"Home": "/hˈOm/", "Siobhan": value})
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("x" * 101, "a key is at most 100 characters"),
        ("!!!", "a key must be a word or phrase"),
        ("two\nlines", "a key must be a word or phrase on one line"),
        (" ".join(["a"] * 17), "a key is at most 16 words"),
        ("SIOBHAN", "pronunciations.en-us.SIOBHAN: the same key as 'Siobhan'"),
    ],
)
def test_a_bad_key_is_refused(key, message):
    with pytest.raises(PronunciationError) as err:
        lexicon(en_us={"Siobhan": "/ʃɪvˈɔn/", key: "/hˈOm/"})
    assert message in str(err.value)


def test_a_precomposed_letter_the_vocabulary_holds_as_letter_and_mark_is_accepted():
    lex = lexicon(pt_br={"Bom": "/bõ/"})  # õ (U+00F5) -> o + U+0303, both in the vocabulary
    assert lex.entries[0].phonemes == "bo\u0303"


def test_more_entries_than_the_limit_are_refused():
    with pytest.raises(PronunciationError, match=f"more than {MAX_ENTRIES} entries"):
        Pronunciations.compile({"all": dict.fromkeys(map(str, range(MAX_ENTRIES + 1)), "x")})


def test_the_config_file_refuses_a_malformed_lexicon_naming_the_key(tmp_path):
    cases = {
        "pronunciations:\n  en:\n    Siobhan: /ʃɪvˈɔn/\n":
            "pronunciations.en: unknown key; must be one of en-us",
        "pronunciations:\n  en-us:\n    Siobhan: 5\n":
            "pronunciations.en-us.Siobhan: must be text, got 5",
        "pronunciations:\n  en-us:\n    Siobhan: /ʃɪvˈɔn\n":
            "pronunciations.en-us.Siobhan: phonemes are written between two slashes",
        "pronunciations:\n  all: [Siobhan]\n": "pronunciations.all: must be a mapping",
        "text:\n  inline_phonemes: sometimes\n": "text.inline_phonemes: must be true or false",
    }
    for yaml_text, message in cases.items():
        path = tmp_path / "config.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_config(path)
        assert message in str(err.value)


def test_the_config_file_takes_a_lexicon_in_every_form(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("pronunciations:\n  en-us:\n    Siobhan: /ʃɪvˈɔn/\n    Ecobee: ee-co-bee\n"
                    "    \"Home Assistant\": /hˈOm ɐsˈɪstᵊnt/\n  all:\n    Tado: /tˈɑdO/\n"
                    "text:\n  inline_phonemes: false\n", encoding="utf-8")
    config = load_config(path)
    assert config.text.inline_phonemes is False
    lex = Pronunciations.compile(config.pronunciations, VOCAB)
    assert {e.key: (e.phonemes, e.respelling) for e in lex.entries} == {
        "Siobhan": ("ʃɪvˈɔn", None), "Ecobee": (None, "ee-co-bee"),
        "Home Assistant": ("hˈOm ɐsˈɪstᵊnt", None), "Tado": ("tˈɑdO", None)}


# --------------------------------------------------------------------------------------------
# Fingerprint (part of the phoneme cache key)


def test_the_fingerprint_follows_the_entries():
    base = {"en-us": {"Siobhan": "/ʃɪvˈɔn/", "Ecobee": "ee-co-bee"}}
    first = Pronunciations.compile(base, VOCAB).fingerprint
    assert Pronunciations.compile(base, VOCAB).fingerprint == first
    changed = [
        {"en-us": {"Siobhan": "/ʃɪvˈɔːn/", "Ecobee": "ee-co-bee"}},  # a value
        {"en-us": {"Siobhan": "/ʃɪvˈɔn/", "Ecobe": "ee-co-bee"}},  # a key
        {"en-gb": {"Siobhan": "/ʃɪvˈɔn/", "Ecobee": "ee-co-bee"}},  # a scope
        {"en-us": {"Siobhan": "/ʃɪvˈɔn/"}},  # one entry less
        {},
    ]
    prints = {Pronunciations.compile(c, VOCAB).fingerprint for c in changed}
    assert first not in prints and len(prints) == len(changed)


class _Echo:
    """A G2P stand-in: returns what it was given, in angle brackets."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, language: str, text: str) -> str:
        self.calls.append((language, text))
        return f"<{text}>"
