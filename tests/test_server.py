"""The real CLI on loopback, spoken to with the wyoming library's client."""

from __future__ import annotations

import asyncio
import time

import pytest
from wyoming.audio import AudioChunk
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeVoice,
)

from wyoming_kokoro.client import describe, synthesize

from .asr import rms

EMBEDDED_VOICES = {"jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"}
FORMAT = {(24000, 2, 1)}


def run(coro):
    return asyncio.run(coro)


def connect(server) -> AsyncTcpClient:
    return AsyncTcpClient("127.0.0.1", server.port)


async def read_until(client: AsyncTcpClient, *types: str, timeout: float = 120) -> list[Event]:
    events = []
    while True:
        event = await asyncio.wait_for(client.read_event(), timeout)
        if event is None:
            return events
        events.append(event)
        if event.type in types:
            return events


def test_describe_reports_a_streaming_kokoro_program_with_language_coded_voices(server):
    info = run(describe(server.uri))
    assert len(info.tts) == 1
    program = info.tts[0]
    assert program.name == "kokoro"
    assert program.installed
    assert program.supports_synthesize_streaming
    assert program.attribution.name == "hexgrad/Kokoro-82M"
    assert program.version
    assert {v.name for v in program.voices} == EMBEDDED_VOICES
    for voice in program.voices:
        assert voice.installed
        assert voice.attribution.name == "hexgrad/Kokoro-82M"
        # Japanese voices: Japanese first, and English through the fallback language.
        assert voice.languages == ["ja_JP", "en_US"]
        assert voice.description


def test_synthesize_answers_one_audio_start_chunks_and_one_audio_stop(server):
    text = "Good morning. The kitchen lights are on. Have a nice day."
    speech = run(synthesize(server.uri, text))
    assert speech.error is None
    assert speech.events[0] == "audio-start"
    assert speech.events[-1] == "audio-stop"
    assert speech.events.count("audio-start") == 1
    assert speech.events.count("audio-stop") == 1
    assert set(speech.events[1:-1]) == {"audio-chunk"}
    assert speech.formats == FORMAT
    assert 2.0 < speech.seconds < 15.0
    assert rms(speech.pcm) > 300  # speech, not silence


def test_streaming_word_by_word_ignores_the_compatibility_synthesize(server):
    text = "Turning on the living room lights. It will be sunny tomorrow."
    speech = run(synthesize(server.uri, text, stream=True))
    assert speech.error is None
    assert speech.events[-1] == "synthesize-stopped"
    assert speech.events.count("audio-start") == 1
    assert speech.events.count("audio-stop") == 1
    assert speech.events.index("audio-stop") == len(speech.events) - 2
    assert speech.formats == FORMAT
    # The compatibility `synthesize` must not be spoken a second time.
    single = run(synthesize(server.uri, text))
    assert abs(speech.seconds - single.seconds) < 0.15 * single.seconds


def test_a_complete_sentence_is_spoken_before_the_stream_ends(server):
    async def scenario():
        async with connect(server) as client:
            await client.write_event(SynthesizeStart().event())
            for word in "The garage door is closed. ".split(" "):
                await client.write_event(SynthesizeChunk(text=word + " ").event())
            await client.write_event(SynthesizeChunk(text="And the").event())
            # No synthesize-stop yet: the first sentence must already come back as audio.
            first = await read_until(client, "audio-chunk", timeout=60)
            assert [e.type for e in first] == ["audio-start", "audio-chunk"]
            await client.write_event(SynthesizeChunk(text=" porch light is off.").event())
            await client.write_event(SynthesizeStop().event())
            rest = await read_until(client, "synthesize-stopped")
            assert [e.type for e in rest][-2:] == ["audio-stop", "synthesize-stopped"]

    run(scenario())


def test_two_streams_back_to_back_on_one_connection(server):
    async def one_stream(client, text):
        await client.write_event(SynthesizeStart(voice=SynthesizeVoice(name="jm_kumo")).event())
        await client.write_event(SynthesizeChunk(text=text).event())
        await client.write_event(Synthesize(text=text).event())
        await client.write_event(SynthesizeStop().event())
        return await read_until(client, "synthesize-stopped", "error")

    async def scenario():
        async with connect(server) as client:
            first = await one_stream(client, "First stream here.")
            second = await one_stream(client, "And a second one.")
            await client.write_event(Describe().event())
            info = await read_until(client, "info")
        return first, second, info

    first, second, info = run(scenario())
    for events in (first, second):
        types = [e.type for e in events]
        assert types[0] == "audio-start" and types[-2:] == ["audio-stop", "synthesize-stopped"]
        assert types.count("audio-start") == 1
    assert Info.is_type(info[-1].type)


