"""A sentence decoded in windows of frames: the first small, so it plays soon; the rest sized
from the decoder's measured speed, so each is ready before the listener reaches it.

A window is decoded with context frames of its neighbours on each side (``LEFT_CONTEXT``,
``RIGHT_CONTEXT``: decoded, then dropped; without them its edges click), the harmonic source's
phase carried over from the window before, and ``CROSSFADE`` samples blended at each seam. Cuts
fall in word gaps where there is one near. Windowing costs more compute than one whole decode
(every window pays the call and its context), so a window takes all that the buffered audio
leaves time for, up to ``MAX_WINDOW`` frames (which bounds memory): with enough audio queued,
that is the rest of the sentence, in one window when it decodes no more frames than a largest
window with its context would.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from .base import HARMONICS, SAMPLES_PER_FRAME, Front, WindowedBackend

FRAME_SECONDS = SAMPLES_PER_FRAME / 24_000  # 25 ms of audio per frame
LEFT_CONTEXT = 24  # frames decoded before a window and dropped: each fewer moves the windows
# away from the whole decode (16: +0.5 dB log-mel on the test sentences)
RIGHT_CONTEXT = 16  # and after it: the first window's cost (it has no left context). The
# edge it guards matters less (24 -> 16: +0.1 dB with growing windows, Whisper as good)
CONTEXT = LEFT_CONTEXT + RIGHT_CONTEXT  # decoded and dropped around a window inside a sentence
CROWDED_RIGHT_CONTEXT = 12  # after a first window other replies wait behind: each frame less
# lets them start sooner (12: Whisper heard 20 test sentences as with 16, +0.2 dB log-mel over
# the first 0.8 s; 8 lost a first word)
CROSSFADE = 144  # samples (6 ms) blended where two windows meet
FADE_OUT = 240  # samples (10 ms) faded at the sentence's end: it is cut inside the last sound
FADE_IN = 120  # samples (5 ms) faded in when the sentence starts inside its leading pad
MIN_WINDOW = 16
MAX_WINDOW = 160  # 4 s of audio; a window decodes at most MAX_WINDOW + CONTEXT frames, which
# bounds the decoder's working memory (~0.6 MB a frame)
BACKGROUND_WINDOW = 48  # when nobody listens yet (prerendering): a reply that arrives meanwhile
# waits for at most one such window (~0.5 s on 2 cores; a 160-frame one made it wait 1.2 s)
MARGIN = 1.3  # a window must be ready this many times sooner than its audio is needed
GAP_SLACK = 0.4  # a cut may move this share of a window earlier to land in a word gap


class CostModel:
    """Seconds a decoder window of ``n`` frames takes, ``base + per_frame * n``, learnt from
    every window decoded (a least-squares fit over a sliding window of observations).

    The prior is deliberately slow (a Pi-class CPU), so the first windows are sized safely.
    """

    def __init__(self, base: float = 0.08, per_frame: float = 0.02, memory: int = 32) -> None:
        self.base = base
        self.per_frame = per_frame
        self._memory = memory
        self._seen: list[tuple[int, float]] = []
        self._lock = threading.Lock()

    @property
    def observations(self) -> list[tuple[int, float]]:
        """The windows the fit is made from: (frames decoded, seconds)."""
        with self._lock:
            return list(self._seen)

    def cost(self, frames: int) -> float:
        return self.base + self.per_frame * frames

    def frames_within(self, seconds: float) -> int:
        """Most frames (decoded, context included) one window can take in ``seconds``."""
        return int((seconds - self.base) / self.per_frame) if self.per_frame > 0 else MAX_WINDOW

    def observe(self, frames: int, seconds: float) -> None:
        with self._lock:
            self._seen.append((frames, seconds))
            del self._seen[:-self._memory]
            n = np.array([f for f, _ in self._seen], dtype=np.float64)
            t = np.array([s for _, s in self._seen], dtype=np.float64)
            if len(self._seen) >= 4 and np.ptp(n) >= 16:
                per_frame, base = np.polyfit(n, t, 1)
                if per_frame > 0:
                    self.per_frame = float(per_frame)
                    self.base = float(max(base, 0.0))
                    return
            # Too few or too alike to fit two terms: scale the model to what was seen.
            predicted = float(np.sum(self.base + self.per_frame * n))
            if predicted > 0:
                ratio = float(np.sum(t)) / predicted
                self.base *= ratio
                self.per_frame *= ratio


@dataclass(frozen=True)
class Window:
    start: int  # first frame kept
    end: int  # frame after the last kept
    decoded: int  # frames decoded, context included


class Rendering:
    """One sentence's decode in progress. Not thread-safe: its windows run one after another
    (the scheduler runs one window of a reply at a time)."""

    def __init__(self, backend: WindowedBackend, front: Front, costs: CostModel,
                 gaps: np.ndarray | None = None, skip: int = 0) -> None:
        """``skip`` leading frames are decoded as context for the first sound but not played
        (the leading pad: the model needs it, the listener does not)."""
        self.backend = backend
        self.front = front
        self.costs = costs
        self.gaps = np.asarray(gaps if gaps is not None else [], dtype=np.int64)
        self.skip = max(0, min(int(skip), front.frames - 1))
        self.done = self.skip  # frames emitted (kept), or skipped, so far
        self._phase = np.zeros(HARMONICS, dtype=np.float64)  # at frame self._phase_at
        self._phase_at = 0
        self._steps: np.ndarray | None = None  # the last window's accumulated phase
        self._steps_from = 0  # the frame its row 0 belongs to
        self._tail: np.ndarray | None = None  # last window's samples past its end, to blend
        self.windows: list[Window] = []

    @property
    def frames(self) -> int:
        return self.front.frames

    @property
    def finished(self) -> bool:
        return self.done >= self.frames

    @property
    def remaining(self) -> int:
        return self.frames - self.done

    # -- planning ----------------------------------------------------------------------------

    def first_frames(self, buffered: float = 0.0) -> int:
        """The smallest first window after which every later one can be ready in time, given
        ``buffered`` seconds of audio already queued before this sentence; at most MAX_WINDOW
        (the memory bound), which a decoder too slow for any first window gets."""
        largest = min(self.remaining, MAX_WINDOW)
        n = MIN_WINDOW
        # Judged by where the window will really end: a word gap may cut it shorter than asked,
        # and the listener would run out (steps of 8 frames asked for more and hid that).
        while n < largest and not self._keeps_up(self._cut(n) - self.done, buffered):
            n += 1
        return min(n, largest)

    def opening(self, buffered: float, crowded: bool = False) -> int:
        """The first window when ``buffered`` seconds of audio are queued before this sentence:
        as much as is ready in time, and never less than keeping up needs. ``crowded``: other
        replies already wait for the decoder, so keeping up is out of reach and the smallest
        window lets them start sooner."""
        if _waited_on(buffered, crowded):
            return min(self.remaining, MIN_WINDOW)
        if not math.isfinite(buffered):
            return min(self.remaining, BACKGROUND_WINDOW)
        least = self.first_frames(buffered)
        fits = min(self.remaining, MAX_WINDOW, self._fits(buffered))
        return self._or_rest(fits) if fits >= least else least

    def begin(self, buffered: float, crowded: bool = False) -> np.ndarray:
        """Decode the first window (``opening``), ready to play: a crowded one with less right
        context, as it is what every reply behind it waits for."""
        return self.next(self.opening(buffered, crowded),
                         CROWDED_RIGHT_CONTEXT if _waited_on(buffered, crowded)
                         else RIGHT_CONTEXT)

    def _keeps_up(self, first: int, buffered: float) -> bool:
        left = self.remaining - first
        ahead = buffered + first * FRAME_SECONDS  # audio queued when the second window starts
        while left > 0:
            n = min(left, MAX_WINDOW, self._fits(ahead))
            if n < MIN_WINDOW and n < left:
                return False
            ahead += n * FRAME_SECONDS - self.costs.cost(n + CONTEXT) * MARGIN
            if ahead < 0:
                return False
            left -= n
        return True

    def _fits(self, seconds: float) -> int:
        if not math.isfinite(seconds):
            return BACKGROUND_WINDOW
        return self.costs.frames_within(seconds / MARGIN) - CONTEXT

    def frames_for(self, buffered: float) -> int:
        """The next window's size when ``buffered`` seconds of audio are queued ahead of the
        listener: all that can be ready in time. When even a small window cannot, the listener
        will wait anyway, and the most audio per second of compute is a window as large as
        allowed."""
        fits = self._fits(buffered)
        if fits < MIN_WINDOW:
            fits = MAX_WINDOW
        return self._or_rest(max(1, min(self.remaining, MAX_WINDOW, fits)))

    def _or_rest(self, frames: int) -> int:
        """``frames``, or the rest of the sentence when decoding all of it takes no more frames
        than a window of ``frames`` with both contexts (what its time was planned for, and what
        memory is bounded by): the context is not paid twice, nor a second call. A sentence of
        up to MAX_WINDOW + CONTEXT frames is decoded in one window once audio is queued."""
        lo = max(0, self.done - LEFT_CONTEXT)
        return self.remaining if self.frames - lo <= frames + CONTEXT else frames

    # -- decoding ----------------------------------------------------------------------------

    def _cut(self, frames: int) -> int:
        """Where the next window ends: ``done + frames``, or a word gap a little before it."""
        end = self.done + frames
        if end >= self.frames:
            return self.frames
        if self.frames - end < MIN_WINDOW:  # no tiny window left over
            return self.frames if frames + self.frames - end <= MAX_WINDOW else end
        earliest = self.done + max(1, int(frames * (1 - GAP_SLACK)))
        near = self.gaps[(self.gaps >= earliest) & (self.gaps <= end)]
        return int(near[-1]) if near.size else end

    def next(self, frames: int, right: int = RIGHT_CONTEXT) -> np.ndarray:
        """Decode the next window of about ``frames`` frames, with ``right`` context frames
        after it; its audio, ready to play."""
        if self.finished:
            return np.zeros(0, dtype=np.float32)
        start, end = self.done, self._cut(frames)
        lo, hi = max(0, start - LEFT_CONTEXT), min(self.frames, end + max(1, right))
        phase = self._phase_for(lo)
        began = time.perf_counter()
        audio, steps = self.backend.decode(self.front, lo, hi, phase)
        self.costs.observe(hi - lo, time.perf_counter() - began)
        self._steps, self._steps_from = steps, lo
        self._phase, self._phase_at = phase, lo
        self.windows.append(Window(start, end, hi - lo))
        self.done = end
        return self._keep(audio, lo, start, end)

    def rest(self) -> np.ndarray:
        """Every frame not yet decoded, in windows as large as allowed."""
        parts = []
        while not self.finished:
            parts.append(self.next(self._or_rest(MAX_WINDOW)))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def _phase_for(self, frame: int) -> np.ndarray:
        if self._steps is None:
            return np.zeros(HARMONICS, dtype=np.float64)
        row = 2 * (frame - self._steps_from)
        return np.mod(self._phase + self._steps[row], 1.0)

    def _keep(self, audio: np.ndarray, lo: int, start: int, end: int) -> np.ndarray:
        """Samples of frames [start, end) out of a window decoded from ``lo``, blended with the
        previous window's tail; the tail past ``end`` is held back for the next window."""
        half = CROSSFADE // 2
        first = (start - lo) * SAMPLES_PER_FRAME
        last = (end - lo) * SAMPLES_PER_FRAME
        final = end >= self.frames
        if self._tail is not None:
            head = audio[first - half:first + half]
            ramp = (np.arange(CROSSFADE, dtype=np.float32) + 0.5) / CROSSFADE
            blended = self._tail * (1 - ramp) + head * ramp
            body = audio[first + half:last if final else last - half]
            out = np.concatenate([blended, body])
        else:
            out = audio[first:last if final else last - half].copy()
            if start > 0:  # starting inside the leading pad: no click
                fade = min(FADE_IN, out.size)
                out[:fade] *= np.linspace(0.0, 1.0, fade, dtype=np.float32)
        self._tail = None if final else audio[last - half:last + half].copy()
        if final:
            fade = min(FADE_OUT, out.size)
            out[out.size - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        return out.astype(np.float32, copy=False)


def _waited_on(buffered: float, crowded: bool) -> bool:
    """Whether a first window is one other replies wait behind with nothing queued before it:
    the smallest, with the least context after it."""
    return crowded and buffered <= 0


def whole(backend: WindowedBackend, front: Front) -> np.ndarray:
    """The sentence decoded in one window: the reference windows are compared with."""
    return backend.decode(front, 0, front.frames, np.zeros(HARMONICS))[0]
