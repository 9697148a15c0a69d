"""The backend protocol: tokens and a style vector in, 24 kHz float PCM out.

A backend knows tensors and nothing else: no text, no voices by name, no sockets. Adding a backend
is one module with a class that satisfies :class:`Backend` (and, to stream a sentence in windows,
:class:`WindowedBackend`), started by ``model/kokoro.py``.

Kokoro is two networks in a row. The FRONT (text encoder, duration and prosody predictors) turns
tokens into per-frame features at 40 frames/s and costs ~5 % of the time; the DECODER turns any
run of frames into audio, 600 samples a frame. Split there, a sentence's FRONT runs once and its
decoder runs on windows of frames (see ``windows.py``), so the first audio costs a small window,
not the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

SAMPLES_PER_FRAME = 600  # 24 kHz / 40 frames/s
HARMONICS = 9  # the decoder's harmonic source: the fundamental and 8 overtones


@dataclass(frozen=True)
class Front:
    """A sentence's FRONT outputs: everything its decoder windows need.

    ``durations[i]`` is how many frames token ``i`` lasts, the two pads included (token 0 is the
    leading pad, the last the trailing one); they sum to ``frames``.
    """

    features: np.ndarray  # float32 [512, F]: text features aligned to frames (40/s)
    f0: np.ndarray  # float32 [2F]: pitch curve (80/s)
    noise: np.ndarray  # float32 [2F]: energy curve (80/s)
    durations: np.ndarray  # int64 [T + 2]
    style: np.ndarray  # float32 [256]

    @property
    def frames(self) -> int:
        return int(self.features.shape[-1])

    def select(self, keep: np.ndarray) -> Front:
        """The FRONT with only the frames where ``keep`` (bool [F]) is true; durations follow."""
        counted = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        ends = np.cumsum(self.durations)
        kept = counted[ends] - counted[ends - self.durations]
        keep2 = np.repeat(keep, 2)
        return Front(np.ascontiguousarray(self.features[:, keep]),
                     np.ascontiguousarray(self.f0[keep2]),
                     np.ascontiguousarray(self.noise[keep2]),
                     kept.astype(np.int64), self.style)


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


@runtime_checkable
class WindowedBackend(Backend, Protocol):
    """A backend whose FRONT and decoder run apart. Both calls are thread-safe."""

    def front(self, tokens: np.ndarray, style: np.ndarray, speed: float) -> Front:
        """The FRONT for ``tokens`` (as for ``synthesize``)."""
        ...

    def decode(self, front: Front, start: int, end: int,
               phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode frames ``[start, end)`` of ``front`` alone.

        ``phase`` (float64 [HARMONICS], in cycles) is the harmonic source's phase at the
        window's first pitch step; zeros at the sentence's start. Returns the window's audio
        (float32, ``SAMPLES_PER_FRAME * (end - start)`` samples, at the level ``synthesize``
        gives) and the phase accumulated from the window's start to the start of each of its
        ``2 * (end - start)`` pitch steps and one past the end (float64
        [2 * (end - start) + 1, HARMONICS], row 0 all zeros), so a later window starting at
        frame ``s`` inside this one gets ``phase + accumulated[2 * (s - start)]``.
        """
        ...