def test_a_long_reply_starts_playing_before_it_is_finished(server):
    text = ("Okay. " + "The forecast for the rest of the week shows clouds in the morning, "
            "sunshine in the afternoon, and a light breeze from the west in the evening. " * 3)
    speech = run(synthesize(server.uri, text))
    assert speech.error is None
    assert speech.first_audio < 0.5 * speech.total


def test_describe_is_answered_at_once_while_a_long_synthesis_runs(server):
    # Every sentence different: a repeated one would be a cache hit, not synthesis.
    long_text = " ".join(f"The quick brown fox number {n} jumps over the lazy dog near the "
                         f"river bank." for n in range(1, 13))

    async def scenario():
        long_task = asyncio.create_task(synthesize(server.uri, long_text))
        await asyncio.sleep(1.0)  # synthesis is under way
        latencies = []
        for _ in range(5):
            started = time.perf_counter()
            await describe(server.uri)
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.2)
        assert not long_task.done(), "the long synthesis should still be running"
        speech = await long_task
        return latencies, speech

    latencies, speech = run(scenario())
    assert speech.error is None and speech.seconds > 20
    assert sorted(latencies)[len(latencies) // 2] < 0.1, latencies
    assert max(latencies) < 0.5, latencies


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([Synthesize(text="Hello.", voice=SynthesizeVoice(name="xx_nobody")).event()],
         "unknown voice"),
        ([Synthesize(text="").event()], "empty"),
        ([Synthesize(text="   \n ").event()], "empty"),
        ([SynthesizeChunk(text="Hello.").event()], "without synthesize-start"),
        ([SynthesizeStop().event()], "without synthesize-start"),
        ([SynthesizeStart(voice=SynthesizeVoice(name="nope")).event()], "unknown voice"),
    ],
    ids=["unknown-voice", "empty-text", "blank-text", "chunk-without-start",
         "stop-without-start", "stream-unknown-voice"],
)
def test_bad_requests_get_an_error_event_and_the_server_keeps_serving(server, events, expected):
    async def scenario():
        async with connect(server) as client:
            for event in events:
                await client.write_event(event)
            answer = await read_until(client, "error", timeout=30)
            after = await asyncio.wait_for(client.read_event(), 10)  # then the server hangs up
        return answer, after

    answer, after = run(scenario())
    assert [e.type for e in answer] == ["error"]
    assert expected in Error.from_event(answer[0]).text
    assert after is None
    speech = run(synthesize(server.uri, "Still here."))
    assert speech.error is None and speech.seconds > 0.3


def test_voice_by_name_changes_the_audio(server):
    a = run(synthesize(server.uri, "Same words, two voices.", voice="jf_alpha"))
    b = run(synthesize(server.uri, "Same words, two voices.", voice="jm_kumo"))
    assert a.error is None and b.error is None
    assert a.pcm != b.pcm


def test_japanese_text_is_spoken_by_a_japanese_voice(server):
    speech = run(synthesize(server.uri, "こんにちは。今日はいい天気ですね。", voice="jf_nezumi"))
    assert speech.error is None
    assert 1.0 < speech.seconds < 8.0
    assert rms(speech.pcm) > 300


def test_every_audio_chunk_carries_the_format_and_at_most_samples_per_chunk(server):
    async def scenario():
        async with connect(server) as client:
            await client.write_event(Synthesize(text="Format check. Two sentences.").event())
            return await read_until(client, "audio-stop")

    chunks = [AudioChunk.from_event(e) for e in run(scenario()) if AudioChunk.is_type(e.type)]
    assert len(chunks) > 10
    for chunk in chunks:
        assert (chunk.rate, chunk.width, chunk.channels) == (24000, 2, 1)
        assert 0 < len(chunk.audio) <= 1024 * 2  # default samples_per_chunk: 1024
    assert sum(len(c.audio) == 2048 for c in chunks) >= len(chunks) - 2


def test_speed_flag_changes_the_length_of_the_audio(server, start_server):
    fast = start_server("--speed", "1.5")
    text = "The front door is locked and the alarm is armed."
    normal = run(synthesize(server.uri, text))
    quick = run(synthesize(fast.uri, text))
    assert quick.error is None
    ratio = quick.seconds / normal.seconds
    assert 0.55 < ratio < 0.8, ratio
