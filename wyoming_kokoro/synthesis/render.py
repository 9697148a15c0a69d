"""Phonemes and audio for one sentence at a time, shared by every reply: the G2P thread, the
inference scheduler and the caches in front of them (phonemes; synthesized phrases in memory and
on disk, one key for both tiers)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ..engine.windows import Rendering
from ..model.kokoro import KokoroModel
from ..text.g2p import G2P
from ..text.normalize import NormalizeOptions
from ..text.pipeline import to_phonemes
from ..text.pronunciations import Pronunciations
from ..voices import Voice
from .cache import SizedLRU
from .disk_cache import CacheKey, DiskCache
from .pcm import PHRASE_TAIL, SENTENCE_TAIL, to_pcm16, trim_silence
from .scheduler import Scheduler

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

PHONEME_CACHE_BYTES = 1 << 20
RENDERING = "pieces-1"
"""How a piece's audio is made beyond its key (trimming, fades): part of every cache key, so a
change in it never plays audio made the old way. Bump it with any such change."""
WINDOWED = "windows-5"  # the same for sentences decoded in windows (engine/windows.py)


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
        self.disk: DiskCache | None = None  # set once opened (off the event loop)
        self._disk_io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="disk-cache")
        self.unheard = 0
        """Live replies whose text is in and whose listener has heard nothing yet (kept by
        ``Utterance``). Counted from the text, not the first job: replies that arrive together
        are still in G2P when the first one's window starts, and the scheduler's queue does not
        show them yet."""

    def configure(self, workers: int, cache_mb: int) -> None:
        self.scheduler.resize(workers)
        self.audio.resize(cache_mb << 20)

    def cache_stats(self) -> dict[str, CacheStats]:
        """By cache: ``memory`` and ``disk`` (the audio tiers), ``phoneme``."""
        stats = {name: CacheStats(cache.hits, cache.misses, cache.bytes, len(cache))
                 for name, cache in (("memory", self.audio), ("phoneme", self.phonemes))}
        if self.disk is not None:
            disk = self.disk.stats()
            stats["disk"] = CacheStats(disk.hits, disk.misses, disk.bytes, disk.entries)
        return stats

    async def run_disk(self, fn: Callable[..., T], *args: object) -> T:
        """Disk-cache work on its own thread, never on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._disk_io, fn, *args)

    async def clear_caches(self) -> int:
        """Forget every synthesized phrase, in memory and on disk; how many were dropped."""
        dropped = len(self.audio)
        self.audio.clear()
        if self.disk is not None:
            dropped += await self.run_disk(self.disk.clear)
        return dropped

    async def phonemize(self, language: str, text: str, options: NormalizeOptions,
                        pronunciations: Pronunciations, inline: bool) -> str:
        """Normalize, apply the lexicon and phonemize on the G2P thread; "" when nothing is
        left to speak. Raises PhonemeError for inline phonemes the model cannot say."""
        key = (language, text, options, pronunciations.fingerprint, inline)
        cached = self.phonemes.get(key)
        if cached is not None:
            return cached
        phonemes = await self.on_g2p_thread(to_phonemes, self.g2p, language, text, options,
                                            pronunciations, inline)
        self.phonemes.put(key, phonemes)
        return phonemes

    async def on_g2p_thread(self, fn: Callable[..., T], *args: object) -> T:
        """Text work (the phonemizers keep global state) on the one G2P thread."""
        return await asyncio.get_running_loop().run_in_executor(self._g2p_thread, fn, *args)

    async def speak(self, deadline: Callable[[], float], model: KokoroModel, voice: Voice,
                    phonemes: str, speed: float, ends_sentence: bool,
                    cap_silence: bool = True) -> AsyncGenerator[bytes, None]:
        """16-bit PCM for one piece of phonemes, from a cache tier or the scheduler's workers.

        ``deadline()`` is when the listener runs out of audio: the scheduler runs the most
        urgent work of all replies first.
        """
        windowed = model.windowed
        rendering = (f"{WINDOWED}-{model.precision}-{'capped' if cap_silence else 'full'}"
                     if windowed else RENDERING)
        key = CacheKey.of(model, voice, phonemes, round(speed, 4), ends_sentence, rendering)
        pcm = self.audio.get(key.digest)
        disk = self.disk
        if pcm is None and disk is not None:
            pcm = await self.run_disk(disk.get, key)
            if pcm is not None:
                self.audio.put(key.digest, pcm)
        if pcm is not None:
            yield pcm
            return
        if windowed:
            parts = []
            async for pcm in self._windows(deadline, model, voice, phonemes, speed, cap_silence):
                parts.append(pcm)
                yield pcm
            rendered = b"".join(parts)  # only once every window is out: a hang-up caches nothing
        else:
            future = self.scheduler.submit(deadline(), _render, model, voice, phonemes, speed,
                                           ends_sentence)
            rendered = await asyncio.wrap_future(future)
        self.audio.put(key.digest, rendered)
        if disk is not None and rendered:  # written behind the reply, never delaying it
            asyncio.get_running_loop().run_in_executor(self._disk_io, disk.put, key, rendered)
        if not windowed:
            yield rendered

    async def _windows(self, deadline: Callable[[], float], model: KokoroModel, voice: Voice,
                       phonemes: str, speed: float,
                       cap_silence: bool) -> AsyncGenerator[bytes, None]:
        """A sentence window by window: each window is one job for the scheduler, due when the
        listener runs out of audio, so replies interleave window by window."""
        due = deadline()
        future = self.scheduler.submit(due, _open, model, voice, phonemes, speed, cap_silence,
                                       due, self._crowded)
        rendering, pcm = await asyncio.wrap_future(future)
        yield pcm
        while not rendering.finished:
            due = deadline()
            future = self.scheduler.submit(due, _next, rendering, voice.volume, due)
            yield await asyncio.wrap_future(future)

    def _crowded(self) -> bool:
        """Whether other replies wait for the decoder (on a worker, when a first window is
        planned): work overdue in the queue, or another reply that has heard nothing yet (the
        reply asking is counted too while it has heard nothing, hence more than one)."""
        return self.scheduler.overdue(time.monotonic()) > 0 or self.unheard > 1

    def close(self) -> None:
        self.scheduler.close()
        self._g2p_thread.shutdown(wait=False, cancel_futures=True)
        self._disk_io.shutdown(wait=True)  # entries being written are finished


