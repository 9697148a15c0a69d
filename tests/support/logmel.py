"""Log-mel distance between two renderings (dB): how far apart they sound, objectively."""

from __future__ import annotations

import numpy as np

RATE = 24_000
N_FFT = 1024
HOP = 256
MELS = 80


def _mel_filters() -> np.ndarray:
    def mel(f: np.ndarray) -> np.ndarray:
        return 2595 * np.log10(1 + f / 700)

    edges = 700 * (10 ** (np.linspace(mel(np.array(0.0)), mel(np.array(RATE / 2)), MELS + 2)
                          / 2595) - 1)
    bins = np.fft.rfftfreq(N_FFT, 1 / RATE)
    filters = np.zeros((MELS, bins.size))
    for i in range(MELS):
        lo, mid, hi = edges[i:i + 3]
        filters[i] = np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0,
                             None)
    return filters


FILTERS = _mel_filters()


def log_mel(samples: np.ndarray) -> np.ndarray:
    """[frames, MELS] in dB."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size < N_FFT:
        x = np.pad(x, (0, N_FFT - x.size))
    frames = 1 + (x.size - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    spectrum = np.abs(np.fft.rfft(x[index] * np.hanning(N_FFT), axis=1)) ** 2
    return 10 * np.log10(spectrum @ FILTERS.T + 1e-10)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute log-mel difference (dB) over the common length, floored at -80 dB."""
    n = min(a.size, b.size)
    ma, mb = log_mel(a[:n]), log_mel(b[:n])
    return float(np.mean(np.abs(np.maximum(ma, -80) - np.maximum(mb, -80))))
