"""Control endpoints: health, voices, effective config, reload, model hot swap, phrase cache,
metrics."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from ... import __version__
from ...config import ConfigError, ModelConfig, build
from ...metrics import CONTENT_TYPE
from .errors import ApiError
from .keys import CONTROL, METRICS, SERVICE, TASKS, read_json

REDACTED = "<redacted>"
SWAPPABLE = ("backend", "bundle", "device", "threads", "decoder")


def max_threads() -> int:
    """More inference threads than cores only thrash (a swap to 250 threads on 2 cores takes
    minutes to warm up): the API refuses them; the config file may still ask."""
    return os.cpu_count() or 1


async def health(request: web.Request) -> web.Response:
    service, control = request.app[SERVICE], request.app[CONTROL]
    stats = service.stats()
    model = stats.model
    return web.json_response({
        "status": "ok" if model is not None else "loading",
        "version": __version__,
        "uptime_s": round(time.monotonic() - control.started, 3),
        "model": {
            "loaded": model is not None,
            "name": model.name if model else None,
            "backend": model.backend if model else None,
            "device": model.device if model else None,
            "sample_rate": model.sample_rate if model else None,
            "decoder": model.decoder if model else None,
        },
        "wyoming_uri": service.config.server.uri,
        "requests_active": stats.requests_active,
        "queue_pending": stats.queue_pending,
        "reloads": control.reloads,
        "cache": {name: {"entries": c.entries, "bytes": c.bytes}
                  for name, c in stats.caches.items() if name in ("memory", "disk")},
    }, status=200 if model is not None else 503)


async def clear_cache(request: web.Request) -> web.Response:
    """Forget every synthesized phrase, in memory and on disk (the next request renders)."""
    dropped = await request.app[SERVICE].clear_cache()
    return web.json_response({"ok": True, "dropped": dropped})


async def voices(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    config = service.config
    catalog = service.catalog()
    return web.json_response({
        "default": catalog.default.name,
        "voices": [{"name": v.name, "language": v.language, "languages": list(v.languages),
                    "description": v.description, "speed": v.speed, "volume": v.volume,
                    "mix": config.mixes.get(v.name)} for v in catalog],
        "blend_syntax": "a+b (equal parts), a(2)+b(1) (weights), a-b(0.3) (subtraction)",
    })


async def config(request: web.Request) -> web.Response:
    return web.json_response(effective_config(request.app[SERVICE].config))


def effective_config(config: Any) -> dict[str, Any]:
    """The config snapshot as JSON data, with its secrets redacted."""
    data = _plain(dataclasses.asdict(config))
    if data["http"].get("token"):
        data["http"]["token"] = REDACTED
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


async def reload(request: web.Request) -> web.Response:
    control = request.app[CONTROL]
    if control.config_path is None:
        raise ApiError(409, "the server was started without --config: there is no file to "
                       "reload", code="no_config_file")
    result = await _shielded(request, control.reload("HTTP request"))
    if not result.ok:
        raise ApiError(422, result.message, code="invalid_config")
    return web.json_response({"ok": True, "message": result.message,
                              "changed": list(result.changed)})


async def model(request: web.Request) -> web.Response:
    """Hot swap: answers once the new model serves, or with the reason it was refused."""
    control, service = request.app[CONTROL], request.app[SERVICE]
    body = await read_json(request, empty={})
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object", code="invalid_json")
    for key in body:
        if key not in SWAPPABLE:
            raise ApiError(400, f"unknown key {key!r}; the model can change its "
                           f"{', '.join(SWAPPABLE)}", param=str(key), code="unknown_key")
    current = dataclasses.asdict(service.config.model)
    try:
        wanted = build(ModelConfig, {k: v for k, v in current.items() if v is not None} | body,
                       "model")
    except ConfigError as err:
        raise ApiError(400, str(err), code="invalid_value") from None
    if "threads" in body and wanted.threads > max_threads():
        raise ApiError(400, f"model.threads: at most {max_threads()} (the cores of this "
                       f"machine), got {wanted.threads}", param="threads", code="invalid_value")
    changes = {key: getattr(wanted, key) for key in body}
    result = await _shielded(request, control.swap_model(**changes))
    if not result.ok:
        raise ApiError(422, result.message, code="model_swap_failed")
    active = service.stats().model
    assert active is not None  # a model serves once the swap is answered
    return web.json_response({
        "ok": True, "message": result.message, "changed": list(result.changed),
        "model": {"name": active.name, "backend": active.backend, "device": active.device,
                  "decoder": active.decoder}})


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def _shielded(request: web.Request, coro):
    """Run ``coro`` to its end even if the client hangs up: a swap must not stop half-way."""
    task = asyncio.ensure_future(coro)
    tasks = request.app[TASKS]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return await asyncio.shield(task)
