"""Giving freed memory back to the operating system.

glibc keeps memory that Python, onnxruntime and numpy free in its heaps, per thread arena, and
hands it back only from the top of a heap. A synthesis server frees a lot (a piece's audio and
activations, G2P's temporaries) from several threads, so without help its RSS settles at the
high-water mark of every arena. ``malloc_trim`` returns the free pages from anywhere in the heaps.
"""

from __future__ import annotations

import asyncio
import ctypes
import sys
from collections.abc import Callable
from contextlib import suppress

_libc = None
if sys.platform.startswith("linux"):
    with suppress(OSError):
        _libc = ctypes.CDLL("libc.so.6")


def return_freed_memory() -> None:
    """Ask glibc to hand freed heap pages back to the OS (no-op elsewhere)."""
    if _libc is not None:
        with suppress(AttributeError):
            _libc.malloc_trim(0)


class IdleTrimmer:
    """Hands freed memory back once the server has stayed idle for ``delay`` seconds: once per
    quiet spell however many replies just ended, never while a reply runs, and off the event
    loop (``malloc_trim`` walks every heap)."""

    def __init__(self, delay: float = 1.0,
                 trim: Callable[[], None] = return_freed_memory) -> None:
        self.delay = delay
        self._trim = trim
        self._pending: asyncio.TimerHandle | None = None

    def idle(self, still_idle: Callable[[], bool]) -> None:
        """The last reply just ended (call on the event loop); ``still_idle`` is asked again
        when the delay is up."""
        if self._pending is not None:
            self._pending.cancel()
        loop = asyncio.get_running_loop()
        self._pending = loop.call_later(self.delay, self._fire, loop, still_idle)

    def _fire(self, loop: asyncio.AbstractEventLoop, still_idle: Callable[[], bool]) -> None:
        self._pending = None
        if still_idle():
            loop.run_in_executor(None, self._trim)
