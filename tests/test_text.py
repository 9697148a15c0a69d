"""Sentence splitting, phoneme budgets and language choice."""

from __future__ import annotations

import pytest

from wyoming_kokoro.text.language import languages_served, parse_language, pick_language
from wyoming_kokoro.text.split import (
    MAX_PHONEMES,
    SentenceSplitter,
    split_head,
    split_phonemes,
    split_sentences,
)


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Hello there. How are you?", ["Hello there.", "How are you?"]),
        ("It is 22.5 degrees. Nice!", ["It is 22.5 degrees.", "Nice!"]),
        ("Dr. Smith lives on Main St. in town.", ["Dr. Smith lives on Main St. in town."]),
        ("Wait... what?! Really.", ["Wait...", "what?!", "Really."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("First line\nSecond line", ["First line", "Second line"]),
        ("- milk\n- bread\n", ["- milk", "- bread"]),
        ("J. R. R. Tolkien wrote it.", ["J. R. R. Tolkien wrote it."]),
        ("こんにちは。元気ですか？はい。", ["こんにちは。", "元気ですか？", "はい。"]),
        ("No punctuation at all", ["No punctuation at all"]),
        ("Emoji only. 🎉🎉. Done.", ["Emoji only. 🎉🎉.", "Done."]),
        ("   ", []),
    ],
)
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


def test_streamed_text_releases_a_sentence_only_once_its_end_is_certain():
    splitter = SentenceSplitter()
    assert splitter.add("It is 3") == []
    assert splitter.add(".") == []  # "3." could still become "3.5"
    assert splitter.add("5 degrees") == []
    assert splitter.add(". The time is 7:") == ["It is 3.5 degrees."]
    assert splitter.add("30 now") == []
    assert splitter.finish() == ["The time is 7:30 now"]
    assert splitter.finish() == []


def test_streamed_word_by_word_gives_the_same_sentences_as_whole_text():
    text = "Okay. The lights are on, and the door is locked! Anything else? Bye."
    splitter = SentenceSplitter()
    out = []
    for word in text.split(" "):
        out += splitter.add(word + " ")
    out += splitter.finish()
    assert out == split_sentences(text)


def test_phoneme_pieces_never_exceed_the_budget_and_prefer_punctuation():
    clause = "ðɪs ɪz ə lˈɔŋ klˈɔz, "
    phonemes = (clause * 40).strip()
    pieces = split_phonemes(phonemes)
    assert len(pieces) > 1
    assert all(len(p) <= MAX_PHONEMES for p in pieces)
    assert all(p.endswith(",") for p in pieces[:-1])
    assert " ".join(pieces).replace(" ", "") == phonemes.replace(" ", "")


def test_phoneme_pieces_fall_back_to_word_boundaries_then_hard_cuts():
    words = ("wˈɜɹd " * 300).strip()
    pieces = split_phonemes(words)
    assert all(len(p) <= MAX_PHONEMES for p in pieces)
    assert all(not p.startswith(" ") and "wˈɜɹd" in p for p in pieces)
    blob = "a" * 1200
    assert [len(p) for p in split_phonemes(blob)] == [510, 510, 180]


def test_short_phonemes_are_one_piece():
    assert split_phonemes("həlˈO.") == ["həlˈO."]
    assert split_phonemes("") == []


@pytest.mark.parametrize(
    ("text", "voice_language", "expected"),
    [
        ("Hello there.", "ja", "en-us"),  # Latin text, Japanese voice: the fallback reads it
        ("こんにちは。", "ja", "ja"),
        ("今日は晴れ。", "ja", "ja"),
        ("今日は Home Assistant です。", "ja", "ja"),
        ("12:30.", "ja", "ja"),  # no letters: the voice's own language
        ("Hola, ¿qué tal?", "es", "es"),
        ("你好。", "en-us", "zh"),
        ("こんにちは", "en-us", "ja"),
        ("नमस्ते", "hi", "hi"),
        ("Hello", "hi", "en-us"),
    ],
)
def test_pick_language(text, voice_language, expected):
    assert pick_language(text, voice_language, "en-us") == expected


def test_languages_served_adds_the_fallback_only_across_scripts():
    assert languages_served("ja", "en-us") == ["ja_JP", "en_US"]
    assert languages_served("en-gb", "en-us") == ["en_GB"]
    assert languages_served("fr", "en-us") == ["fr_FR"]
    assert languages_served("zh", "en-gb") == ["zh_CN", "en_GB"]


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en_US", "en-us"), ("en-GB", "en-gb"), ("en", "en-us"), ("ja_JP", "ja"), ("pt", "pt-br"),
     ("fr-CA", "fr"), ("de_DE", None)],
)
def test_parse_language(tag, code):
    assert parse_language(tag) == code


def test_clauses_are_released_early_in_streaming_mode():
    splitter = SentenceSplitter(clauses=True)
    assert splitter.add("Sure, ") == []  # too short to stand alone
    assert splitter.add("the kitchen lights are on, ") == ["Sure, the kitchen lights are on,"]
    assert splitter.add("and the door is locked. It") == ["and the door is locked."]
    assert splitter.add(" costs 1,000 dollars") == []  # "1,000" is no clause mark
    assert splitter.finish() == ["It costs 1,000 dollars"]


def test_whole_text_keeps_sentences_whole():
    assert split_sentences("Sure, the kitchen lights are on, and the door is locked.") == [
        "Sure, the kitchen lights are on, and the door is locked."]


def test_a_run_on_text_is_cut_at_word_boundaries_below_max_chars():
    words = "lorem ipsum dolor sit amet " * 200  # 5,400 characters, no punctuation
    pieces = split_sentences(words)
    assert len(pieces) > 10
    assert all(len(p) <= 400 for p in pieces)
    assert " ".join(pieces).split() == words.split()


def test_a_run_on_stream_is_cut_without_waiting_for_its_end():
    splitter = SentenceSplitter(clauses=True, max_chars=100)
    out = []
    for _ in range(60):
        out += splitter.add("word ")
    assert out and all(len(p) <= 100 for p in out)
    assert sum(len(p.split()) for p in out + splitter.finish()) == 60


def test_100_000_characters_streamed_word_by_word_stay_bounded():
    splitter = SentenceSplitter()
    out = []
    for _ in range(20_000):
        out += splitter.add("word ")
        assert len(splitter.pending) <= 400
    out += splitter.finish()
    assert all(len(p) <= 400 for p in out)
    assert sum(len(p.split()) for p in out) == 20_000


@pytest.mark.parametrize(
    ("phonemes", "head"),
    [
        ("tˈɜɹnɪŋ ɔn ðə lˈIts |ɪn ðə lˈɪvɪŋ ɹˈum.", "tˈɜɹnɪŋ ɔn ðə lˈIts"),
        ("tˈɜɹnɪŋ ɔn ðə lˈIts ɪn ðə lˈɪvɪŋ ɹˈum.", "tˈɜɹnɪŋ ɔn ðə lˈIts ɪn ðə lˈɪvɪŋ ɹˈum."),
        ("ʃˈʊɹ, ðə kˈɪʧən lˈIts ɑɹ nˈW ˈɔn ænd ðə dˈɔɹ ɪz lˈɑkt.", "ʃˈʊɹ,"),
        ("ʃˈʊɹ θˈIŋ.", "ʃˈʊɹ θˈIŋ."),  # short: not cut
    ],
)
def test_the_first_piece_of_a_reply_is_short(phonemes, head):
    pieces = split_head(phonemes)
    assert pieces[0] == head
    assert " ".join(pieces) == phonemes
