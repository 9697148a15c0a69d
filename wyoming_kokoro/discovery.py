"""Zeroconf (mDNS) advertisement of the server as ``_wyoming._tcp`` for Home Assistant.

The advertised address is the host's real address: the bound address when the server binds to
one, else the address of the interface that routes to the mDNS group (never 0.0.0.0). A server
bound to one address announces on that interface only.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket

from zeroconf import InterfaceChoice, IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

_LOGGER = logging.getLogger(__name__)

SERVICE_TYPE = "_wyoming._tcp.local."
_MDNS_GROUP = "224.0.0.251"


def default_service_name() -> str:
    host = re.sub(r"[^A-Za-z0-9-]+", "-", socket.gethostname()).strip("-") or "host"
    return f"kokoro-{host}"


def _is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::", "*")


def routable_address() -> str:
    """The IPv4 address this host uses towards the mDNS group (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((_MDNS_GROUP, 5353))
            address = sock.getsockname()[0]
            if address and address != "0.0.0.0":
                return address
    except OSError:
        pass
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def advertised_address(bind_host: str) -> str:
    if _is_wildcard(bind_host):
        return routable_address()
    try:
        return str(ipaddress.ip_address(bind_host))
    except ValueError:
        return socket.gethostbyname(bind_host)


class Advertiser:
    """Registers one ``_wyoming._tcp`` service; ``close`` unregisters it."""

    def __init__(self, name: str, bind_host: str, port: int) -> None:
        self.name = name
        self.port = port
        self.address = advertised_address(bind_host)
        interfaces = InterfaceChoice.All if _is_wildcard(bind_host) else [self.address]
        self._zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        self._info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"{name}.{SERVICE_TYPE}",
            addresses=[socket.inet_aton(self.address)],
            port=port,
            server=f"{name}.local.",
        )

    async def start(self) -> None:
        """Register; another service of the same name makes zeroconf pick a unique one."""
        await self._zeroconf.async_register_service(self._info, allow_name_change=True)
        _LOGGER.info("Advertising %s at %s:%d over zeroconf", self._info.name, self.address,
                     self.port)

    async def close(self) -> None:
        try:
            await self._zeroconf.async_unregister_all_services()
        finally:
            await self._zeroconf.async_close()
