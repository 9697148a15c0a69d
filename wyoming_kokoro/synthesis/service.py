"""SynthesisService: the one interface the front ends use.

    async with service.utterance(voice="jf_alpha") as utterance:
        utterance.feed("Hello there. ")
        utterance.finish()
        async for pcm in utterance.audio():   # int16 mono bytes, in order, as each is ready
            ...

The service owns the current config snapshot (``configure`` swaps it in one assignment) and
admits requests against its limits; each reply keeps the snapshot and the model lease it
started with. Inference never runs on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ..config import Config
from ..memory import IdleTrimmer
from ..model.kokoro import KokoroModel, ModelInfo
from ..model.manager import ModelManager
from ..text.g2p import G2P
from ..text.language import pick_language
from ..voices import UnknownVoice, VoiceCatalog
from .errors import RequestError
from .render import CacheStats, Renderer
from .utterance import Utterance

_LOGGER = logging.getLogger(__name__)

Observer = Callable[[str, str, "Utterance | None"], None]
"""Told of every request as it ends: (source, outcome, utterance or None when refused)."""


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
        self._catalog: tuple[KokoroModel, Config, VoiceCatalog] | None = None
        self._trimmer = IdleTrimmer()

    # -- config ------------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """The current snapshot; a reply keeps the one it started with."""
        return self._config

    def configure(self, config: Config) -> None:
        """Swap in a new snapshot and apply its limits; work under way finishes as it began."""
        self._renderer.configure(config.limits.workers, config.limits.cache_mb)
        self._config = config

    def add_observer(self, observer: Observer) -> None:
        self._observers.append(observer)

    # -- what clients see --------------------------------------------------------------------

    def catalog(self) -> VoiceCatalog:
        """The voices the active model and the current config offer together."""
        return self._catalog_for(self._manager.active, self._config)

    def _catalog_for(self, model: KokoroModel, config: Config) -> VoiceCatalog:
        cached = self._catalog
        if cached and cached[0] is model and cached[1] is config:
            return cached[2]
        catalog = VoiceCatalog(model.voices, config)
        self._catalog = (model, config, catalog)
        return catalog

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
                        streaming: bool = False, speed: float = 1.0,
                        source: str = "wyoming") -> AsyncIterator[Utterance]:
        """One reply, with the current config snapshot and the active model.

        ``speed`` multiplies the voice's and the config's rate (an API request's own speed);
        ``source`` labels the request for the observers (metrics).
        """
        config = self._config
        if self._active >= config.limits.queue:
            self._observe(source, "busy", None)
            raise RequestError(f"server busy: {self._active} requests in progress "
                               f"(limits.queue = {config.limits.queue}); try again shortly",
                               "busy")
        async with self._manager.lease() as model:
            catalog = self._catalog_for(model, config)
            try:
                chosen = catalog.resolve(voice, language)
            except UnknownVoice as err:
                self._observe(source, "unknown-voice", None)
                raise RequestError(str(err), "unknown-voice") from err
            self._active += 1
            utterance = Utterance(self._renderer, model, catalog, chosen, config, streaming,
                                  speed)
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
        voice = VoiceCatalog(model.voices, config).default
        # Latin text is what Home Assistant mostly sends: load the phonemizer that reads it for
        # the default voice. Others (e.g. Japanese for the embedded voices) load on first use,
        # on the G2P thread, and cost no memory where they are never needed.
        language = pick_language("Hello.", voice.language, config.text.fallback_language)
        g2p = self._renderer.g2p
        g2p.warm_up([language])
        model.infer(g2p(language, "Hello."), voice.pack, 1.0)

    def check(self, config: Config, model: KokoroModel) -> None:
        """Raise ConfigError unless ``config``'s voices and mixes fit ``model``."""
        self._catalog_for(model, config)

    def close(self) -> None:
        self._renderer.close()
