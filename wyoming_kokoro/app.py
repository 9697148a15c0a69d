"""Wires the parts: config snapshot, model manager, synthesis service, Wyoming server, zeroconf."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

from wyoming.event import Event
from wyoming.server import AsyncServer, AsyncTcpServer

from .config import Config
from .discovery import Advertiser, default_service_name
from .handler import KokoroEventHandler, build_info
from .model.kokoro import ModelSpec, load_model
from .model.manager import ModelManager
from .service import SynthesisService
from .text.g2p import G2P

_LOGGER = logging.getLogger(__name__)


def model_spec(config: Config) -> ModelSpec:
    m = config.model
    return ModelSpec(bundle=m.bundle, backend=m.backend, device=m.device, threads=m.threads,
                     cache_dir=m.cache_dir)


class App:
    def __init__(self, config: Config, config_path: Path | None = None) -> None:
        self.config = config
        self.config_path = config_path
        self.manager = ModelManager()
        self.g2p = G2P()
        self.service = SynthesisService(self.manager, self.g2p, workers=config.limits.workers)
        self.started = time.monotonic()
        self._info: tuple[object, Event] | None = None
        self._stop = asyncio.Event()
        self._server: AsyncServer | None = None
        self._advertiser: Advertiser | None = None

    def info_event(self) -> Event:
        """The ``info`` answer for the active model and config; built once per change."""
        catalog = self.service.catalog(self.config)
        if self._info is None or self._info[0] is not catalog:
            self._info = (catalog, build_info(catalog, self.manager.active.name).event())
        return self._info[1]

    async def start(self) -> None:
        """Load the model, warm up, listen, advertise."""
        config = self.config
        model = await asyncio.to_thread(load_model, model_spec(config))
        self.manager.install(model)
        self.service.catalog(config)  # validates default_voice against the model's voices
        started = time.perf_counter()
        await asyncio.to_thread(self.service.warm_up, config)
        _LOGGER.info("Warmed up in %.2f s", time.perf_counter() - started)

        self._server = AsyncServer.from_uri(config.server.uri)
        await self._server.start(partial(KokoroEventHandler, self))
        _LOGGER.info("Ready: Wyoming server on %s", config.server.uri)

        if config.server.zeroconf:
            await self._advertise(config)

    async def _advertise(self, config: Config) -> None:
        if not isinstance(self._server, AsyncTcpServer):
            _LOGGER.warning("zeroconf needs a tcp:// URI; not advertising %s", config.server.uri)
            return
        parsed = urlparse(config.server.uri)
        name = config.server.zeroconf_name or default_service_name()
        self._advertiser = Advertiser(name, parsed.hostname or "", parsed.port or 10200)
        await self._advertiser.start()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        try:
            await self.start()
            await self._stop.wait()
            _LOGGER.info("Stopping")
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self._advertiser is not None:
            await self._advertiser.close()
            self._advertiser = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        self.service.close()
        self.manager.close()
