"""The aiohttp server: routes, the bearer-token check, OpenAI-shaped errors; start and stop."""

from __future__ import annotations

import asyncio
import hmac
import logging
from importlib import resources
from urllib.parse import urlparse

from aiohttp import web

from ...config import ConfigError
from ...control import Controller
from ...metrics import Metrics
from ...synthesis.service import SynthesisService
from . import control, ingress, models, phonemes, speech, stats
from .errors import ApiError, error_response
from .keys import CONTROL, METRICS, SERVICE, TASKS
from .openapi import PROTECTED, PUBLIC, openapi
from .stats import RECENT, RecentRequests

_LOGGER = logging.getLogger(__name__)

MAX_BODY = 4 << 20  # bytes; text.max_chars (100,000) as JSON \u escapes is 600 kB


async def page(request: web.Request) -> web.Response:
    html = resources.files(__package__).joinpath("static/index.html").read_bytes()
    html = ingress.render_page(request, html)
    return web.Response(body=html, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi(request.app[SERVICE].config,
                                     ingress=request.app[ingress.INGRESS]))


ROUTES = [
    web.get("/", page),
    web.get("/openapi.json", openapi_json),
    web.get("/health", control.health),
    web.get("/voices", control.voices),
    web.get("/config", control.config),
    web.post("/reload", control.reload),
    web.post("/model", control.model),
    web.post("/cache/clear", control.clear_cache),
    web.get("/phonemes", phonemes.phonemes),
    web.get("/metrics", control.metrics),
    web.get("/v1/models", speech.models),
    web.get("/v1/audio/voices", speech.voices),
    web.post("/v1/audio/speech", speech.speech),
    *stats.ROUTES,
    *models.ROUTES,
]


@web.middleware
async def errors(request: web.Request, handler) -> web.StreamResponse:
    """Every error leaves as OpenAI's JSON error shape; a server fault is logged, not leaked."""
    try:
        return await handler(request)
    except ApiError as err:
        return err.response()
    except web.HTTPException as err:
        if err.status < 400:
            raise
        headers = {"Allow": err.headers["Allow"]} if "Allow" in err.headers else None
        message = {404: f"no such endpoint: {request.method} {request.path}",
                   405: f"{request.method} is not allowed on {request.path}"}.get(
                       err.status, err.text or err.reason)
        return error_response(err.status, message, code=err.reason.lower().replace(" ", "_"),
                              headers=headers)
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception:
        _LOGGER.exception("HTTP %s %s failed", request.method, request.path)
        return error_response(500, "internal server error (see the server log)",
                              code="internal_error")


@web.middleware
async def auth(request: web.Request, handler) -> web.StreamResponse:
    """With a token configured: the mutating endpoints (or all but the public ones) need it."""
    http = request.app[SERVICE].config.http  # read per request: a reload can change the token
    if http.token and _protected(request, http.auth):
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), http.token.encode()):
            raise ApiError(401, "missing or wrong bearer token (Authorization: Bearer ...)",
                           code="invalid_api_key",
                           headers={"WWW-Authenticate": 'Bearer realm="wyoming-kokoro"'})
    return await handler(request)


@web.middleware
async def same_origin(request: web.Request, handler) -> web.StreamResponse:
    """Browsers may send a POST to 127.0.0.1 from any web site (a form, a no-cors fetch): a
    POST whose Origin is another site's is refused. Non-browser clients send no Origin."""
    origin = request.headers.get("Origin")
    if (request.method == "POST" and origin is not None
            and urlparse(origin).netloc not in ingress.origin_hosts(request)):
        raise ApiError(403, f"cross-origin request from {origin} refused", code="cross_origin")
    return await handler(request)


def _protected(request: web.Request, scope: str) -> bool:
    if scope == "all":
        return request.path not in PUBLIC
    return (request.method.lower(), request.path) in PROTECTED


def build_app(service: SynthesisService, control: Controller, metrics: Metrics,
              recent: RecentRequests, *,
              ingress_refusals: ingress.Refusals | None = None) -> web.Application:
    """The API; with ``ingress_refusals``, as the ingress listener serves it: trusted proxies
    only, and no token asked (Home Assistant has authenticated the user)."""
    if ingress_refusals is not None:
        middlewares = [errors, ingress.guard(ingress_refusals), same_origin]
    else:
        middlewares = [errors, same_origin, auth]
    web_app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY)
    web_app[SERVICE] = service
    web_app[CONTROL] = control
    web_app[METRICS] = metrics
    web_app[TASKS] = set()
    web_app[ingress.INGRESS] = ingress_refusals is not None
    web_app[RECENT] = recent
    web_app.add_routes(ROUTES)
    return web_app


class HttpServer:
    """Runs in the server's event loop; started and stopped by the App. Serves the API on
    ``http.host:http.port`` when ``http.enabled``, and on the ingress listener when
    ``http.ingress_port`` is set; both share one ring of recent requests (``/stats``)."""

    def __init__(self, service: SynthesisService, control: Controller, metrics: Metrics) -> None:
        self._service = service
        self._control = control
        self._metrics = metrics
        self.port: int | None = None
        self.ingress_port: int | None = None
        self._runners: list[web.AppRunner] = []
        self._recent = RecentRequests(service)
        service.add_observer(self._recent.observe)

    async def start(self) -> None:
        http = self._service.config.http
        try:
            if http.enabled:
                self.port = await self._listen("http", http.host, http.port, build_app(
                    self._service, self._control, self._metrics, self._recent))
                guard = (f"token required for "
                         f"{'all endpoints' if http.auth == 'all' else 'changes'}"
                         if http.token else "no token")
                _LOGGER.info("HTTP API on http://%s:%d/ (%s)", _host(http.host), self.port,
                             guard)
            if http.ingress_port is not None:
                self.ingress_port = await self._listen(
                    "http.ingress_port", http.ingress_host, http.ingress_port, build_app(
                        self._service, self._control, self._metrics, self._recent,
                        ingress_refusals=ingress.Refusals()))
                _LOGGER.info("Ingress on http://%s:%d/ (only from %s, no token)",
                             _host(http.ingress_host), self.ingress_port,
                             ", ".join(http.trusted_proxies))
        except BaseException:
            await self.stop()
            raise

    async def _listen(self, key: str, host: str, port: int, app: web.Application) -> int:
        access_log = logging.getLogger("aiohttp.access") if self._service.config.debug else None
        runner = web.AppRunner(app, handler_cancellation=True, access_log=access_log,
                               shutdown_timeout=3.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as err:
            await runner.cleanup()
            raise ConfigError(f"{key}: cannot listen on {host}:{port}: "
                              f"{err.strerror or err}") from None
        self._runners.append(runner)
        return runner.addresses[0][1]

    async def stop(self) -> None:
        runners, self._runners = self._runners, []
        for runner in runners:
            tasks = runner.app[TASKS]
            await asyncio.gather(*tasks, return_exceptions=True)
            await runner.cleanup()


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
