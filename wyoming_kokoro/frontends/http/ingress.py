"""Home Assistant ingress: the path prefix, and a listener that only the ingress proxy may use.

Home Assistant shows an add-on's page at ``/api/hassio_ingress/<token>/`` and proxies it (via the
Supervisor, which connects from 172.30.32.2) to the add-on's ingress port, naming the prefix in
``X-Ingress-Path``. The page uses relative URLs only and gets a ``<base href>`` of that prefix,
so it works below any prefix. The header is honoured only from ``http.trusted_proxies``:
anyone else could send it, and a prefix is checked to be a plain path before it goes into HTML.

On the ingress listener, connections are let in only from the trusted proxies and need no token
(Home Assistant has logged the user in); everything else is refused with 403, logged once per
address.
"""

from __future__ import annotations

import html
import logging
import re

from aiohttp import web

from .errors import ApiError
from .keys import SERVICE

_LOGGER = logging.getLogger(__name__)

PREFIX_HEADER = "X-Ingress-Path"
MAX_PREFIX = 512
# "/seg/seg...": unreserved characters and %XX escapes only, so nothing in it can close an HTML
# attribute or start a tag, and no "//host" or "." / ".." segment can point elsewhere.
_SEGMENT = r"/(?!\.{1,2}(?:/|$))(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+"
_PREFIX = re.compile(rf"(?:{_SEGMENT})+/?")

INGRESS: web.AppKey[bool] = web.AppKey("kokoro_ingress")
"""True in the application behind the ingress listener."""


def peer(request: web.Request) -> str | None:
    """The address the connection comes from (never a header: those can be forged)."""
    transport = request.transport
    name = transport.get_extra_info("peername") if transport is not None else None
    return name[0] if isinstance(name, (tuple, list)) and name else None


def from_trusted_proxy(request: web.Request) -> bool:
    return request.app[SERVICE].config.http.trusts(peer(request))


def valid_prefix(value: str) -> bool:
    return len(value) <= MAX_PREFIX and _PREFIX.fullmatch(value) is not None


def prefix(request: web.Request) -> str:
    """The path prefix the page is served below ("" for none), without a trailing slash.

    Raises ApiError (400) when a trusted proxy sends something that is not a plain path."""
    value = request.headers.get(PREFIX_HEADER, "").strip()
    if not value or not from_trusted_proxy(request):
        return ""
    if not valid_prefix(value):
        raise ApiError(400, f"{PREFIX_HEADER}: not a URL path such as /api/hassio_ingress/<token>",
                       code="invalid_ingress_path")
    return value.rstrip("/")


def render_page(request: web.Request, page: bytes) -> bytes:
    """The page for this request: with ``<base href>`` below a trusted prefix, and marked as
    served by the ingress listener (the page then hides its token field)."""
    mount = prefix(request)
    if mount:
        base = f'<base href="{html.escape(mount, quote=True)}/">'
        page = page.replace(b"<!--base-->", base.encode(), 1)
    if request.app.get(INGRESS, False):
        page = page.replace(b'data-ingress="false"', b'data-ingress="true"', 1)
    return page


def origin_hosts(request: web.Request) -> set[str]:
    """The hosts a same-origin browser request may name: ours, and from a trusted proxy the
    one it says the browser used (X-Forwarded-Host)."""
    hosts = {request.host}
    forwarded = request.headers.get("X-Forwarded-Host")
    if forwarded and from_trusted_proxy(request):
        hosts.add(forwarded.split(",")[0].strip())
    return hosts


class Refusals:
    """Addresses refused on the ingress listener, each logged once (a bounded set)."""

    LIMIT = 1024

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def refuse(self, address: str | None) -> None:
        key = address or "unknown"
        if key in self._seen or len(self._seen) > self.LIMIT:
            return
        self._seen.add(key)
        if len(self._seen) > self.LIMIT:
            _LOGGER.warning("Ingress: more than %d addresses refused; not logging further ones",
                            self.LIMIT)
            return
        _LOGGER.warning("Ingress: refused a connection from %s (not in http.trusted_proxies); "
                        "later ones from there are not logged", key)


def guard(refusals: Refusals):
    """Middleware for the ingress listener: trusted proxies only."""

    @web.middleware
    async def ingress_only(request: web.Request, handler) -> web.StreamResponse:
        if not from_trusted_proxy(request):
            refusals.refuse(peer(request))
            raise ApiError(403, "this port serves Home Assistant ingress only; use the HTTP API "
                           "port (http.port) instead", code="not_ingress_proxy")
        return await handler(request)

    return ingress_only
