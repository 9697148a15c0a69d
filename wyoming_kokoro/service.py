"""SynthesisService: text in (whole or streamed), ordered PCM out, sentence by sentence.

The Wyoming handler (and any other front end) is a thin adapter over::

    async with service.utterance(config, voice="jf_alpha") as utterance:
        utterance.feed("Hello there. ")
        utterance.finish()
        async for pcm in utterance.audio():   # int16 mono bytes, one piece per sentence part
            ...

Inference runs on worker threads, never on the event loop. Each sentence is phonemized and
synthesized as its own job, so audio for the first sentence is ready while the rest still waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass

import numpy as np

from .config import Config
from .model.kokoro import KokoroModel
from .model.manager import ModelManager
from .text.g2p import G2P, G2PUnavailable
from .text.language import pick_language
from .text.split import SentenceSplitter, split_phonemes
from .voices import UnknownVoice, Voice, VoiceCatalog

_LOGGER = logging.getLogger(__name__)

SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
CHANNELS = 1


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
    def __init__(self, manager: ModelManager, g2p: G2P, workers: int = 1) -> None:
        self.manager = manager
        self.g2p = g2p
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kokoro")
        self._catalog: tuple[int, int, VoiceCatalog] | None = None

    def configure(self, config: Config) -> None:
        """Apply a new config snapshot's limits; work already queued finishes where it is."""
        workers = config.limits.workers
        if workers != self.workers:
            old, self._executor = self._executor, ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="kokoro")
            self.workers = workers
            old.shutdown(wait=False)

    def catalog(self, config: Config, model: KokoroModel | None = None) -> VoiceCatalog:
        """Voices of the given (default: active) model under ``config``; cached."""
        model = model or self.manager.active
        cached = self._catalog
        if cached and cached[0] == id(model) and cached[1] == id(config):
            return cached[2]
        catalog = VoiceCatalog(model.voices, config)
        self._catalog = (id(model), id(config), catalog)
        return catalog

    def audio_format(self) -> AudioFormat:
        return AudioFormat(rate=self.manager.active.sample_rate)

    @asynccontextmanager
    async def utterance(self, config: Config, voice: str | None = None,
                        language: str | None = None) -> AsyncIterator[Utterance]:
        """One reply: holds the config snapshot and the model it started with until it ends."""
        async with self.manager.lease() as model:
            try:
                chosen = self.catalog(config, model).resolve(voice, language)
            except UnknownVoice as err:
                raise RequestError(str(err), "unknown-voice") from err
            yield Utterance(self, model, chosen, config)

    async def run(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    def warm_up(self, config: Config, model: KokoroModel) -> None:
        """Load the phonemizers a default request needs and run the model once (blocking).

        Raises ConfigError when ``config`` does not fit ``model`` (e.g. an unknown default voice).
        """
        voice = VoiceCatalog(model.voices, config).default
        self.g2p.warm_up([voice.language, config.text.fallback_language])
        model.infer(self.g2p(voice.language, "Hello."), voice.pack, 1.0)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class Utterance:
    """Text for one reply goes in (whole or in chunks); PCM comes out in order."""

    def __init__(self, service: SynthesisService, model: KokoroModel, voice: Voice,
                 config: Config) -> None:
        self.service = service
        self.model = model
        self.voice = voice
        self.config = config
        self.format = AudioFormat(rate=model.sample_rate)
        self.chars = 0
        self._splitter = SentenceSplitter()
        self._sentences: asyncio.Queue[str | None] = asyncio.Queue()
        self._finished = False

    def feed(self, text: str) -> None:
        if self._finished:
            raise RequestError("text arrived after the end of the request", "bad-sequence")
        self.chars += len(text)
        limit = self.config.text.max_chars
        if self.chars > limit:
            raise RequestError(f"text is longer than the limit of {limit} characters "
                               f"(text.max_chars)", "too-long")
        for sentence in self._splitter.add(text):
            self._sentences.put_nowait(sentence)

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        for sentence in self._splitter.finish():
            self._sentences.put_nowait(sentence)
        self._sentences.put_nowait(None)

    async def audio(self) -> AsyncIterator[bytes]:
        """16-bit PCM, one piece per sentence part, as each is ready; ends after ``finish``."""
        audio = self.config.audio
        rate = self.format.rate
        speed = max(0.25, min(4.0, self.voice.speed * audio.speed))
        first = True
        while (sentence := await self._sentences.get()) is not None:
            pieces = await self.service.run(self._phonemize, sentence)
            for i, piece in enumerate(pieces):
                silence = audio.sentence_silence if i == len(pieces) - 1 else 0.0
                lead = audio.leading_silence if first else 0.0
                pcm = await self.service.run(self._render, piece, speed, lead, silence, rate)
                if pcm:
                    first = False
                    yield pcm
        if not first and audio.trailing_silence > 0:
            yield bytes(int(audio.trailing_silence * rate) * SAMPLE_WIDTH)

    def _phonemize(self, sentence: str) -> list[str]:
        language = pick_language(sentence, self.voice.language,
                                 self.config.text.fallback_language)
        try:
            phonemes = self.service.g2p(language, sentence)
        except G2PUnavailable as err:
            raise RequestError(str(err), "language-unavailable") from err
        _LOGGER.debug("[%s] %r -> %r", language, sentence, phonemes)
        return split_phonemes(phonemes)

    def _render(self, phonemes: str, speed: float, lead: float, tail: float, rate: int) -> bytes:
        samples = self.model.infer(phonemes, self.voice.pack, speed)
        if samples.size == 0:
            return b""
        if self.voice.volume != 1.0:
            samples = samples * self.voice.volume
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
        parts = [bytes(int(lead * rate) * SAMPLE_WIDTH), pcm.tobytes(),
                 bytes(int(tail * rate) * SAMPLE_WIDTH)]
        return b"".join(parts)
