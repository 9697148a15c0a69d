"""One Wyoming connection: describe/info, synthesize, and the streaming state machine.

Knows the protocol and nothing about models: text goes to the synthesis service, PCM comes back
and leaves as ``audio-start`` / ``audio-chunk`` / ``audio-stop`` (24 kHz, 16-bit, mono; every chunk
carries the format, since some Home Assistant versions read it from the first chunk).

After an ``error`` the connection is closed: clients built on the wyoming library wait for
``audio-stop`` without a timeout, and Home Assistant opens a new connection per request anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
)

from . import __version__
from .protocol import ProtocolError, read_event
from .service import AudioFormat, RequestError, Utterance
from .voices import VoiceCatalog

if TYPE_CHECKING:
    from .app import App

_LOGGER = logging.getLogger(__name__)

KOKORO_ATTRIBUTION = Attribution(name="hexgrad/Kokoro-82M",
                                 url="https://huggingface.co/hexgrad/Kokoro-82M")


def build_info(catalog: VoiceCatalog, model_name: str) -> Info:
    voices = [
        TtsVoice(name=voice.name, attribution=KOKORO_ATTRIBUTION, installed=True,
                 description=voice.description, version=model_name,
                 languages=list(voice.languages))
        for voice in catalog
    ]
    program = TtsProgram(name="kokoro", attribution=KOKORO_ATTRIBUTION, installed=True,
                         description="Kokoro-82M text to speech", version=__version__,
                         voices=voices, supports_synthesize_streaming=True)
    return Info(tts=[program])


class _AudioOut:
    """Sends PCM as one audio-start, chunks, and one audio-stop, whatever the sentence count."""

    def __init__(self, handler: KokoroEventHandler, fmt: AudioFormat, samples_per_chunk: int):
        self.handler = handler
        self.format = fmt
        self.bytes_per_chunk = samples_per_chunk * fmt.width * fmt.channels
        self.started = False
        self.samples = 0

    async def send(self, pcm: bytes) -> None:
        fmt = self.format
        if not self.started:
            self.started = True
            await self.handler.write_event(
                AudioStart(rate=fmt.rate, width=fmt.width, channels=fmt.channels).event())
        for offset in range(0, len(pcm), self.bytes_per_chunk):
            chunk = pcm[offset:offset + self.bytes_per_chunk]
            await self.handler.write_event(AudioChunk(
                rate=fmt.rate, width=fmt.width, channels=fmt.channels, audio=chunk).event())
        self.samples += len(pcm) // (fmt.width * fmt.channels)

    async def stop(self) -> None:
        if self.started:
            await self.handler.write_event(AudioStop().event())

    async def play(self, utterance: Utterance) -> None:
        async for pcm in utterance.audio():
            await self.send(pcm)


class _Stream:
    """State of one synthesize-start .. synthesize-stop stream on a connection."""

    def __init__(self, utterance: Utterance, out: _AudioOut, stack: AsyncExitStack,
                 task: asyncio.Task) -> None:
        self.utterance = utterance
        self.out = out
        self.stack = stack
        self.task = task


class KokoroEventHandler(AsyncEventHandler):
    def __init__(self, app: App, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.app = app
        self.peer = _peer(writer)
        self._stream: _Stream | None = None

    # -- connection loop ---------------------------------------------------------------------

    async def run(self) -> None:
        try:
            while (event := await self._next_event()) is not None:
                if not await self.handle_event(event):
                    break
        except RequestError as err:
            await self._fail(str(err), err.code)
        except ConnectionError as err:
            _LOGGER.info("%s: client went away (%s)", self.peer, type(err).__name__)
        except Exception as err:  # a server fault: log it, tell the client, keep serving others
            _LOGGER.exception("%s: request failed", self.peer)
            await self._fail(f"synthesis failed: {err}", "synthesis-failed")
        finally:
            await self._end_stream()
            self.writer.close()

    async def _next_event(self) -> Event | None:
        try:
            return await read_event(self.reader)
        except ProtocolError as err:
            raise RequestError(str(err), "bad-event") from None

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.app.info_event())
        elif Synthesize.is_type(event.type):
            # Inside a stream this is the compatibility copy of the whole text: ignored.
            if self._stream is None:
                await self._synthesize(event)
        elif SynthesizeStart.is_type(event.type):
            await self._start_stream(event)
        elif SynthesizeChunk.is_type(event.type):
            self._stream_chunk(event)
        elif SynthesizeStop.is_type(event.type):
            await self._stop_stream()
        else:
            _LOGGER.debug("%s: ignoring event %s", self.peer, event.type)
        return True

    # -- one-shot synthesis ------------------------------------------------------------------

    async def _synthesize(self, event: Event) -> None:
        text = _text(event)
        _check_format(event)
        if not text.strip():
            raise RequestError("synthesize: the text is empty", "empty-text")
        voice, language = _voice(event)
        async with self.app.service.utterance(self.app.config, voice, language) as utterance:
            out = _AudioOut(self, utterance.format, utterance.config.audio.samples_per_chunk)
            utterance.feed(text)
            utterance.finish()
            await out.play(utterance)
            if not out.started:
                raise RequestError("synthesize: the text has nothing to speak", "empty-text")
            await out.stop()
        _LOGGER.debug("%s: synthesized %d chars -> %.2f s", self.peer, len(text),
                      out.samples / out.format.rate)

    # -- streaming ---------------------------------------------------------------------------

    async def _start_stream(self, event: Event) -> None:
        if self._stream is not None:
            raise RequestError("synthesize-start: a stream is already open on this connection",
                               "bad-sequence")
        _check_format(event)
        voice, language = _voice(event)
        stack = AsyncExitStack()
        utterance = await stack.enter_async_context(
            self.app.service.utterance(self.app.config, voice, language))
        out = _AudioOut(self, utterance.format, utterance.config.audio.samples_per_chunk)
        task = asyncio.create_task(self._play_stream(out, utterance))
        self._stream = _Stream(utterance, out, stack, task)

    async def _play_stream(self, out: _AudioOut, utterance: Utterance) -> None:
        """Runs beside the event loop of this connection, so chunks keep arriving meanwhile."""
        try:
            await out.play(utterance)
        except RequestError as err:
            await self._fail(str(err), err.code)
        except ConnectionError as err:
            _LOGGER.info("%s: client went away mid-stream (%s)", self.peer, type(err).__name__)
            self._close()
        except Exception as err:
            _LOGGER.exception("%s: synthesis failed", self.peer)
            await self._fail(f"synthesis failed: {err}", "synthesis-failed")

    def _stream_chunk(self, event: Event) -> None:
        text = _text(event)
        if self._stream is None:
            raise RequestError("synthesize-chunk without synthesize-start", "bad-sequence")
        self._stream.utterance.feed(text)

    async def _stop_stream(self) -> None:
        stream = self._stream
        if stream is None:
            raise RequestError("synthesize-stop without synthesize-start", "bad-sequence")
        stream.utterance.finish()
        await stream.task
        if self.writer.is_closing():
            return  # the stream failed and has told the client
        await self._end_stream()
        await stream.out.stop()
        await self.write_event(SynthesizeStopped().event())

    async def _end_stream(self) -> None:
        """Forget the stream; cancel what it has left to synthesize; release its model lease."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        if not stream.task.done():
            stream.task.cancel()
            await asyncio.gather(stream.task, return_exceptions=True)
        await stream.stack.aclose()

    # -- errors ------------------------------------------------------------------------------

    async def _fail(self, text: str, code: str) -> None:
        """Answer with an error event and close the connection."""
        _LOGGER.warning("%s: %s", self.peer, text)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.write_event(Error(text=text, code=code).event())
        self._close()

    def _close(self) -> None:
        self.writer.close()
        self.reader.feed_eof()


def _text(event: Event) -> str:
    text = event.data.get("text")
    if not isinstance(text, str):
        raise RequestError(f"{event.type}: 'text' must be a string", "bad-request")
    return text


def _check_format(event: Event) -> None:
    text_format = event.data.get("text_format")
    if text_format not in (None, "text"):
        raise RequestError(f"{event.type}: text_format {text_format!r} is not supported",
                            "bad-request")


def _voice(event: Event) -> tuple[str | None, str | None]:
    voice = event.data.get("voice")
    if voice is None:
        return None, None
    if not isinstance(voice, dict):
        raise RequestError(f"{event.type}: 'voice' must be an object", "bad-request")
    name, language = voice.get("name"), voice.get("language")
    for key, value in (("name", name), ("language", language)):
        if value is not None and not isinstance(value, str):
            raise RequestError(f"{event.type}: voice.{key} must be a string", "bad-request")
    return name or None, language or None


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "client")
