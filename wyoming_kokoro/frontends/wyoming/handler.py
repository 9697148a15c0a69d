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

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.server import AsyncEventHandler
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
)

from ...synthesis.errors import RequestError
from ...synthesis.pcm import AudioFormat
from ...synthesis.service import SynthesisService
from ...synthesis.utterance import Utterance
from ...text.ssml import is_ssml
from .events import ProtocolError, read_event
from .info import InfoSource

_LOGGER = logging.getLogger(__name__)


class _AudioOut:
    """Sends PCM as one audio-start, chunks, and one audio-stop, whatever the sentence count."""

    def __init__(self, handler: KokoroEventHandler, fmt: AudioFormat, samples_per_chunk: int):
        self.handler = handler
        self.format = fmt
        self.bytes_per_chunk = samples_per_chunk * fmt.width * fmt.channels
        self.started = False
        self.samples = 0
        self._held = b""  # less than a chunk, sent with the next audio

    async def send(self, pcm: bytes, flush: bool = False) -> None:
        """Full chunks of ``pcm`` (after what the last call held back); the rest waits for
        the next call, so a sentence sent window by window still goes out in full chunks."""
        fmt = self.format
        if not self.started:
            self.started = True
            await self.handler.write_event(
                AudioStart(rate=fmt.rate, width=fmt.width, channels=fmt.channels).event())
        pcm = self._held + pcm
        whole = len(pcm) if flush else len(pcm) - len(pcm) % self.bytes_per_chunk
        self._held = pcm[whole:]
        for offset in range(0, whole, self.bytes_per_chunk):
            chunk = pcm[offset:min(offset + self.bytes_per_chunk, whole)]
            await self.handler.write_event(AudioChunk(
                rate=fmt.rate, width=fmt.width, channels=fmt.channels, audio=chunk).event())
        self.samples += whole // (fmt.width * fmt.channels)

    async def stop(self) -> None:
        if self.started:
            await self.handler.write_event(AudioStop().event())

    async def play(self, utterance: Utterance) -> None:
        async for pcm in utterance.audio():
            await self.send(pcm)
        if self._held:
            await self.send(b"", flush=True)


class _Job:
    """One request in progress on a connection: its utterance, audio out, and the task that
    plays it. The task owns the model lease and releases it when the reply ends."""

    def __init__(self, utterance: Utterance, out: _AudioOut, stack: AsyncExitStack,
                 streaming: bool) -> None:
        self.utterance = utterance
        self.out = out
        self.stack = stack
        self.streaming = streaming
        self.stopped = False  # synthesize-stop received (streaming)
        self.ssml: list[str] | None = None  # SSML stream: chunks, parsed at synthesize-stop
        self.task: asyncio.Task | None = None


