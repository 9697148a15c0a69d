"""``GET /model``: the active model and what ``POST /model`` can switch to (the page's model view).

Bundles are listed from ``model.bundles_dir`` (default: the folder the configured bundle is in),
beside the embedded model and the configured bundle; any other path can still be sent.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from ...config import field_of
from .control import max_threads
from .keys import CONTROL, SERVICE


async def model_choices(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    config = service.config
    active = service.stats().model
    m = config.model
    body = await asyncio.to_thread(request.app[CONTROL].model_choices)
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
        "devices": list(field_of("model.device")[1]["choices"]),
        "max_threads": max_threads(),
    })


ROUTES = [web.get("/model", model_choices)]
