"""The composition root: builds the model manager, the synthesis service, the controller, the
metrics and the front ends (Wyoming, HTTP), and runs them: start, zeroconf, signals, config file
watch, stop. Only ``__main__`` (and tests) import it; nothing it builds knows it exists.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from wyoming.server import AsyncServer, AsyncTcpServer

from .config import Config
from .control import Controller
from .frontends.wyoming.handler import KokoroEventHandler
from .frontends.wyoming.info import InfoSource
from .model.manager import ModelManager
from .synthesis.service import SynthesisService
from .text.g2p import G2P

if TYPE_CHECKING:
    from .discovery import Advertiser
    from .frontends.http.server import HttpServer

_LOGGER = logging.getLogger(__name__)


class App:
    def __init__(self, config: Config, config_path: Path | None = None,
                 overrides: dict[str, Any] | None = None) -> None:
        self.manager = ModelManager()
        self.service = SynthesisService(self.manager, G2P(config.model.cache_dir), config)
        self.controller = Controller(self.manager, self.service, config_path, overrides)
        self.info = InfoSource(self.service)
        self.http: HttpServer | None = None  # when http.enabled or http.ingress_port
        self._stop = asyncio.Event()
        self._server: AsyncServer | None = None
        self._advertiser: Advertiser | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def config(self) -> Config:
        return self.service.config

    async def start(self) -> None:
        """Load the model, warm up, listen, advertise, watch the config file."""
        config = self.service.config
        model = await asyncio.to_thread(self.controller.load, config)
        self.manager.install(model)
        await self.service.start()

        self._server = AsyncServer.from_uri(config.server.uri)
        await self._server.start(partial(KokoroEventHandler, self.service, self.info))
        if config.http.enabled or config.http.ingress_port is not None:
            # aiohttp and prometheus-client (25 MB of RSS) only when the API, their one user,
            # is on; it starts with the server, so its metrics count every request.
            from .frontends.http.server import HttpServer
            from .metrics import Metrics

            self.http = HttpServer(self.service, self.controller,
                                   Metrics(self.service, self.controller))
            await self.http.start()
        _LOGGER.info("Ready: Wyoming server on %s", config.server.uri)

        if config.server.zeroconf:
            await self._advertise(config)
        if self.controller.config_path is not None and config.server.watch_config:
            self._spawn(self._watch_config(self.controller.config_path))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP,
                                lambda: self._spawn(self.controller.reload("SIGHUP")))
        try:
            await self.start()
            await self._stop.wait()
            _LOGGER.info("Stopping")
        finally:
            await self.stop()

    async def stop(self) -> None:
        self._stop.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._advertiser is not None:
            await self._advertiser.close()
            self._advertiser = None
        if self.http is not None:
            await self.http.stop()
            self.http = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        await self.service.stop()
        self.manager.close()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _advertise(self, config: Config) -> None:
        if not isinstance(self._server, AsyncTcpServer):
            _LOGGER.warning("zeroconf needs a tcp:// URI; not advertising %s", config.server.uri)
            return
        from .discovery import Advertiser, default_service_name  # zeroconf (4 MB) when asked

        parsed = urlparse(config.server.uri)
        name = config.server.zeroconf_name or default_service_name()
        try:
            self._advertiser = Advertiser(name, parsed.hostname or "", parsed.port or 10200)
            await self._advertiser.start()
        except Exception as err:  # serving matters more than mDNS
            _LOGGER.error("Zeroconf advertisement failed, serving without it: %s", err)
            if self._advertiser is not None:
                await self._advertiser.close()
                self._advertiser = None

    async def _watch_config(self, config_path: Path) -> None:
        from watchfiles import awatch

        path = config_path.resolve()
        _LOGGER.info("Watching %s for changes", path)

        def ours(_change, changed_path: str) -> bool:
            return Path(changed_path).name == path.name

        try:
            async for _changes in awatch(path.parent, watch_filter=ours, debounce=400,
                                         recursive=False, stop_event=self._stop):
                if path.exists():
                    await self.controller.reload("file changed")
                else:
                    _LOGGER.warning("%s was removed; keeping the running config", path)
        except (OSError, RuntimeError) as err:
            _LOGGER.error("Cannot watch %s (%s); reload with SIGHUP instead", path, err)
