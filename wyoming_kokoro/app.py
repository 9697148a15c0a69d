"""Wires the parts: config snapshot, model manager, synthesis service, Wyoming server, zeroconf,
config reload (file watch + SIGHUP) and model hot swap.

A reload is all or nothing: the file is parsed and validated, a changed model is loaded and warmed
up beside the running one, the voices are checked against it, and only then are the model and
the config snapshot swapped. Anything that fails leaves the running model and config serving.
Requests in flight keep the snapshot and the model they started with.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from wyoming.event import Event
from wyoming.server import AsyncServer, AsyncTcpServer

from .config import Config, ConfigError, load_config
from .discovery import Advertiser, default_service_name
from .handler import KokoroEventHandler, build_info
from .metrics import Metrics
from .model.bundle import BundleError
from .model.kokoro import KokoroModel, ModelSpec, load_model
from .model.manager import ModelManager
from .service import SynthesisService
from .text.g2p import G2P

if TYPE_CHECKING:
    from .web.server import HttpServer

_LOGGER = logging.getLogger(__name__)

_RESTART_KEYS = ("uri", "zeroconf", "zeroconf_name", "watch_config")
_HTTP_RESTART_KEYS = ("enabled", "host", "port")


def model_spec(config: Config) -> ModelSpec:
    m = config.model
    return ModelSpec(bundle=m.bundle, backend=m.backend, device=m.device, threads=m.threads,
                     cache_dir=m.cache_dir)


@dataclass(frozen=True)
class ReloadResult:
    ok: bool
    message: str
    changed: tuple[str, ...] = ()


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the settings that differ between two config snapshots."""
    if dataclasses.is_dataclass(old) and type(old) is type(new):
        out: list[str] = []
        for f in dataclasses.fields(old):
            out += changed_keys(getattr(old, f.name), getattr(new, f.name), f"{prefix}{f.name}.")
        return out
    return [] if old == new else [prefix.rstrip(".")]


