"""Giving freed memory back to the operating system.

glibc keeps memory that Python, onnxruntime and numpy free in its heaps, per thread arena, and
hands it back only from the top of a heap. A synthesis server frees a lot (a piece's audio and
activations, G2P's temporaries) from several threads, so without help its RSS settles at the
high-water mark of every arena. ``malloc_trim`` returns the free pages from anywhere in the heaps
once the server is idle; ``hand_back_large_blocks`` keeps a busy server from hoarding them.
(ctypes, because no maintained library wraps glibc's malloc tunables.)
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


M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
LARGE_BLOCK = 1 << 20


def hand_back_large_blocks(threshold: int = LARGE_BLOCK) -> bool:
    """Serve every block of ``threshold`` bytes or more from a mapping of its own, unmapped
    when freed (no-op off glibc; True when set). Call it before the model loads.

    glibc's default raises this threshold to the largest block freed so far (up to 32 MiB):
    after the first decoder window, the next windows' activations (1-30 MB blocks) come from
    the heaps, and their pages stay with the process after every run, from every thread. A
    fixed threshold gives them back at once: 57 MB less after loading the model and no growth
    after windows of 48-480 frames (it grew by 76 MB), at no measurable cost in speed."""
    if _libc is None:
        return False
    try:
        return bool(_libc.mallopt(M_MMAP_THRESHOLD, threshold))
    except AttributeError:  # a libc without mallopt (musl has none)
        return False


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
