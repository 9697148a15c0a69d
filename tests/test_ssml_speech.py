"""SSML through the real server: breaks, rate, voice and language switches, hostile input."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

from wyoming_kokoro.client import synthesize

from .test_robustness import error_text, exchange, line


async def speak_ssml(server, ssml: str, stream: bool = False):
    """Like client.synthesize, with text_format: ssml."""
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        if stream:
            await client.write_event(SynthesizeStart(text_format="ssml").event())
            for i in range(0, len(ssml), 7):
                await client.write_event(SynthesizeChunk(text=ssml[i:i + 7]).event())
            await client.write_event(SynthesizeStop().event())
            done = "synthesize-stopped"
        else:
            await client.write_event(Synthesize(text=ssml, text_format="ssml").event())
            done = "audio-stop"
        pcm, types = b"", []
        while True:
            event = await asyncio.wait_for(client.read_event(), 120)
            if event is None:
                break
            types.append(event.type)
            if event.type == "audio-chunk":
                pcm += event.payload
            if event.type in (done, "error"):
                break
        return pcm, types


def seconds(pcm: bytes) -> float:
    return len(pcm) / 48000


def longest_silence(pcm: bytes, threshold: int = 200) -> float:
    quiet = np.abs(np.frombuffer(pcm, dtype="<i2")) < threshold
    best = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        best = max(best, run)
    return best / 24000


def test_a_break_adds_silence_of_the_requested_length(server):
    template = "<speak>The garage door is closed.<break time='{}'/>The porch light is off.</speak>"
    short, _ = asyncio.run(speak_ssml(server, template.format("500ms")))
    long, _ = asyncio.run(speak_ssml(server, template.format("2s")))
    assert seconds(long) - seconds(short) == pytest.approx(1.5, rel=0.1)
    assert longest_silence(long) == pytest.approx(2.0, abs=0.3)  # the break, plus a breath


def test_prosody_rate_changes_the_duration(server):
    text = "The washing machine has finished and the dryer is running."

    def at(rate: str) -> bytes:
        ssml = f"<speak><prosody rate='{rate}'>{text}</prosody></speak>"
        return asyncio.run(speak_ssml(server, ssml))[0]

    normal, fast, slow = at("medium"), at("1.6"), at("x-slow")
    assert 0.55 < seconds(fast) / seconds(normal) < 0.75
    assert 1.6 < seconds(slow) / seconds(normal) < 2.2


def test_voice_and_language_switch_inside_a_document(server, whisper):
    plain, _ = asyncio.run(speak_ssml(server, "<speak>Good night, everyone.</speak>"))
    kumo, _ = asyncio.run(speak_ssml(server, "<speak><voice name='jm_kumo'>Good night, "
                                             "everyone.</voice></speak>"))
    assert plain != kumo and seconds(kumo) > 0.5
    mixed, types = asyncio.run(speak_ssml(
        server, "<speak>Hello. <lang xml:lang='ja-JP'>こんにちは。</lang> "
                "<voice name='jf_alpha(1)+jm_kumo(1)'>Goodbye.</voice></speak>"))
    assert types.count("audio-start") == 1 and types[-1] == "audio-stop"
    assert seconds(mixed) > 2.0


def test_ssml_streams_are_spoken_at_the_stop(server, whisper):
    text = "Your package has arrived at the front door."
    pcm, types = asyncio.run(speak_ssml(server, f"<speak><s>{text}</s></speak>", stream=True))
    assert types[-1] == "synthesize-stopped" and types.count("audio-start") == 1
    from .asr import word_error_rate

    assert word_error_rate(text, whisper(pcm, 24000)) <= 0.15


def test_an_ssml_document_is_recognized_without_text_format(server):
    pcm_tagged = asyncio.run(synthesize(server.uri, "<speak>One <break time='1s'/> two.</speak>"))
    assert pcm_tagged.error is None
    assert longest_silence(pcm_tagged.pcm) > 0.9


@pytest.mark.parametrize(
    ("ssml", "expected"),
    [
        ("<speak>Hello <break time='1s'></speak>", "SSML: mismatched tag"),
        ("<speak>unclosed", "SSML:"),
        ("<speak><voice name='af_nobody'>Hi.</voice></speak>", "unknown voice 'af_nobody'"),
        ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
         '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><speak>&lol2;</speak>',
         "SSML:"),
        ('<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
         "<speak>&xxe;</speak>", "SSML:"),
        ("<speak>" + "<s>" * 10_000 + "deep" + "</s>" * 10_000 + "</speak>", "SSML:"),
        ("<speak>" + "a " * 500_000 + "</speak>", "longer than"),
    ],
    ids=["mismatched", "unclosed", "unknown-voice", "billion-laughs", "external-entity",
         "deep-nesting", "1MB"],
)
def test_malformed_and_hostile_ssml_is_refused_cleanly(server, ssml, expected):
    payload = line("synthesize", {"text": ssml, "text_format": "ssml"})
    events = asyncio.run(exchange(server.port, payload))
    assert expected in error_text(events)
    assert not any(e.type.startswith("audio") for e in events)
    still = asyncio.run(synthesize(server.uri, "Still here."))
    assert still.error is None
