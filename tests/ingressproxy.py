"""A stand-in for Home Assistant's ingress proxy, on loopback.

Home Assistant serves an add-on's page at ``/api/hassio_ingress/<token>/<path>`` and forwards it
(through the Supervisor, which connects from 172.30.32.2) to ``http://<add-on>:<ingress_port>/
<path>``, with the browser's headers (Host included) plus ``X-Ingress-Path:
/api/hassio_ingress/<token>`` and ``X-Forwarded-For/-Host/-Proto`` (homeassistant/components/
hassio/ingress.py, supervisor/api/ingress.py). This proxy does the same from a chosen source
address (``127.0.0.2``, the tests' trusted proxy), streaming responses as they come.
"""

from __future__ import annotations

import asyncio
import secrets
import threading

import aiohttp
from aiohttp import hdrs, web

_DROP_REQUEST = {hdrs.CONTENT_LENGTH, hdrs.TRANSFER_ENCODING, hdrs.ACCEPT_ENCODING,
                 hdrs.CONNECTION, hdrs.KEEP_ALIVE}
_DROP_RESPONSE = {hdrs.CONTENT_LENGTH, hdrs.TRANSFER_ENCODING, hdrs.CONTENT_ENCODING,
                  hdrs.CONNECTION, hdrs.KEEP_ALIVE}


class IngressProxy:
    """``start()`` returns the page's URL (``http://127.0.0.1:<port>/api/hassio_ingress/<token>/``);
    ``stop()`` ends the proxy and its thread."""

    def __init__(self, upstream: str, source: str = "127.0.0.2") -> None:
        self.upstream = upstream.rstrip("/")
        self.source = source
        self.token = secrets.token_urlsafe(16)
        self.prefix = f"/api/hassio_ingress/{self.token}"
        self.forwarded: list[str] = []  # "METHOD /path" of every request passed on
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    def start(self) -> str:
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        self.url = f"http://127.0.0.1:{port}{self.prefix}/"
        return self.url

    def stop(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()

    async def _start(self) -> int:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(self.source, 0)),
            timeout=aiohttp.ClientTimeout(total=None), auto_decompress=False)
        app = web.Application(client_max_size=8 << 20)
        app.router.add_route("*", "/api/hassio_ingress/{token}/{path:.*}", self._forward)
        app.router.add_route("*", "/api/hassio_ingress/{token}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return self._runner.addresses[0][1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized
        path = request.match_info.get("path", "")
        headers = {k: v for k, v in request.headers.items() if k not in _DROP_REQUEST}
        peer = request.transport.get_extra_info("peername")[0]
        headers["X-Ingress-Path"] = self.prefix
        headers["X-Hass-Source"] = "core.ingress"
        headers["X-Forwarded-For"] = peer
        headers["X-Forwarded-Host"] = request.host
        headers["X-Forwarded-Proto"] = request.scheme
        self.forwarded.append(f"{request.method} /{path}")
        body = await request.read() if request.can_read_body else None
        assert self._session is not None
        async with self._session.request(
                request.method, f"{self.upstream}/{path}", params=request.query, headers=headers,
                data=body, allow_redirects=False,
                skip_auto_headers={hdrs.CONTENT_TYPE}) as upstream:
            response = web.StreamResponse(status=upstream.status, headers={
                k: v for k, v in upstream.headers.items() if k not in _DROP_RESPONSE})
            await response.prepare(request)
            async for chunk, _ in upstream.content.iter_chunks():
                await response.write(chunk)
            await response.write_eof()
            return response
