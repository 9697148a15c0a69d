"""The server is found by a zeroconf browser, at a real address and its port."""

from __future__ import annotations

import asyncio

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from wyoming_kokoro.discovery import SERVICE_TYPE, advertised_address

from .conftest import ZEROCONF_NAME


async def _browse(timeout: float = 15.0) -> dict[str, AsyncServiceInfo]:
    zc = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    names: list[str] = []
    seen = asyncio.Event()

    def on_change(zeroconf, service_type, name, state_change):
        names.append(name)
        seen.set()

    browser = AsyncServiceBrowser(zc.zeroconf, SERVICE_TYPE, handlers=[on_change])
    try:
        await asyncio.wait_for(seen.wait(), timeout)
        await asyncio.sleep(0.5)
        found = {}
        for name in set(names):
            info = AsyncServiceInfo(SERVICE_TYPE, name)
            if await info.async_request(zc.zeroconf, 3000):
                found[name] = info
        return found
    finally:
        await browser.async_cancel()
        await zc.async_close()


def test_the_server_is_advertised_as_wyoming_over_zeroconf(server):
    found = asyncio.run(_browse())
    name = f"{ZEROCONF_NAME}.{SERVICE_TYPE}"
    assert name in found, list(found)
    info = found[name]
    assert info.port == server.port
    assert info.parsed_addresses() == ["127.0.0.1"]


def test_a_wildcard_bind_advertises_a_real_address():
    address = advertised_address("0.0.0.0")
    assert address not in ("0.0.0.0", "")
    assert address.count(".") == 3
    assert advertised_address("127.0.0.1") == "127.0.0.1"
