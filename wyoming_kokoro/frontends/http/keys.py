"""What the handlers share: the service, the controller and the metrics in the aiohttp
application, and JSON bodies."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from ...control import Controller
from ...metrics import Metrics
from ...synthesis.service import SynthesisService
from .errors import ApiError

SERVICE: web.AppKey[SynthesisService] = web.AppKey("kokoro_service")
CONTROL: web.AppKey[Controller] = web.AppKey("kokoro_control")
METRICS: web.AppKey[Metrics] = web.AppKey("kokoro_metrics")
TASKS: web.AppKey[set[asyncio.Task]] = web.AppKey("kokoro_tasks")
"""Swaps and reloads that outlive a client who hung up (strong references until done)."""


async def read_json(request: web.Request, empty: Any = None) -> Any:
    """The body as JSON (``empty`` when there is none); 400 when it is not JSON."""
    raw = await request.read()
    if not raw.strip():
        if empty is not None:
            return empty
        raise ApiError(400, "the request needs a JSON body", code="invalid_json")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as err:  # bad UTF-8 or JSON, absurd nesting or digits
        raise ApiError(400, f"the body is not valid JSON: {err}", code="invalid_json") from None
