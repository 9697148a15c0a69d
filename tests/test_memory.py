"""Handing freed memory back: large blocks at once, the rest once the server has been idle a
moment (never while it works)."""

from __future__ import annotations

import asyncio
import platform
import subprocess
import sys

import pytest

from wyoming_kokoro.memory import IdleTrimmer

from .fresh import loaded_after


def _trims(events: list[tuple[float, bool]], delay: float = 0.1) -> int:
    """Replay (seconds to wait, idle afterwards?) steps; count the trims done."""
    trims: list[int] = []
    state = {"idle": True}

    async def replay() -> None:
        trimmer = IdleTrimmer(delay=delay, trim=lambda: trims.append(1))
        for wait, idle in events:
            await asyncio.sleep(wait)
            state["idle"] = idle
            if idle:
                trimmer.idle(lambda: state["idle"])
        await asyncio.sleep(3 * delay)

    asyncio.run(replay())
    return len(trims)


def test_one_reply_ending_trims_once_after_the_delay():
    assert _trims([(0, True)]) == 1


def test_replies_ending_close_together_trim_once():
    assert _trims([(0, True), (0.02, True), (0.02, True)]) == 1


def test_idle_spells_apart_each_trim():
    # the second reply ends soon after the first trim: it is trimmed too, not skipped
    assert _trims([(0, True), (0.15, False), (0.02, True)]) == 2


def test_no_trim_while_a_reply_runs_again():
    assert _trims([(0, True), (0.02, False)]) == 0


HOARD = """
import ctypes, sys
from wyoming_kokoro.memory import hand_back_large_blocks
if sys.argv[1] == "fixed":
    assert hand_back_large_blocks()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]


def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) / 1024


def touched(size):
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    return block


libc.free(touched(8 << 20))  # a decoder window's worth, freed: glibc now keeps blocks this size
before = rss_mb()
blocks, kept = [], []
for _ in range(32):  # the next window's activations, and what outlives the run between them
    blocks.append(touched(4 << 20))
    kept.append(touched(256 << 10))
for block in blocks:
    libc.free(block)
print(rss_mb() - before - 32 * 256 / 1024)  # growth beyond the blocks still in use
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="glibc's malloc tunables")
def test_large_blocks_go_back_to_the_system_as_soon_as_they_are_freed():
    def freed_but_kept_mb(mode: str) -> float:
        run = subprocess.run([sys.executable, "-c", HOARD, mode], capture_output=True,
                             text=True, check=True)
        return float(run.stdout)

    assert freed_but_kept_mb("default") > 100  # glibc's own threshold: most of the 128 MB stay
    assert freed_but_kept_mb("fixed") < 2


def test_a_server_without_the_http_api_or_zeroconf_loads_none_of_their_libraries():
    # aiohttp, prometheus-client and zeroconf: 25 MB of RSS that only the HTTP API and
    # zeroconf use; each front end imports them when it starts.
    libraries = ["aiohttp", "prometheus_client", "zeroconf"]
    assert loaded_after(
        libraries, "import wyoming_kokoro.__main__",
        "from wyoming_kokoro.frontends.http.server import HttpServer\n"
        "from wyoming_kokoro.discovery import Advertiser") == [[], libraries]