class App:
    def __init__(self, config: Config, config_path: Path | None = None,
                 overrides: dict[str, Any] | None = None) -> None:
        self.config = config
        self.config_path = config_path
        self.overrides = overrides or {}
        self.manager = ModelManager()
        self.g2p = G2P(config.model.cache_dir)
        self.service = SynthesisService(self.manager, self.g2p, config)
        self.started = time.monotonic()
        self.reloads = 0
        self.metrics = Metrics(self)
        self.service.observer = self.metrics.observe
        self._http: HttpServer | None = None  # when http.enabled
        self._info: tuple[object, Event] | None = None
        self._stop = asyncio.Event()
        self._apply_lock = asyncio.Lock()
        self._server: AsyncServer | None = None
        self._advertiser: Advertiser | None = None
        self._tasks: set[asyncio.Task] = set()

    # -- what clients see --------------------------------------------------------------------

    def info_event(self) -> Event:
        """The ``info`` answer for the active model and config; built once per change."""
        catalog = self.service.catalog(self.config)
        if self._info is None or self._info[0] is not catalog:
            self._info = (catalog, build_info(catalog, self.manager.active.name).event())
        return self._info[1]

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the model, warm up, listen, advertise, watch the config file."""
        config = self.config
        model = await asyncio.to_thread(self._load, config)
        self.manager.install(model)

        self._server = AsyncServer.from_uri(config.server.uri)
        await self._server.start(partial(KokoroEventHandler, self))
        if config.http.enabled:
            from .web.server import HttpServer  # aiohttp only when the API is on

            self._http = HttpServer(self)
            await self._http.start()
        _LOGGER.info("Ready: Wyoming server on %s", config.server.uri)

        if config.server.zeroconf:
            await self._advertise(config)
        if self.config_path is not None and config.server.watch_config:
            self._spawn(self._watch_config())

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._spawn(self.reload("SIGHUP")))
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
        if self._http is not None:
            await self._http.stop()
            self._http = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        self.service.close()
        self.manager.close()

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _advertise(self, config: Config) -> None:
        if not isinstance(self._server, AsyncTcpServer):
            _LOGGER.warning("zeroconf needs a tcp:// URI; not advertising %s", config.server.uri)
            return
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

    # -- reload and hot swap -----------------------------------------------------------------

    def _load(self, config: Config) -> KokoroModel:
        """Load and warm up the model ``config`` asks for; check the config fits it (blocking)."""
        model = load_model(model_spec(config))
        started = time.perf_counter()
        try:
            self.service.warm_up(config, model)
        except BaseException:
            model.close()
            raise
        _LOGGER.info("Warmed up in %.2f s", time.perf_counter() - started)
        return model

    async def reload(self, reason: str = "request") -> ReloadResult:
        """Re-read the config file and apply it; an invalid file leaves everything as it is."""
        if self.config_path is None:
            return ReloadResult(False, "the server was started without --config")
        try:
            new = await asyncio.to_thread(load_config, self.config_path, self.overrides)
        except ConfigError as err:
            _LOGGER.error("Config reload (%s) refused, still serving the previous config: %s",
                          reason, err)
            self.metrics.reloads.labels("failed").inc()
            return ReloadResult(False, str(err))
        result = await self.apply(new, reason)
        self.metrics.reloads.labels("ok" if result.ok else "failed").inc()
        return result

    async def swap_model(self, **changes: Any) -> ReloadResult:
        """Hot-swap the model (``backend=``, ``bundle=``, ``device=``, ``threads=``)."""
        model = dataclasses.replace(self.config.model, **changes)
        return await self.apply(self.config.replace(model=model), "model swap")

    async def apply(self, new: Config, reason: str) -> ReloadResult:
        async with self._apply_lock:
            old = self.config
            try:
                new = self._keep_restart_settings(old, new)
            except ConfigError as err:  # e.g. the token removed while bound to the network
                _LOGGER.error("Config reload (%s) refused: %s", reason, err)
                return ReloadResult(False, str(err))
            changed = tuple(changed_keys(old, new))
            if not changed:
                _LOGGER.info("Config reload (%s): nothing changed", reason)
                return ReloadResult(True, "nothing changed")
            model = self.manager.active
            new_model: KokoroModel | None = None
            if model_spec(new) != model_spec(old):
                _LOGGER.info("Loading %s beside the running model (%s)",
                             model_spec(new).describe(), reason)
                try:
                    new_model = await asyncio.to_thread(self._load, new)
                except (BundleError, ConfigError, OSError, RuntimeError, ValueError) as err:
                    _LOGGER.error("Model swap refused, still serving %s (%s): %s",
                                  model.name, model.backend.name, err)
                    self.metrics.model_swaps.labels("failed").inc()
                    return ReloadResult(False, f"model not loaded: {err}")
                model = new_model
            try:
                self.service.catalog(new, model)
            except ConfigError as err:
                if new_model is not None:
                    new_model.close()
                    self.metrics.model_swaps.labels("failed").inc()
                _LOGGER.error("Config reload (%s) refused, still serving the previous config: "
                              "%s", reason, err)
                return ReloadResult(False, str(err))
            if new_model is not None:
                self.manager.install(new_model)
                self.metrics.model_swaps.labels("ok").inc()
            self.service.configure(new)
            self.config = new
            self.reloads += 1
            logging.getLogger().setLevel(logging.DEBUG if new.debug else logging.INFO)
            _LOGGER.info("Config reloaded (%s): %s", reason, ", ".join(changed))
            return ReloadResult(True, "applied", changed)

    def _keep_restart_settings(self, old: Config, new: Config) -> Config:
        """Listening address and zeroconf cannot change in a running server: keep them."""
        for key in _RESTART_KEYS:
            if getattr(old.server, key) != getattr(new.server, key):
                _LOGGER.warning("server.%s changed: restart the server to apply it", key)
        kept = {key: getattr(old.http, key) for key in _HTTP_RESTART_KEYS}
        for key, value in kept.items():
            if getattr(new.http, key) != value:
                _LOGGER.warning("http.%s changed: restart the server to apply it", key)
        return new.replace(server=old.server, http=dataclasses.replace(new.http, **kept))

    async def _watch_config(self) -> None:
        from watchfiles import awatch

        path = self.config_path.resolve()
        _LOGGER.info("Watching %s for changes", path)

        def ours(_change, changed_path: str) -> bool:
            return Path(changed_path).name == path.name

        try:
            async for _changes in awatch(path.parent, watch_filter=ours, debounce=400,
                                         recursive=False, stop_event=self._stop):
                if path.exists():
                    await self.reload("file changed")
                else:
                    _LOGGER.warning("%s was removed; keeping the running config", path)
        except (OSError, RuntimeError) as err:
            _LOGGER.error("Cannot watch %s (%s); reload with SIGHUP instead", path, err)
