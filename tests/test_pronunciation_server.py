"""Pronunciations through the running server: the lexicon from config.yaml changes what the
Wyoming front end says, /phonemes shows the hit, and a live reload takes the entry back."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from wyoming_kokoro.client import synthesize

from .asr import normalize
from .httpapi import TOKEN, auth, error_of, http_config, wait_http
from .serverproc import free_port

WORD = "Blorptastic"
SENTENCE = f"I would like a {WORD}, please."


@pytest.fixture(scope="module")
def lexicon_server(start_server):
    port = free_port()
    banana = "bənˈænə"  # misaki's "banana"
    server = start_server(config=http_config(
        port, extra=f"pronunciations:\n  en-us:\n    {WORD}: /{banana}/\n"))
    server.http = f"http://127.0.0.1:{port}"
    wait_http(server.http, server)
    server.base_config = server.config_path.read_text(encoding="utf-8").split(
        "pronunciations:")[0]
    return server


def heard(server, whisper, text: str) -> str:
    speech = asyncio.run(synthesize(server.uri, text))
    assert speech.error is None, speech.error
    return normalize(whisper(speech.pcm, speech.rate))


def reload(server, text: str) -> httpx.Response:
    server.config_path.write_text(server.base_config + text, encoding="utf-8")
    return httpx.post(f"{server.http}/reload", headers=auth(TOKEN), timeout=60)


def test_the_lexicon_says_the_word_and_a_reload_takes_it_back(lexicon_server, whisper):
    assert "banana" in heard(lexicon_server, whisper, SENTENCE)
    reading = httpx.get(f"{lexicon_server.http}/phonemes", params={"text": SENTENCE}).json()
    [sentence] = reading["sentences"]
    [hit] = sentence["hits"]
    assert hit["source"] == "lexicon" and hit["key"] == WORD and hit["scope"] == "en-us"
    assert hit["phonemes"] in sentence["phonemes"]
    fingerprint = reading["lexicon"]

    assert reload(lexicon_server, "").status_code == 200  # the entry removed
    assert "banana" not in heard(lexicon_server, whisper, SENTENCE)
    reading = httpx.get(f"{lexicon_server.http}/phonemes", params={"text": SENTENCE}).json()
    assert reading["sentences"][0]["hits"] == [] and reading["lexicon"] != fingerprint


def test_an_entry_the_model_cannot_say_is_refused_and_the_old_lexicon_keeps_serving(
        lexicon_server):
    before = httpx.get(f"{lexicon_server.http}/phonemes", params={"text": SENTENCE}).json()
    response = reload(lexicon_server, f"pronunciations:\n  en-us:\n    {WORD}: /bəˈnɑːnə☃/\n")
    assert response.status_code == 422
    message = error_of(response)["message"]
    assert f"pronunciations.en-us.{WORD}" in message and "☃" in message
    after = httpx.get(f"{lexicon_server.http}/phonemes", params={"text": SENTENCE}).json()
    assert after == before


def test_inline_phonemes_are_previewed_and_bad_ones_get_a_clear_error(lexicon_server):
    text = "[Kokoro](/kˈOkəɹO/) is on."
    reading = httpx.get(f"{lexicon_server.http}/phonemes",
                        params={"text": text, "voice": "jm_kumo"}).json()
    assert reading["voice"] == "jm_kumo" and reading["inline_phonemes"] is True
    [hit] = reading["sentences"][0]["hits"]
    assert hit == {"source": "inline", "text": "Kokoro", "start": 0, "end": 6,
                   "phonemes": "kˈOkəɹO"}
    for params, status in (({"text": " "}, 400), ({"text": "Hi.", "voice": "nobody"}, 400),
                           ({"text": "x" * 2001}, 413)):
        response = httpx.get(f"{lexicon_server.http}/phonemes", params=params)
        assert response.status_code == status, params
        assert error_of(response)["message"]
