"""Said as the user asked: an invented word given a real word's sound is heard as that word.

In process, with the real pipeline, model and Whisper: text -> text.pipeline.to_phonemes ->
KokoroModel.infer -> Whisper. "Blorptastic" is no English word; given the phonemes of "banana"
(as misaki reads it), through each of the four ways of saying so, Whisper must hear "banana".
"""

from __future__ import annotations

import numpy as np
import pytest

from wyoming_kokoro.model.kokoro import ModelSpec, load_model
from wyoming_kokoro.text.g2p import G2P
from wyoming_kokoro.text.normalize import NormalizeOptions
from wyoming_kokoro.text.pipeline import to_phonemes
from wyoming_kokoro.text.pronunciations import Pronunciations
from wyoming_kokoro.text.ssml import parse_ssml

from .asr import normalize

OPTIONS = NormalizeOptions()
WORD = "Blorptastic"
SENTENCE = "I would like a {}, please."
VOICE = "jf_alpha"


@pytest.fixture(scope="session")
def model():
    model = load_model(ModelSpec(bundle=None, backend="onnx"))
    yield model
    model.close()


@pytest.fixture(scope="session")
def g2p() -> G2P:
    return G2P()


@pytest.fixture(scope="session")
def banana(g2p) -> str:
    return g2p("en-us", "banana")


@pytest.fixture(scope="session")
def heard(model, g2p, whisper):
    """What Whisper hears when ``text`` is read with ``pronunciations`` (plain text or SSML)."""

    def hear(text: str, pronunciations: Pronunciations | None = None) -> str:
        pronunciations = pronunciations or Pronunciations.compile({}, model.vocab)
        if text.startswith("<speak"):
            [segment] = parse_ssml(text, "en-us", vocab=model.vocab)
            text = segment.text
        phonemes = to_phonemes(g2p, "en-us", text, OPTIONS, pronunciations)
        samples = model.infer(phonemes, model.voices[VOICE], 1.0)
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        return normalize(whisper(pcm, model.sample_rate))

    return hear


def test_without_an_entry_the_invented_word_is_not_heard_as_banana(heard):
    assert "banana" not in heard(SENTENCE.format(WORD))


def test_a_lexicon_entry_with_phonemes_is_heard(heard, model, banana):
    lexicon = Pronunciations.compile({"en-us": {WORD: f"/{banana}/"}}, model.vocab)
    assert "banana" in heard(SENTENCE.format(WORD), lexicon)


def test_a_lexicon_entry_for_all_languages_with_a_respelling_is_heard(heard, model):
    lexicon = Pronunciations.compile({"all": {"Zindlewup": "bananna"}}, model.vocab)
    assert "banana" not in heard(SENTENCE.format("Zindlewup"))
    assert "banana" in heard(SENTENCE.format("Zindlewup"), lexicon)


def test_inline_phonemes_are_heard(heard, banana):
    assert "banana" in heard(SENTENCE.format(f"[{WORD}](/{banana}/)"))


@pytest.mark.parametrize(("alphabet", "ph"), [("kokoro", None), ("ipa", "bəˈnɑːnə")])
def test_ssml_phoneme_is_heard(heard, banana, alphabet, ph):
    element = f"<phoneme alphabet='{alphabet}' ph='{ph or banana}'>{WORD}</phoneme>"
    ssml = f"<speak>{SENTENCE.format(element)}</speak>"
    assert "banana" in heard(ssml)