class KokoroEventHandler(AsyncEventHandler):
    """Reads events all the time: a reply plays in its own task, so ``describe`` is answered
    mid-reply and a client that hangs up cancels the rest of its reply at once."""

    def __init__(self, service: SynthesisService, info: InfoSource,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.service = service
        self.info = info
        self.peer = _peer(writer)
        self._job: _Job | None = None

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
            await self._cancel_job()
            self.writer.close()

    async def _next_event(self) -> Event | None:
        try:
            return await read_event(self.reader)
        except ProtocolError as err:
            raise RequestError(str(err), "bad-event") from None

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.info.event())
        elif Synthesize.is_type(event.type):
            # Inside a stream this is the compatibility copy of the whole text: ignored.
            if self._job is None or not self._job.streaming or self._job.stopped:
                await self._synthesize(event)
        elif SynthesizeStart.is_type(event.type):
            await self._start_stream(event)
        elif SynthesizeChunk.is_type(event.type):
            job = self._streaming_job(event)
            if job.ssml is None:
                job.utterance.feed(_text(event))
            else:  # SSML is parsed whole, at the end of the stream
                job.ssml.append(_text(event))
                if sum(map(len, job.ssml)) > job.utterance.config.text.max_chars:
                    raise RequestError("SSML stream is longer than text.max_chars", "too-long")
        elif SynthesizeStop.is_type(event.type):
            job = self._streaming_job(event)
            job.stopped = True
            if job.ssml is not None:
                job.utterance.feed_ssml("".join(job.ssml))
            job.utterance.finish()
        else:
            _LOGGER.debug("%s: ignoring event %s", self.peer, event.type)
        return True

    # -- requests ----------------------------------------------------------------------------

    async def _synthesize(self, event: Event) -> None:
        text = _text(event)
        ssml = _is_ssml(event, text)
        if not text.strip():
            raise RequestError("synthesize: the text is empty", "empty-text")
        job = await self._open(event, streaming=False)
        if ssml:
            job.utterance.feed_ssml(text)
        else:
            job.utterance.feed(text)
        job.utterance.finish()
        self._play(job)

    async def _start_stream(self, event: Event) -> None:
        if self._job is not None and self._job.streaming and not self._job.stopped:
            raise RequestError("synthesize-start: a stream is already open on this connection",
                               "bad-sequence")
        ssml = _is_ssml(event, "")
        job = await self._open(event, streaming=True)
        if ssml:
            job.ssml = []
        self._play(job)

    def _streaming_job(self, event: Event) -> _Job:
        job = self._job
        if job is None or not job.streaming or job.stopped:
            raise RequestError(f"{event.type} without synthesize-start", "bad-sequence")
        return job

    async def _open(self, event: Event, streaming: bool) -> _Job:
        """Wait for the previous reply on this connection, then open a new utterance."""
        if self._job is not None and self._job.task is not None:
            await asyncio.gather(self._job.task, return_exceptions=True)
        self._job = None
        voice, language = _voice(event)
        stack = AsyncExitStack()
        try:
            utterance = await stack.enter_async_context(self.service.utterance(
                voice, language, streaming=streaming))
        except BaseException:
            await stack.aclose()
            raise
        out = _AudioOut(self, utterance.format, utterance.config.audio.samples_per_chunk)
        return _Job(utterance, out, stack, streaming)

    def _play(self, job: _Job) -> None:
        self._job = job
        job.task = asyncio.create_task(self._reply(job))

    async def _reply(self, job: _Job) -> None:
        """Play one reply to its end, then close it with the events its kind of request needs."""
        try:
            await job.out.play(job.utterance)
            if job.streaming:
                await job.out.stop()
                await self.write_event(SynthesizeStopped().event())
            elif not job.out.started:
                raise RequestError("synthesize: the text has nothing to speak", "empty-text")
            else:
                await job.out.stop()
            _LOGGER.debug("%s: reply of %d chars -> %.2f s of audio", self.peer,
                          job.utterance.chars, job.out.samples / job.out.format.rate)
        except RequestError as err:
            await self._fail(str(err), err.code)
        except ConnectionError as err:
            _LOGGER.info("%s: client went away mid-reply (%s)", self.peer, type(err).__name__)
            self._close()
        except Exception as err:
            _LOGGER.exception("%s: synthesis failed", self.peer)
            await self._fail(f"synthesis failed: {err}", "synthesis-failed")
        finally:
            await job.stack.aclose()

    async def _cancel_job(self) -> None:
        """The connection is over (the client hung up, or an error closed it): whatever is left
        of the reply is cancelled, its queued work dropped and its model lease released."""
        job, self._job = self._job, None
        if job is None:
            return
        if job.task is None:
            await job.stack.aclose()
            return
        if not job.task.done():
            _LOGGER.info("%s: client went away mid-reply; the rest is cancelled", self.peer)
            job.task.cancel()
        await asyncio.gather(job.task, return_exceptions=True)

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


def _is_ssml(event: Event, text: str) -> bool:
    """``text_format: ssml`` (Wyoming 1.10), or plain text that is an SSML document."""
    text_format = event.data.get("text_format")
    if text_format is None:
        return is_ssml(text)
    if text_format in ("text", "ssml"):
        return text_format == "ssml"
    raise RequestError(f"{event.type}: text_format {text_format!r} is not supported "
                       f"(text or ssml)", "bad-request")


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
