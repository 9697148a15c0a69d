"""SynthesisService: text in (whole or streamed), ordered PCM out, piece by piece.

The Wyoming handler (and any other front end) is a thin adapter over::

    async with service.utterance(config, voice="jf_alpha") as utterance:
        utterance.feed("Hello there. ")
        utterance.finish()
        async for pcm in utterance.audio():   # int16 mono bytes, in order, as each is ready
            ...

Text is cut into sentences (clauses too, when streamed), phonemized on a G2P thread one step
ahead of synthesis, cut into pieces within the phoneme budget (the reply's first piece short, so
its first words play at once), and each piece is synthesized by the scheduler's workers, most
urgent first across all requests. Inference never runs on the event loop. Recent phonemes and
recent pieces of audio are cached, so a repeated reply costs no inference at all.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass

import numpy as np

from .cache import SizedLRU
from .config import Config
from .memory import IdleTrimmer
from .model.kokoro import KokoroModel
from .model.manager import ModelManager
from .scheduler import Scheduler
from .text.g2p import G2P, G2PUnavailable
from .text.language import pick_language
from .text.normalize import NormalizeOptions, normalize
from .text.split import SentenceSplitter, split_head, split_phonemes, split_sentences
from .text.ssml import SsmlError, parse_ssml
from .voices import UnknownVoice, Voice, VoiceCatalog

_LOGGER = logging.getLogger(__name__)

SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
CHANNELS = 1
PIECE_PHONEMES = 120
"""Longest piece synthesized at once (of Kokoro's 510): memory grows with a piece's audio length."""
LOOKAHEAD = 3  # pieces phonemized ahead of synthesis, per request

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


class RequestError(ValueError):
    """The request cannot be served as asked; the message is for the client."""

    def __init__(self, message: str, code: str = "bad-request") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class AudioFormat:
    rate: int
    width: int = SAMPLE_WIDTH
    channels: int = CHANNELS


class SynthesisService:
    def __init__(self, manager: ModelManager, g2p: G2P, config: Config) -> None:
        self.manager = manager
        self.g2p = g2p
        self.scheduler = Scheduler(config.limits.workers)
        self._g2p_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="g2p")
        self.phonemes: SizedLRU[str] = SizedLRU(1 << 20, size_of=lambda p: 4 * len(p) + 64)
        self.audio_cache: SizedLRU[bytes] = SizedLRU(config.limits.cache_mb << 20)
        self.max_requests = config.limits.queue
        self.active = 0
        self.observer: Callable[[str, str, Utterance | None], None] | None = None
        """Told of every request as it ends: (source, outcome, utterance or None); metrics."""
        self._catalog: tuple[int, int, VoiceCatalog] | None = None
        self._trimmer = IdleTrimmer()

    def configure(self, config: Config) -> None:
        """Apply a new config snapshot's limits; work under way finishes as it started."""
        self.scheduler.resize(config.limits.workers)
        self.audio_cache.resize(config.limits.cache_mb << 20)
        self.max_requests = config.limits.queue

    def catalog(self, config: Config, model: KokoroModel | None = None) -> VoiceCatalog:
        """Voices of the given (default: active) model under ``config``; cached."""
        model = model or self.manager.active
        cached = self._catalog
        if cached and cached[0] == id(model) and cached[1] == id(config):
            return cached[2]
        catalog = VoiceCatalog(model.voices, config)
        self._catalog = (id(model), id(config), catalog)
        return catalog

    @asynccontextmanager
    async def utterance(self, config: Config, voice: str | None = None,
                        language: str | None = None,
                        streaming: bool = False, speed: float = 1.0,
                        source: str = "wyoming") -> AsyncIterator[Utterance]:
        """One reply: holds the config snapshot and the model it started with until it ends.

        ``speed`` multiplies the voice's and the config's rate (an API request's own speed);
        ``source`` labels the request for the observer (metrics).
        """
        if self.active >= self.max_requests:
            self._observe(source, "busy", None)
            raise RequestError(f"server busy: {self.active} requests in progress "
                               f"(limits.queue = {self.max_requests}); try again shortly",
                               "busy")
        async with self.manager.lease() as model:
            try:
                chosen = self.catalog(config, model).resolve(voice, language)
            except UnknownVoice as err:
                self._observe(source, "unknown-voice", None)
                raise RequestError(str(err), "unknown-voice") from err
            self.active += 1
            utterance = Utterance(self, model, chosen, config, streaming, speed,
                                  self.catalog(config, model))
            try:
                yield utterance
            except BaseException as err:
                utterance.end(err)
                raise
            finally:
                self.active -= 1
                self._observe(source, utterance.outcome or "cancelled", utterance)
                if self.active == 0:  # idle: what the replies freed goes back to the OS
                    self._trimmer.idle(lambda: self.active == 0)

    def _observe(self, source: str, outcome: str, utterance: Utterance | None) -> None:
        if self.observer is not None:
            try:
                self.observer(source, outcome, utterance)
            except Exception:  # metrics must never break a reply
                _LOGGER.exception("request observer failed")

    async def phonemize(self, language: str, text: str, options: NormalizeOptions) -> str:
        """Normalize and phonemize on the G2P thread; "" when nothing is left to speak."""
        key = (language, text, options)
        cached = self.phonemes.get(key)
        if cached is not None:
            return cached
        loop = asyncio.get_running_loop()
        phonemes = await loop.run_in_executor(self._g2p_thread, self._to_phonemes, language,
                                              text, options)
        self.phonemes.put(key, phonemes)
        return phonemes

    def _to_phonemes(self, language: str, text: str, options: NormalizeOptions) -> str:
        spoken = normalize(text, language, options)
        return self.g2p(language, spoken) if spoken else ""

    async def synthesize(self, deadline: float, model: KokoroModel, voice: Voice,
                         phonemes: str, speed: float, ends_sentence: bool) -> bytes:
        key = (model.serial, voice.fingerprint, round(speed, 4), voice.volume, phonemes,
               ends_sentence)
        cached = self.audio_cache.get(key)
        if cached is not None:
            return cached
        future = self.scheduler.submit(deadline, _render, model, voice, phonemes, speed,
                                       ends_sentence)
        pcm = await asyncio.wrap_future(future)
        self.audio_cache.put(key, pcm)
        return pcm

    def warm_up(self, config: Config, model: KokoroModel) -> None:
        """Load the phonemizers a default request needs and run the model once (blocking).

        Raises ConfigError when ``config`` does not fit ``model`` (e.g. an unknown default voice).
        """
        voice = VoiceCatalog(model.voices, config).default
        # Latin text is what Home Assistant mostly sends: load the phonemizer that reads it for
        # the default voice. Others (e.g. Japanese for the embedded voices) load on first use,
        # on the G2P thread, and cost no memory where they are never needed.
        language = pick_language("Hello.", voice.language, config.text.fallback_language)
        self.g2p.warm_up([language])
        model.infer(self.g2p(language, "Hello."), voice.pack, 1.0)

    def close(self) -> None:
        self.scheduler.close()
        self._g2p_thread.shutdown(wait=False, cancel_futures=True)


# Kokoro surrounds every piece with about 0.27 s of silence before and 0.6 s after the speech.
# Joined as they are, a sentence cut in two would get a 0.9 s hole in the middle, and sentences
# 1 s apart. Pieces are trimmed to a natural pause: short inside a sentence, longer at its end
# (audio.sentence_silence is added after that).
LEAD = 0.05
PHRASE_TAIL = 0.1
SENTENCE_TAIL = 0.25
_SILENT = 0.01  # amplitude below which a piece's edge counts as silence
_FADE = 120  # samples (5 ms) of fade where a piece is cut inside its silence


def _render(model: KokoroModel, voice: Voice, phonemes: str, speed: float,
            ends_sentence: bool) -> bytes:
    """One piece of speech as 16-bit PCM, its edges trimmed (runs on a scheduler worker)."""
    samples = _trim(model.infer(phonemes, voice.pack, speed), model.sample_rate,
                    SENTENCE_TAIL if ends_sentence else PHRASE_TAIL)
    if voice.volume != 1.0:
        samples = samples * voice.volume
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def _trim(samples: np.ndarray, rate: int, tail: float) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples) > _SILENT)
    if loud.size == 0:
        return samples[:0]
    start = max(0, int(loud[0]) - int(LEAD * rate))
    end = min(samples.size, int(loud[-1]) + 1 + int(tail * rate))
    out = samples[start:end].copy()
    fade = min(_FADE, out.size // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        if start > 0:
            out[:fade] *= ramp
        if end < samples.size:
            out[-fade:] *= ramp[::-1]
    return out


def _silence(seconds: float, rate: int) -> bytes:
    return bytes(int(seconds * rate) * SAMPLE_WIDTH)


@dataclass(frozen=True)
class _Say:
    """A sentence to speak, with the voice, language and rate it is spoken in."""

    text: str
    voice: Voice
    language: str | None = None  # None: picked from the text and the voice
    rate: float = 1.0
    pause: float | None = None  # silence after it; None: audio.sentence_silence


@dataclass(frozen=True)
class _Piece:
    phonemes: str
    voice: Voice
    speed: float
    ends_sentence: bool
    pause: float | None


class Utterance:
    """Text for one reply goes in (whole or in chunks, or as SSML); PCM comes out in order."""

    def __init__(self, service: SynthesisService, model: KokoroModel, voice: Voice,
                 config: Config, streaming: bool = False, speed: float = 1.0,
                 catalog: VoiceCatalog | None = None) -> None:
        self.service = service
        self.model = model
        self.voice = voice
        self.config = config
        self.catalog = catalog
        self.request_speed = speed  # the request's own rate (OpenAI's speed), on top of the rest
        self.format = AudioFormat(rate=model.sample_rate)
        self.chars = 0
        self.started = time.monotonic()
        self.first_audio: float | None = None
        self.produced = 0.0  # seconds of audio handed out
        self.synthesis_wait = 0.0  # seconds spent waiting for pieces (queue + inference)
        self.outcome: str | None = None  # "ok", an error code or "cancelled", once it is known
        self._splitter = SentenceSplitter(clauses=streaming)
        self._sentences: asyncio.Queue[_Say | float | None] = asyncio.Queue()
        self._finished = False

    def _count(self, text: str) -> None:
        if self._finished:
            raise RequestError("text arrived after the end of the request", "bad-sequence")
        self.chars += len(text)
        limit = self.config.text.max_chars
        if self.chars > limit:
            self.outcome = self.outcome or "too-long"
            raise RequestError(f"text is longer than the limit of {limit} characters "
                               f"(text.max_chars)", "too-long")

    def feed(self, text: str) -> None:
        self._count(text)
        for sentence in self._splitter.add(_CONTROL.sub(" ", text)):
            self._sentences.put_nowait(_Say(sentence, self.voice))

    def feed_ssml(self, document: str) -> None:
        """A whole SSML document: voice, language, rate and breaks as it says."""
        self._count(document)
        language = self.voice.language
        try:
            segments = parse_ssml(document, language, max_chars=self.config.text.max_chars)
        except SsmlError as err:
            raise RequestError(str(err), "bad-ssml") from err
        catalog = self.catalog or self.service.catalog(self.config, self.model)
        for segment in segments:
            try:
                voice = catalog.resolve(segment.voice) if segment.voice else self.voice
            except UnknownVoice as err:
                raise RequestError(f"SSML: {err}", "unknown-voice") from err
            sentences = split_sentences(_CONTROL.sub(" ", segment.text))
            for i, sentence in enumerate(sentences):
                last = i == len(sentences) - 1
                pause = segment.pause_after if last and segment.pause_after > 0 else None
                self._sentences.put_nowait(
                    _Say(sentence, voice, segment.language, segment.rate, pause))
            if not sentences and segment.pause_after > 0:
                self._sentences.put_nowait(segment.pause_after)

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        for sentence in self._splitter.finish():
            self._sentences.put_nowait(_Say(sentence, self.voice))
        self._sentences.put_nowait(None)

    def end(self, err: BaseException | None = None) -> None:
        """Record how the reply ended (the first verdict stands)."""
        if self.outcome is not None:
            return
        if err is None:
            self.outcome = "ok"
        elif isinstance(err, RequestError):
            self.outcome = err.code
        elif isinstance(err, (asyncio.CancelledError, GeneratorExit, ConnectionError)):
            self.outcome = "cancelled"
        else:
            self.outcome = "error"

    def _deadline(self) -> float:
        """When the listener runs out of audio: now for the first piece, later for the rest."""
        if self.first_audio is None:
            return time.monotonic()
        return self.first_audio + self.produced

    def _speed(self, voice: Voice, rate: float) -> float:
        return max(0.25, min(4.0, voice.speed * self.config.audio.speed * self.request_speed
                             * rate))

    async def audio(self) -> AsyncIterator[bytes]:
        """16-bit PCM as each piece is ready, in order; ends after ``finish``."""
        audio = self.config.audio
        rate = self.format.rate
        pieces: asyncio.Queue = asyncio.Queue(maxsize=LOOKAHEAD)
        phonemizer = asyncio.create_task(self._phonemize_all(pieces))
        try:
            while (item := await pieces.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, float):  # a pause on its own
                    pcm, item_pause = b"", item
                else:
                    waited = time.monotonic()
                    pcm = await self.service.synthesize(
                        self._deadline(), self.model, item.voice, item.phonemes, item.speed,
                        item.ends_sentence)
                    self.synthesis_wait += time.monotonic() - waited
                    if not pcm:
                        continue  # nothing speakable in it
                    item_pause = None
                    if item.ends_sentence:
                        item_pause = audio.sentence_silence if item.pause is None else item.pause
                parts = [pcm, _silence(item_pause or 0.0, rate)]
                if self.first_audio is None:
                    self.first_audio = time.monotonic()
                    parts.insert(0, _silence(audio.leading_silence, rate))
                out = b"".join(parts)
                self.produced += len(out) / (SAMPLE_WIDTH * rate)
                yield out
            if self.first_audio is not None and audio.trailing_silence > 0:
                yield _silence(audio.trailing_silence, rate)
            self.end()
        except BaseException as err:
            self.end(err)
            raise
        finally:
            phonemizer.cancel()
            await asyncio.gather(phonemizer, return_exceptions=True)

    async def _phonemize_all(self, pieces: asyncio.Queue) -> None:
        """Sentences -> phoneme pieces, one step ahead of synthesis (bounded lookahead)."""
        first = self.config.text.quick_start
        try:
            while (item := await self._sentences.get()) is not None:
                if isinstance(item, float):
                    await pieces.put(item)
                    continue
                chunks = await self._phonemize(item)
                if first and chunks:
                    chunks = split_head(chunks[0]) + chunks[1:]
                    first = False
                speed = self._speed(item.voice, item.rate)
                for i, chunk in enumerate(chunks):
                    last = i == len(chunks) - 1
                    await pieces.put(_Piece(chunk, item.voice, speed, last,
                                            item.pause if last else None))
                if not chunks and item.pause:
                    await pieces.put(item.pause)
            await pieces.put(None)
        except asyncio.CancelledError:
            raise
        except BaseException as err:
            await pieces.put(err)

    async def _phonemize(self, say: _Say) -> list[str]:
        language = say.language or pick_language(say.text, say.voice.language,
                                                 self.config.text.fallback_language)
        options = self.config.text.normalize.options(language)
        try:
            phonemes = await self.service.phonemize(language, say.text, options)
        except G2PUnavailable as err:
            raise RequestError(str(err), "language-unavailable") from err
        _LOGGER.debug("[%s] %r -> %r", language, say.text, phonemes)
        return split_phonemes(phonemes, PIECE_PHONEMES) if phonemes else []
