"""Phonemes and audio for one sentence at a time, shared by every reply: the G2P thread, the
inference scheduler and the two caches in front of them (phonemes, and synthesized phrases)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..model.kokoro import KokoroModel
from ..text.g2p import G2P
from ..text.normalize import NormalizeOptions, normalize
from ..voices import Voice
from .cache import SizedLRU
from .pcm import PHRASE_TAIL, SENTENCE_TAIL, to_pcm16, trim_silence
from .scheduler import Scheduler

PHONEME_CACHE_BYTES = 1 << 20


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    bytes: int
    entries: int


class Renderer:
    def __init__(self, g2p: G2P, workers: int, cache_mb: int) -> None:
        self.g2p = g2p
        self.scheduler = Scheduler(workers)
        self._g2p_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="g2p")
        self.phonemes: SizedLRU[str] = SizedLRU(PHONEME_CACHE_BYTES,
                                                size_of=lambda p: 4 * len(p) + 64)
        self.audio: SizedLRU[bytes] = SizedLRU(cache_mb << 20)

    def configure(self, workers: int, cache_mb: int) -> None:
        self.scheduler.resize(workers)
        self.audio.resize(cache_mb << 20)

    def cache_stats(self) -> dict[str, CacheStats]:
        return {name: CacheStats(cache.hits, cache.misses, cache.bytes, len(cache))
                for name, cache in (("audio", self.audio), ("phoneme", self.phonemes))}

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

    async def speak(self, deadline: Callable[[], float], model: KokoroModel, voice: Voice,
                    phonemes: str, speed: float, ends_sentence: bool) -> AsyncIterator[bytes]:
        """16-bit PCM for one piece of phonemes, from the cache or the scheduler's workers.

        ``deadline()`` is when the listener runs out of audio: the scheduler runs the most
        urgent work of all replies first.
        """
        key = (model.serial, voice.fingerprint, round(speed, 4), voice.volume, phonemes,
               ends_sentence)
        cached = self.audio.get(key)
        if cached is not None:
            yield cached
            return
        future = self.scheduler.submit(deadline(), _render, model, voice, phonemes, speed,
                                       ends_sentence)
        pcm = await asyncio.wrap_future(future)
        self.audio.put(key, pcm)
        yield pcm

    def close(self) -> None:
        self.scheduler.close()
        self._g2p_thread.shutdown(wait=False, cancel_futures=True)


def _render(model: KokoroModel, voice: Voice, phonemes: str, speed: float,
            ends_sentence: bool) -> bytes:
    """One piece of speech as 16-bit PCM, its edges trimmed (runs on a scheduler worker)."""
    samples = trim_silence(model.infer(phonemes, voice.pack, speed), model.sample_rate,
                           SENTENCE_TAIL if ends_sentence else PHRASE_TAIL)
    return to_pcm16(samples, voice.volume)
