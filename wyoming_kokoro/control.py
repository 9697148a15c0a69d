"""Reload and hot swap: the small control interface the front ends get (as uvicorn's protocols
get a server state, not the server).

A reload is all or nothing: the file is parsed and validated, a changed model is loaded and warmed
up beside the running one, the voices are checked against it, and only then are the model and
the config snapshot swapped. Anything that fails leaves the running model and config serving.
Requests in flight keep the snapshot and the model they started with.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Config, ConfigError, load_config
from .model import embedded
from .model.backends import BACKENDS, backend_unavailable
from .model.bundle import BundleError
from .model.choices import BundleChoice, describe_bundle, find_bundles
from .model.kokoro import KokoroModel, ModelSpec, load_model
from .model.manager import ModelManager
from .synthesis.service import SynthesisService

_LOGGER = logging.getLogger(__name__)

_RESTART_KEYS = ("uri", "zeroconf", "zeroconf_name", "watch_config")
_HTTP_RESTART_KEYS = ("enabled", "host", "port", "ingress_port", "ingress_host")  # listeners


def model_spec(config: Config) -> ModelSpec:
    m = config.model
    return ModelSpec(bundle=m.bundle, backend=m.backend, device=m.device, threads=m.threads,
                     cache_dir=m.cache_dir, decoder=m.decoder)


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


class Controller:
    """Loads models, reloads the config file, hot-swaps; counts what it did.

    ``outcomes`` counts reloads and model swaps as ``("reload" | "model_swap", "ok" | "failed")``.
    """

    def __init__(self, manager: ModelManager, service: SynthesisService,
                 config_path: Path | None = None,
                 overrides: dict[str, Any] | None = None) -> None:
        self._manager = manager
        self._service = service
        self.config_path = config_path
        self._overrides = overrides or {}
        self.started = time.monotonic()
        self.reloads = 0  # applied changes
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self._lock = asyncio.Lock()

    def model_choices(self) -> dict[str, Any]:
        """What a swap can choose from: the backends this install runs, and the bundles in
        ``model.bundles_dir`` (default: the configured bundle's folder) beside the embedded model
        and the configured one. Blocking (reads manifests): run it off the event loop."""
        model = self._service.config.model
        folder = model.bundles_dir or (model.bundle.parent if model.bundle else None)
        found = find_bundles(folder)
        if model.bundle is not None and model.bundle.resolve() not in {
                b.path.resolve() for b in found}:
            found.insert(0, describe_bundle(model.bundle))
        listed: list[dict[str, Any]] = [{
            "path": None, "name": embedded.NAME, "description": embedded.DESCRIPTION,
            "backends": ["onnx"], "error": None, "embedded": True}]
        seen: set[Path] = set()
        for bundle in found:
            if bundle.path.resolve() not in seen:
                seen.add(bundle.path.resolve())
                listed.append(_listed(bundle))
        return {
            "backends": [{"name": b, "available": (why := backend_unavailable(b)) is None,
                          "reason": why} for b in BACKENDS],
            "bundles_dir": None if folder is None else str(folder),
            "bundles": listed,
        }

    def load(self, config: Config) -> KokoroModel:
        """Load and warm up the model ``config`` asks for; check the config fits it (blocking)."""
        model = load_model(model_spec(config))
        started = time.perf_counter()
        try:
            self._service.warm_up(config, model)
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
            new = await asyncio.to_thread(load_config, self.config_path, self._overrides)
        except ConfigError as err:
            _LOGGER.error("Config reload (%s) refused, still serving the previous config: %s",
                          reason, err)
            self.outcomes["reload", "failed"] += 1
            return ReloadResult(False, str(err))
        result = await self.apply(new, reason)
        self.outcomes["reload", "ok" if result.ok else "failed"] += 1
        return result

    async def swap_model(self, **changes: Any) -> ReloadResult:
        """Hot-swap the model (``backend=``, ``bundle=``, ``device=``, ``threads=``)."""
        config = self._service.config
        model = dataclasses.replace(config.model, **changes)
        return await self.apply(config.replace(model=model), "model swap")

    async def apply(self, new: Config, reason: str) -> ReloadResult:
        async with self._lock:
            old = self._service.config
            try:
                new = self._keep_restart_settings(old, new)
            except ConfigError as err:  # e.g. the token removed while bound to the network
                _LOGGER.error("Config reload (%s) refused: %s", reason, err)
                return ReloadResult(False, str(err))
            changed = tuple(changed_keys(old, new))
            if not changed:
                _LOGGER.info("Config reload (%s): nothing changed", reason)
                return ReloadResult(True, "nothing changed")
            model = self._manager.active
            new_model: KokoroModel | None = None
            if model_spec(new) != model_spec(old):
                _LOGGER.info("Loading %s beside the running model (%s)",
                             model_spec(new).describe(), reason)
                try:
                    new_model = await asyncio.to_thread(self.load, new)
                except (BundleError, ConfigError, OSError, RuntimeError, ValueError) as err:
                    _LOGGER.error("Model swap refused, still serving %s (%s): %s",
                                  model.name, model.backend.name, err)
                    self.outcomes["model_swap", "failed"] += 1
                    return ReloadResult(False, f"model not loaded: {err}")
                model = new_model
            try:
                await asyncio.to_thread(self._service.check, new, model)
            except ConfigError as err:
                if new_model is not None:
                    new_model.close()
                    self.outcomes["model_swap", "failed"] += 1
                _LOGGER.error("Config reload (%s) refused, still serving the previous config: "
                              "%s", reason, err)
                return ReloadResult(False, str(err))
            if new_model is not None:
                self._manager.install(new_model)
                self.outcomes["model_swap", "ok"] += 1
            self._service.configure(new)
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


def _listed(bundle: BundleChoice) -> dict[str, Any]:
    return {"path": str(bundle.path), "name": bundle.name, "description": bundle.description,
            "backends": list(bundle.backends), "error": bundle.error, "embedded": False}
