"""The backend protocol: tokens and a style vector in, 24 kHz float PCM out.

A backend knows tensors and nothing else: no text, no voices by name, no sockets. Adding a backend
is one module with a class that satisfies :class:`Backend`, started by ``model/kokoro.py``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Backend(Protocol):
    name: str
    device: str

    def synthesize(self, tokens: np.ndarray, style: np.ndarray, speed: float) -> np.ndarray:
        """``tokens``: int64 [T] phoneme ids without padding (T <= 510); ``style``: float32 [256].

        Returns mono float32 PCM at the bundle's sample rate. Safe to call from several threads.
        """
        ...

    def close(self) -> None:
        """Release what the backend holds (sessions, weights, device memory)."""
        ...
