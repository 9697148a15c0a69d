"""16-bit mono PCM: the format every front end sends, silence, and float-to-PCM conversion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
CHANNELS = 1


@dataclass(frozen=True)
class AudioFormat:
    rate: int
    width: int = SAMPLE_WIDTH
    channels: int = CHANNELS

    def seconds(self, pcm: bytes) -> float:
        return len(pcm) / (self.width * self.channels * self.rate)


def silence(seconds: float, rate: int) -> bytes:
    return bytes(int(seconds * rate) * SAMPLE_WIDTH)


def to_pcm16(samples: np.ndarray, gain: float = 1.0) -> bytes:
    """Float samples in [-1, 1] (times ``gain``) as little-endian 16-bit PCM, clipped."""
    if gain != 1.0:
        samples = samples * gain
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


# Kokoro surrounds every piece with about 0.27 s of silence before and 0.6 s after the speech.
# Joined as they are, a sentence cut in two would get a 0.9 s hole in the middle, and sentences
# 1 s apart. Pieces are trimmed to a natural pause: short inside a sentence, longer at its end
# (audio.sentence_silence is added after that).
LEAD = 0.05
PHRASE_TAIL = 0.1
SENTENCE_TAIL = 0.25
_SILENT = 0.01  # amplitude below which a piece's edge counts as silence
_FADE = 120  # samples (5 ms) of fade where a piece is cut inside its silence


def trim_silence(samples: np.ndarray, rate: int, tail: float) -> np.ndarray:
    """``samples`` from ``LEAD`` s before the first loud sample to ``tail`` s after the last."""
    loud = np.flatnonzero(np.abs(samples) > _SILENT)
    if loud.size == 0:
        return samples[:0]
    start = max(0, int(loud[0]) - int(LEAD * rate))
    end = min(samples.size, int(loud[-1]) + 1 + int(tail * rate))
    out = samples[start:end].copy()
    fade = min(_FADE, out.size // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        if start > 0:
            out[:fade] *= ramp
        if end < samples.size:
            out[-fade:] *= ramp[::-1]
    return out
