"""Audio is speech, not noise: synthesize English, transcribe it with Whisper, count word errors."""

from __future__ import annotations

import asyncio

import pytest

from wyoming_kokoro.client import synthesize

from .asr import corpus_word_error_rate, word_error_rate

SENTENCES = [
    "The living room lights are now turned off.",
    "Tomorrow will be cloudy with a chance of rain in the afternoon.",
    "Your timer for the pasta has finished.",
    "I have added milk and bread to your shopping list.",
    "Turning on the lights in the living room.",
    "The dishwasher will be done in about twenty minutes.",
    "Your package from the hardware store is out for delivery.",
    "Playing your morning playlist on the office speaker.",
]


@pytest.mark.parametrize("stream", [False, True], ids=["synthesize", "streaming"])
def test_english_from_the_embedded_japanese_voices_is_intelligible(server, whisper, stream):
    transcripts = []
    for i, sentence in enumerate(SENTENCES):
        voice = ["jf_alpha", "jm_kumo"][i % 2]
        speech = asyncio.run(synthesize(server.uri, sentence, voice=voice, stream=stream))
        assert speech.error is None, speech.error
        transcripts.append((sentence, whisper(speech.pcm, speech.rate)))
    assert corpus_word_error_rate(transcripts) <= 0.10, transcripts


def test_word_error_rate_is_not_fooled_by_silence_or_the_wrong_words(whisper):
    silence = bytes(24000 * 2 * 2)
    assert word_error_rate(SENTENCES[0], whisper(silence, 24000)) >= 0.9
    assert word_error_rate(SENTENCES[0], SENTENCES[2]) > 0.5
