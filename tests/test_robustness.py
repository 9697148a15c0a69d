"""Every kind of bad input, against the real server: a clear answer, and the next client is fine.

Each case talks raw bytes to the shared server, then a fresh client must be served normally.
Client faults leave one clear log line each, never a traceback.
"""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from wyoming.event import read_event

from wyoming_kokoro.client import describe, synthesize


async def exchange(port: int, payload: bytes, *, half_close: bool = False,
                   timeout: float = 30.0, read_limit: int | None = None,
                   read_until: bytes | None = None) -> list:
    """Send bytes, then read events until the server closes (or ``read_limit`` audio chunks,
    or ``read_until`` appears)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        if half_close:
            writer.write_eof()
        data = b""
        while True:
            block = await asyncio.wait_for(reader.read(1 << 16), timeout)
            if not block:
                break
            data += block
            if read_limit is not None and data.count(b'"audio-chunk"') >= read_limit:
                break
            if read_until is not None and read_until in data:
                break
    finally:
        writer.close()
    return events_in(data)


def events_in(data: bytes) -> list:
    stream = io.BytesIO(data)
    events = []
    while (event := read_event(stream)) is not None:
        events.append(event)
    return events


def line(event_type: str, data=None, **header) -> bytes:
    """An event as wyoming clients send it: a JSON header line, then the data section."""
    body = {"type": event_type, **header}
    if data is None:
        return json.dumps(body).encode() + b"\n"
    section = json.dumps(data).encode()
    return json.dumps({**body, "data_length": len(section)}).encode() + b"\n" + section


def inline(event_type: str, data) -> bytes:
    """An event with its data inside the header line (also valid Wyoming)."""
    return json.dumps({"type": event_type, "data": data}).encode() + b"\n"


def still_serving(server) -> None:
    speech = asyncio.run(synthesize(server.uri, "Still here."))
    assert speech.error is None and speech.seconds > 0.3


def error_text(events: list) -> str:
    errors = [e for e in events if e.type == "error"]
    assert len(errors) == 1, [e.type for e in events]
    return errors[0].data["text"]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"\x00\xff\xfegarbage\x01\n", "not valid"),
        (b"a" * 102_400, "longer than 65536 bytes"),
        (b"[1, 2, 3]\n", "must be a JSON object, got list"),
        (b'"just a string"\n', "must be a JSON object, got str"),
        (b'{"data": {"text": "hi"}}\n', "has no 'type'"),
        (inline("synthesize", [1, 2]), "'data' must be a JSON object"),
        (line("synthesize", [1, 2]), "event data must be a JSON object, got list"),
        (line("synthesize", {}), "'text' must be a string"),
        (line("synthesize", {"text": 42}), "'text' must be a string"),
        (line("synthesize", {"text": ""}), "the text is empty"),
        (line("synthesize", {"text": " \n\t "}), "the text is empty"),
        (line("synthesize", {"text": "Hi.", "voice": "jf_alpha"}), "'voice' must be an object"),
        (line("synthesize", {"text": "Hi.", "voice": {"name": "jf_alpha(2"}}),
         "malformed voice blend"),
        (line("synthesize", {"text": "🎉" * 1000}), "nothing to speak"),
        (line("synthesize-chunk", {"text": "Hello."}), "without synthesize-start"),
        (line("synthesize", data_length=10**9), "exceeds the limit"),
        (line("synthesize", data_length=-5), "must be a non-negative integer"),
        (b'{"type": "synthesize", "data_length": 20}\n{"text": "\xff\xfe invalid"}',
         "not valid UTF-8"),
    ],
    ids=["garbage", "100KiB-line", "json-list", "json-string", "no-type", "data-list",
         "data-section-list",
         "no-text", "text-number", "empty", "whitespace", "voice-string", "bad-blend",
         "1000-emoji", "chunk-first", "huge-length", "negative-length", "invalid-utf8"],
)
def test_bad_input_gets_one_clear_error_and_the_server_hangs_up(server, payload, expected):
    events = asyncio.run(exchange(server.port, payload))
    assert expected in error_text(events)
    assert not any(e.type.startswith("audio") for e in events)  # no audio-stop without a start
    still_serving(server)


def test_a_header_promising_more_bytes_than_sent(server):
    payload = line("synthesize", data_length=1000) + b'{"text": "Hel'
    events = asyncio.run(exchange(server.port, payload, half_close=True))
    assert "connection closed after 13 of 1000 promised bytes" in error_text(events)
    still_serving(server)


def test_an_unknown_event_type_is_ignored(server):
    payload = line("flibbertigibbet", {"x": 1}) + line("describe")
    events = asyncio.run(exchange(server.port, payload, read_until=b'"type": "info"'))
    assert [e.type for e in events] == ["info"]


def test_start_then_stop_with_no_text_answers_only_stopped(server):
    async def scenario():
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(line("synthesize-start") + line("synthesize-stop") + line("describe"))
        data = b""
        while b'"type": "info"' not in data or b"synthesize-stopped" not in data:
            data += await asyncio.wait_for(reader.read(1 << 16), 30)
        writer.close()
        return events_in(data)

    # describe is answered at once, beside the (empty) reply: the two may come in either order
    assert sorted(e.type for e in asyncio.run(scenario())) == ["info", "synthesize-stopped"]


@pytest.mark.parametrize("stream", [False, True], ids=["synthesize", "stream"])
def test_hanging_up_mid_reply_cancels_the_rest(server, stream):
    text = "This reply is long enough to be cut off in the middle. " * 30
    if stream:
        payload = line("synthesize-start") + line("synthesize-chunk", {"text": text})
    else:
        payload = line("synthesize", {"text": text})
    before = server.log.count("client went away")
    events = asyncio.run(exchange(server.port, payload, read_limit=3))
    assert [e.type for e in events][:2] == ["audio-start", "audio-chunk"]
    still_serving(server)
    deadline = asyncio.run(_wait_for(lambda: server.log.count("client went away") > before))
    assert deadline, server.log[-2000:]


async def _wait_for(condition, timeout: float = 30.0) -> bool:
    for _ in range(int(timeout / 0.1)):
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()


def test_100_000_characters_stream_out_and_describe_stays_fast(server):
    text = "The quick brown fox jumps over the lazy dog. " * 2223  # 100,035 characters
    text = text[:100_000]

    async def scenario():
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(line("synthesize", {"text": text}))
        await writer.drain()
        data = b""
        while data.count(b'"audio-chunk"') < 2:
            block = await asyncio.wait_for(reader.read(1 << 16), 60)
            assert block, f"the server closed the connection: {data[:300]!r}"
            data += block
        answered = await asyncio.wait_for(describe(server.uri), 5)
        writer.close()
        return answered

    assert asyncio.run(scenario()).tts
    still_serving(server)


def test_a_long_text_over_the_limit_is_refused(start_server):
    small = start_server(config="text:\n  max_chars: 1000\nlimits:\n  queue: 1\n")
    events = asyncio.run(exchange(small.port, line("synthesize", {"text": "word " * 300})))
    assert "longer than the limit of 1000 characters (text.max_chars)" in error_text(events)

    async def two_at_once():
        first = asyncio.create_task(synthesize(small.uri, "A first request. " * 10))
        await asyncio.sleep(0.3)
        second = await synthesize(small.uri, "A second one.")
        return await first, second

    first, second = asyncio.run(two_at_once())
    assert first.error is None
    assert second.error is not None and "server busy" in second.error.text
    assert "Traceback" not in small.log


def test_4000_characters_without_punctuation_start_speaking(server):
    text = " ".join(["word"] * 800)  # 3,999 characters, no punctuation
    events = asyncio.run(exchange(server.port, line("synthesize", {"text": text}), read_limit=2))
    assert [e.type for e in events][:2] == ["audio-start", "audio-chunk"]
    still_serving(server)


def test_mixed_scripts_and_control_characters_are_spoken(server):
    text = "Hello \x00there\x07. こんにちは。 你好。 Привет! नमस्ते। \u200bDone."
    speech = asyncio.run(synthesize(server.uri, text))
    assert speech.error is None and speech.seconds > 1.0


def test_fifty_connections_opened_and_dropped(server):
    async def scenario():
        for i in range(50):
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            if i % 3 == 1:
                writer.write(b'{"type": "synth')
            elif i % 3 == 2:
                writer.write(line("synthesize", {"text": "Dropped at once."}))
            writer.close()
        return await describe(server.uri)

    assert asyncio.run(scenario()).tts
    still_serving(server)


def test_client_faults_leave_no_traceback_in_the_log(server):
    # Runs after the cases above in this module (pytest keeps file order).
    assert "Traceback" not in server.log