def measure_decoder(model: KokoroModel, pack: np.ndarray, phonemes: str) -> None:
    """Decode ``phonemes`` in one timed window (blocking): the window planner then starts from
    this machine's decoder speed, not from its deliberately slow prior, which made the first
    reply after a start open with a 134-frame window here (3 s to first audio instead of 0.3)."""
    front, gaps, skip = model.front(phonemes, pack, 1.0)
    Rendering(model.backend, front, model.costs, gaps, skip).rest()  # type: ignore[arg-type]


def _ahead(due: float) -> float:
    """Seconds of audio the listener has left now, for a job due at ``due`` (taken when the job
    runs: it may have waited in the queue)."""
    return max(0.0, due - time.monotonic()) if math.isfinite(due) else math.inf


def _open(model: KokoroModel, voice: Voice, phonemes: str, speed: float, cap_silence: bool,
          due: float, crowded: Callable[[], bool]) -> tuple[Rendering, bytes]:
    """A sentence's FRONT and its first window (one job: the first audio waits for both)."""
    front, gaps, skip = model.front(phonemes, voice.pack, speed, cap_silence)
    rendering = Rendering(model.backend, front, model.costs, gaps, skip)  # type: ignore[arg-type]
    pcm = to_pcm16(rendering.begin(_ahead(due), crowded()), voice.volume)
    return rendering, pcm


def _next(rendering: Rendering, volume: float, due: float) -> bytes:
    return to_pcm16(rendering.next(rendering.frames_for(_ahead(due))), volume)


def _render(model: KokoroModel, voice: Voice, phonemes: str, speed: float,
            ends_sentence: bool) -> bytes:
    """One piece of speech as 16-bit PCM, its edges trimmed (runs on a scheduler worker)."""
    samples = trim_silence(model.infer(phonemes, voice.pack, speed), model.sample_rate,
                           SENTENCE_TAIL if ends_sentence else PHRASE_TAIL)
    return to_pcm16(samples, voice.volume)
