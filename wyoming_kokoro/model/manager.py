"""The active model, and leases that keep a model alive while a request uses it.

``async with manager.lease() as model:`` pins the model that was active when the request began.
Installing a new model never waits: the old one is closed when its last lease ends.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..memory import return_freed_memory
from .kokoro import KokoroModel

_LOGGER = logging.getLogger(__name__)


class ModelManager:
    def __init__(self) -> None:
        self._active: KokoroModel | None = None
        self._leases: dict[int, int] = {}  # id(model) -> active leases
        self._retired: dict[int, KokoroModel] = {}

    @property
    def active(self) -> KokoroModel:
        if self._active is None:
            raise RuntimeError("no model is loaded yet")
        return self._active

    @property
    def loaded(self) -> bool:
        return self._active is not None

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[KokoroModel]:
        model = self.active
        key = id(model)
        self._leases[key] = self._leases.get(key, 0) + 1
        try:
            yield model
        finally:
            self._leases[key] -= 1
            if self._leases[key] == 0:
                del self._leases[key]
                if key in self._retired:
                    self._close(self._retired.pop(key))

    def leases(self, model: KokoroModel) -> int:
        return self._leases.get(id(model), 0)

    def install(self, model: KokoroModel) -> None:
        """Make ``model`` active; the previous model closes once no request uses it."""
        old, self._active = self._active, model
        if old is not None and old is not model:
            if self.leases(old):
                self._retired[id(old)] = old
            else:
                self._close(old)

    def close(self) -> None:
        for model in list(self._retired.values()):
            self._close(model)
        self._retired.clear()
        if self._active is not None:
            self._close(self._active)
            self._active = None

    @staticmethod
    def _close(model: KokoroModel) -> None:
        _LOGGER.info("Releasing model %s (%s)", model.name, model.backend.name)
        model.close()
        gc.collect()
        return_freed_memory()
