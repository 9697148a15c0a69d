"""Giving freed memory back to the operating system.

glibc keeps memory that Python, onnxruntime and numpy free in its heaps, per thread arena, and
hands it back only from the top of a heap. A synthesis server frees a lot (a piece's audio and
activations, G2P's temporaries) from several threads, so without help its RSS settles at the
high-water mark of every arena. ``malloc_trim`` returns the free pages from anywhere in the heaps.
"""

from __future__ import annotations

import ctypes
import sys
import time
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


class Trimmer:
    """Trims at most once per ``interval`` seconds: cheap enough to call after every request."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._last = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.interval:
            return False
        self._last = now
        return True
