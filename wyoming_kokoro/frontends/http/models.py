"""``GET /model``: the active model and what ``POST /model`` can switch to (the page's model view).

Bundles are listed from ``model.bundles_dir`` (default: the folder the configured bundle is in),
beside the embedded model and the configured bundle; any other path can still be sent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from ...config import Config
from ...model import embedded
from ...model.choices import (
    BACKENDS,
    BundleChoice,
    backend_unavailable,
    describe_bundle,
    find_bundles,
)
from .control import max_threads
from .keys import SERVICE

DEVICES = ("auto", "cpu", "cuda", "mps")  # model.device's choices; torch only


def bundles_dir(config: Config) -> Path | None:
    model = config.model
    if model.bundles_dir is not None:
        return model.bundles_dir
    return model.bundle.parent if model.bundle is not None else None


def choices(config: Config) -> dict[str, Any]:
    """Blocking (reads manifests): run it off the event loop."""
    folder = bundles_dir(config)
    listed: list[dict[str, Any]] = [{
        "path": None, "name": embedded.NAME, "description": embedded.DESCRIPTION,
        "backends": ["onnx"], "error": None, "embedded": True}]
    seen: set[Path] = set()
    found = find_bundles(folder)
    configured = config.model.bundle
    if configured is not None and configured.resolve() not in {b.path.resolve() for b in found}:
        found.insert(0, describe_bundle(configured))
    for bundle in found:
        if bundle.path.resolve() in seen:
            continue
        seen.add(bundle.path.resolve())
        listed.append(_bundle(bundle))
    return {
        "backends": [{"name": b, "available": (why := backend_unavailable(b)) is None,
                      "reason": why} for b in BACKENDS],
        "bundles_dir": None if folder is None else str(folder),
        "bundles": listed,
        "devices": list(DEVICES),
        "max_threads": max_threads(),
    }


def _bundle(bundle: BundleChoice) -> dict[str, Any]:
    return {"path": str(bundle.path), "name": bundle.name, "description": bundle.description,
            "backends": list(bundle.backends), "error": bundle.error, "embedded": False}


async def model_choices(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    config = service.config
    active = service.stats().model
    m = config.model
    body = await asyncio.to_thread(choices, config)
    return web.json_response({
        "active": {
            "loaded": active is not None,
            "name": active.name if active else None,
            "backend": active.backend if active else m.backend,
            "device": active.device if active else None,
            "bundle": None if m.bundle is None else str(m.bundle),
            "requested_device": m.device,
            "threads": m.threads,
        },
        **body,
    })


ROUTES = [web.get("/model", model_choices)]
