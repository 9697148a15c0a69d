"""A small Wyoming TTS client: health checks, benchmarks, tests, and trying a server by hand.

    python -m wyoming_kokoro.client --uri tcp://127.0.0.1:10200 describe
    python -m wyoming_kokoro.client --uri tcp://127.0.0.1:10200 speak "Hello there." out.wav
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from wyoming.audio import AudioChunk, AudioStart
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


@dataclass
class Speech:
    """What a server answered to one request."""

    events: list[str] = field(default_factory=list)  # event types, in order
    times: list[float] = field(default_factory=list)  # seconds since the request, per event
    pcm: bytearray = field(default_factory=bytearray)
    rate: int | None = None
    width: int | None = None
    channels: int | None = None
    formats: set[tuple[int, int, int]] = field(default_factory=set)  # from every chunk and start
    error: Error | None = None
    first_audio: float | None = None  # seconds from the request to the first audio chunk
    total: float = 0.0  # seconds from the request to the end of the reply
    stop_sent: float | None = None  # seconds from the request to synthesize-stop (streaming)

    @property
    def seconds(self) -> float:
        if not self.rate or not self.width or not self.channels:
            return 0.0
        return len(self.pcm) / (self.rate * self.width * self.channels)

    def wav(self, path: Path) -> None:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(self.channels or 1)
            out.setsampwidth(self.width or 2)
            out.setframerate(self.rate or 24000)
            out.writeframes(self.pcm)


def _host_port(uri: str) -> tuple[str, int]:
    parsed = urlparse(uri)
    if parsed.scheme != "tcp" or not parsed.hostname or not parsed.port:
        raise ValueError(f"expected tcp://HOST:PORT, got {uri!r}")
    return parsed.hostname, parsed.port


async def describe(uri: str, timeout: float = 5.0) -> Info:
    host, port = _host_port(uri)
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Describe().event())
        while True:
            event = await asyncio.wait_for(client.read_event(), timeout)
            if event is None:
                raise ConnectionError("server closed the connection without answering")
            if Info.is_type(event.type):
                return Info.from_event(event)


async def synthesize(uri: str, text: str, voice: str | None = None, *, stream: bool = False,
                     chunks: list[str] | None = None, chunk_delay: float = 0.0,
                     timeout: float = 300.0) -> Speech:
    """One request. ``stream``: send the text as synthesize-chunks (``chunks``, default word by
    word), with the compatibility ``synthesize`` before ``synthesize-stop`` as Home Assistant does.
    """
    host, port = _host_port(uri)
    voice_obj = SynthesizeVoice(name=voice) if voice else None
    speech = Speech()
    async with AsyncTcpClient(host, port) as client:
        started = time.perf_counter()
        if stream:
            pieces = chunks if chunks is not None else _words(text)
            writer = asyncio.create_task(
                _send_stream(client, pieces, text, voice_obj, chunk_delay, speech, started))
        else:
            await client.write_event(Synthesize(text=text, voice=voice_obj).event())
            writer = None
        done = "synthesize-stopped" if stream else "audio-stop"
        try:
            while True:
                event = await asyncio.wait_for(client.read_event(), timeout)
                if event is None:
                    break
                _record(speech, event, time.perf_counter() - started)
                if event.type in (done, "error"):
                    break
        finally:
            if writer is not None:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)
        speech.total = time.perf_counter() - started
    return speech


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


async def _send_stream(client: AsyncTcpClient, pieces: list[str], text: str,
                       voice: SynthesizeVoice | None, delay: float, speech: Speech,
                       started: float) -> None:
    await client.write_event(SynthesizeStart(voice=voice).event())
    for piece in pieces:
        await client.write_event(SynthesizeChunk(text=piece).event())
        if delay:
            await asyncio.sleep(delay)
    await client.write_event(Synthesize(text=text, voice=voice).event())
    await client.write_event(SynthesizeStop().event())
    speech.stop_sent = time.perf_counter() - started


def _record(speech: Speech, event: Event, t: float) -> None:
    speech.events.append(event.type)
    speech.times.append(t)
    if AudioStart.is_type(event.type):
        start = AudioStart.from_event(event)
        speech.formats.add((start.rate, start.width, start.channels))
    elif AudioChunk.is_type(event.type):
        chunk = AudioChunk.from_event(event)
        speech.formats.add((chunk.rate, chunk.width, chunk.channels))
        speech.rate, speech.width, speech.channels = chunk.rate, chunk.width, chunk.channels
        if speech.first_audio is None:
            speech.first_audio = t
        speech.pcm += chunk.audio  # a bytearray: appending stays linear for long replies
    elif Error.is_type(event.type):
        speech.error = Error.from_event(event)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wyoming_kokoro.client")
    parser.add_argument("--uri", default="tcp://127.0.0.1:10200")
    parser.add_argument("--timeout", type=float, default=5.0)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("describe", help="print the server's info; exit 1 if it does not answer")
    speak = sub.add_parser("speak", help="synthesize text into a WAV file")
    speak.add_argument("text")
    speak.add_argument("output", type=Path)
    speak.add_argument("--voice")
    speak.add_argument("--stream", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "describe":
            info = asyncio.run(describe(args.uri, args.timeout))
            print(json.dumps(info.to_dict(), indent=2, ensure_ascii=False))
            return 0
        speech = asyncio.run(synthesize(args.uri, args.text, args.voice, stream=args.stream))
    except (TimeoutError, OSError, ValueError) as err:
        print(f"error: {err or type(err).__name__}", file=sys.stderr)
        return 1
    if speech.error is not None:
        print(f"error from server: {speech.error.text}", file=sys.stderr)
        return 1
    speech.wav(args.output)
    print(f"{speech.seconds:.2f} s of audio, first audio after {speech.first_audio or 0:.3f} s, "
          f"done after {speech.total:.3f} s -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
