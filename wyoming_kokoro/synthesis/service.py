"""SynthesisService: the one interface the front ends use.

    async with service.utterance(voice="jf_alpha") as utterance:
        utterance.feed("Hello there. ")
        utterance.finish()
        async for pcm in utterance.audio():   # int16 mono bytes, in order, as each is ready
            ...

The service owns the current config snapshot (``configure`` swaps it in one assignment) and
admits requests against its limits; each reply keeps the snapshot and the model lease it
started with. Inference never runs on the event loop. Synthesized phrases are kept in memory
and on disk (so a restart keeps them), and ``cache.prerender`` phrases are rendered in the
background, after all live work, whenever the model or the voices change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from ..config import Config, ConfigError
from ..memory import IdleTrimmer
from ..model.kokoro import KokoroModel, ModelInfo
from ..model.manager import ModelManager
from ..text.g2p import G2P
from ..text.language import pick_language
from ..text.pipeline import preview
from ..text.pronunciations import PronunciationError, Pronunciations
from ..text.split import BREAK
from ..voices import UnknownVoice, VoiceCatalog
from .disk_cache import DiskCache, default_directory
from .errors import RequestError
from .prerender import Prerenderer, prerender_phrases
from .render import CacheStats, Renderer, measure_decoder
from .utterance import CONTROL, Utterance

_LOGGER = logging.getLogger(__name__)

WARM_UP = "Hello, the living room lights are on."  # ~60 frames: one window's worth, timed

Observer = Callable[[str, str, "Utterance | None"], None]
"""Told of every request as it ends: (source, outcome, utterance or None when refused)."""


@dataclass(frozen=True)
class Prepared:
    """What a model and a config snapshot make together: the voices and the lexicon."""

    catalog: VoiceCatalog
    pronunciations: Pronunciations


@dataclass(frozen=True)
class ServiceStats:
    """What the service is doing now (for /health, /metrics and the web page)."""

    requests_active: int
    queue_pending: int
    workers_busy: int
    caches: dict[str, CacheStats]
    model: ModelInfo | None


class SynthesisService:
    def __init__(self, manager: ModelManager, g2p: G2P, config: Config) -> None:
        self._manager = manager
        self._config = config
        limits = config.limits
        self._renderer = Renderer(g2p, limits.workers, limits.cache_mb)
        self._active = 0
        self._observers: list[Observer] = []
        self._prepared: tuple[KokoroModel, Config, Prepared] | None = None
        self._trimmer = IdleTrimmer()
        self._prerenderer = Prerenderer(self._prerender)
        self._prerendered_for: tuple[KokoroModel, Config] | None = None
        self._tasks: set[asyncio.Task] = set()

    # -- config ------------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """The current snapshot; a reply keeps the one it started with."""
        return self._config

    def configure(self, config: Config) -> None:
        """Swap in a new snapshot and apply its limits; work under way finishes as it began.

        Call on the event loop: the disk tier is reopened and the prerendering restarted in the
        background when what they depend on changed.
        """
        old = self._config
        self._renderer.configure(config.limits.workers, config.limits.cache_mb)
        self._config = config
        if (old.cache.disk_mb, old.model.cache_dir) != (config.cache.disk_mb,
                                                        config.model.cache_dir):
            self._spawn(self._open_disk(config))
        self._spawn(self._restart_prerender())

    def add_observer(self, observer: Observer) -> None:
        self._observers.append(observer)

    # -- what clients see --------------------------------------------------------------------

    def catalog(self) -> VoiceCatalog:
        """The voices the active model and the current config offer together."""
        return self._prepared_for(self._manager.active, self._config).catalog

    def _prepared_for(self, model: KokoroModel, config: Config) -> Prepared:
        """Built once per (model, config); raises ConfigError when they do not fit."""
        cached = self._prepared
        if cached and cached[0] is model and cached[1] is config:
            return cached[2]
        catalog = VoiceCatalog(model.voices, config)
        try:
            pronunciations = Pronunciations.compile(config.pronunciations, model.vocab)
        except PronunciationError as err:
            raise ConfigError(str(err)) from None
        prepared = Prepared(catalog, pronunciations)
        self._prepared = (model, config, prepared)
        return prepared

    async def preview(self, text: str, voice: str | None = None) -> dict[str, Any]:
        """How ``text`` would be read by ``voice``, sentence by sentence: the language, the
        normalized text, the phonemes, the lexicon and inline hits (GET /phonemes)."""
        config = self._config
        prepared = self._prepared_for(self._manager.active, config)
        try:
            chosen = prepared.catalog.resolve(voice)
        except UnknownVoice as err:
            raise RequestError(str(err), "unknown-voice") from err
        readings = await self._renderer.on_g2p_thread(
            preview, self._renderer.g2p, CONTROL.sub(" ", text), chosen.language,
            config.text.fallback_language, config.text.normalize.options,
            prepared.pronunciations, config.text.inline_phonemes)
        return {"voice": chosen.name, "lexicon": prepared.pronunciations.fingerprint,
                "inline_phonemes": config.text.inline_phonemes,
                "sentences": [_as_said(reading.as_dict()) for reading in readings]}

    async def start(self) -> None:
        """Open the disk tier (off the loop: it scans its folder) and start prerendering; once
        the model is installed."""
        await self._open_disk(self._config)
        await self._restart_prerender()

    async def _open_disk(self, config: Config) -> None:
        directory = default_directory(config.model.cache_dir)
        disk = await asyncio.to_thread(DiskCache, directory, config.cache.disk_mb << 20)
        self._renderer.disk = disk if disk.enabled else None
        if disk.enabled:
            _LOGGER.info("Phrase cache on disk: %s (%d phrases, %.1f of %d MB)", directory,
                         len(disk), disk.bytes / 1e6, config.cache.disk_mb)

    async def _restart_prerender(self) -> None:
        """(Re)start prerendering for a new model or config (phrases already cached cost a
        cache read, no inference)."""
        model, config = self._manager.active, self._config
        last = self._prerendered_for
        if last is not None and last[0] is model and last[1] is config:
            return
        self._prerendered_for = (model, config)
        languages = self._prepared_for(model, config).catalog.default.languages
        phrases = await asyncio.to_thread(prerender_phrases, config.cache, languages)
        await self._prerenderer.start(phrases)
        if self._active:
            self._prerenderer.pause()

    async def prerendered(self) -> int:
        """Wait for the prerendering under way; the phrases it rendered (tests, warm-up)."""
        return (await self._prerenderer.wait()).rendered

    async def _prerender(self, text: str, voice: str | None) -> None:
        async with self.utterance(voice, source="prerender", background=True) as utterance:
            utterance.feed(text)
            utterance.finish()
            async for _ in utterance.audio():
                pass

    async def clear_cache(self) -> int:
        """Forget every synthesized phrase, in memory and on disk; how many were dropped."""
        return await self._renderer.clear_caches()

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stats(self) -> ServiceStats:
        scheduler = self._renderer.scheduler
        manager = self._manager
        return ServiceStats(
            requests_active=self._active, queue_pending=scheduler.pending,
            workers_busy=scheduler.busy, caches=self._renderer.cache_stats(),
            model=manager.active.info() if manager.loaded else None)

    # -- replies -----------------------------------------------------------------------------

    @asynccontextmanager
    async def utterance(self, voice: str | None = None, language: str | None = None,
                        streaming: bool = False, speed: float = 1.0, source: str = "wyoming",
                        background: bool = False) -> AsyncIterator[Utterance]:
        """One reply, with the current config snapshot and the active model.

        ``speed`` multiplies the voice's and the config's rate (an API request's own speed);
        ``source`` labels the request for the observers (metrics). A ``background`` reply
        (prerendering) has no listener: its work runs after all live work, and it is neither
        admitted against ``limits.queue`` nor counted as active.
        """
        if background:
            async with self._manager.lease() as model:
                prepared = self._prepared_for(model, self._config)
                try:
                    chosen = prepared.catalog.resolve(voice)
                except UnknownVoice as err:
                    raise RequestError(str(err), "unknown-voice") from err
                yield Utterance(self._renderer, model, prepared.catalog,
                                prepared.pronunciations, chosen, self._config, background=True)
            return
        config = self._config
        if self._active >= config.limits.queue:
            self._observe(source, "busy", None)
            raise RequestError(f"server busy: {self._active} requests in progress "
                               f"(limits.queue = {config.limits.queue}); try again shortly",
                               "busy")
        async with self._manager.lease() as model:
            prepared = self._prepared_for(model, config)
            try:
                chosen = prepared.catalog.resolve(voice, language)
            except UnknownVoice as err:
                self._observe(source, "unknown-voice", None)
                raise RequestError(str(err), "unknown-voice") from err
            self._active += 1
            self._prerenderer.pause()  # live replies first, from the next phrase on
            utterance = Utterance(self._renderer, model, prepared.catalog,
                                  prepared.pronunciations, chosen, config, streaming, speed)
            try:
                yield utterance
            except BaseException as err:
                utterance.end(err)
                raise
            finally:
                self._active -= 1
                self._observe(source, utterance.outcome or "cancelled", utterance)
                if self._active == 0:  # idle: what the replies freed goes back to the OS
                    self._trimmer.idle(lambda: self._active == 0)
                    self._prerenderer.resume()

    def _observe(self, source: str, outcome: str, utterance: Utterance | None) -> None:
        for observer in self._observers:
            try:
                observer(source, outcome, utterance)
            except Exception:  # metrics must never break a reply
                _LOGGER.exception("request observer failed")

    # -- life cycle --------------------------------------------------------------------------

    def warm_up(self, config: Config, model: KokoroModel) -> None:
        """Check ``config`` fits ``model``, load the phonemizers a default request needs and
        run the model once (blocking; before the model serves).

        Raises ConfigError when ``config`` does not fit ``model`` (e.g. an unknown default voice).
        """
        self.check(config, model)
        voice = self._prepared_for(model, config).catalog.default
        # Latin text is what Home Assistant mostly sends: load the phonemizer that reads it for
        # the default voice. Others (e.g. Japanese for the embedded voices) load on first use,
        # on the G2P thread, and cost no memory where they are never needed.
        language = pick_language("Hello.", voice.language, config.text.fallback_language)
        g2p = self._renderer.g2p
        g2p.warm_up([language])
        phonemes = g2p(language, WARM_UP)
        model.infer(phonemes, voice.pack, 1.0)  # the first run pays onnxruntime's set-up
        if model.windowed:
            measure_decoder(model, voice.pack, phonemes)

    def check(self, config: Config, model: KokoroModel) -> None:
        """Raise ConfigError unless ``config``'s voices, mixes and pronunciations fit ``model``;
        build the lexicon's matchers for the voices' languages (blocking: off the loop)."""
        prepared = self._prepared_for(model, config)
        languages = {voice.language for voice in prepared.catalog}
        for language in (*sorted(languages), config.text.fallback_language):
            prepared.pronunciations.prepare(language, config.text.normalize.options(language))

    async def stop(self) -> None:
        """Stop prerendering and background work, then release threads (the disk tier's
        pending writes finish)."""
        await self._prerenderer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.to_thread(self._renderer.close)


def _as_said(reading: dict[str, Any]) -> dict[str, Any]:
    """A reading with its phonemes as the model gets them: without the phrase-break marks the
    phonemizer leaves for the piece planner (they are never spoken)."""
    reading["phonemes"] = " ".join(reading["phonemes"].replace(BREAK, " ").split())
    return reading
