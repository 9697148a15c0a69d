"""``GET /stats``: what the server is doing now and did in the last minutes, as JSON for the page.

Prometheus (``/metrics``) keeps cumulative histograms for a scraper; a person looking at the
page wants the recent past: a small ring of the last requests (a service observer, bounded in
count and age) is summed up into time buckets on each poll, with p50/p95 of first-audio time
and real-time factor and the cache hit ratio per bucket. Nothing runs between polls.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ...synthesis.service import SynthesisService
from ...synthesis.utterance import Utterance
from .keys import CONTROL, SERVICE

WINDOW_S = 600.0  # what the page charts: the last ten minutes ...
BUCKET_S = 15.0  # ... in 40 buckets
CAPACITY = 5000  # observations kept at most, whatever the request rate


@dataclass(frozen=True, slots=True)
class Observation:
    """One request, as it ended."""

    at: float  # time.monotonic() at its end
    source: str
    outcome: str
    first_audio: float | None  # seconds from its start to its first audio
    rtf: float | None  # seconds waiting for synthesis per second of audio
    audio: float  # seconds of audio produced
    caches: tuple[tuple[str, int, int], ...]  # (cache, hits, misses) so far, at its end


class RecentRequests:
    """The ring of recent observations, fed by ``service.add_observer``."""

    def __init__(self, service: SynthesisService, capacity: int = CAPACITY,
                 window: float = WINDOW_S) -> None:
        self._service = service
        self._ring: deque[Observation] = deque(maxlen=capacity)
        self.window = window
        self._baseline = self._caches()  # cache counters before the first observation

    def observe(self, source: str, outcome: str, utterance: Utterance | None) -> None:
        first = rtf = None
        audio = 0.0
        if utterance is not None:
            if outcome == "ok" and utterance.first_audio is None:
                outcome = "empty-text"  # as the metrics count it
            if utterance.first_audio is not None:
                first = utterance.first_audio - utterance.started
                audio = utterance.produced
                if outcome == "ok" and audio > 0:
                    rtf = utterance.synthesis_wait / audio
        now = time.monotonic()
        self._forget(now)
        if len(self._ring) == self._ring.maxlen:
            self._baseline = self._ring[0].caches
        self._ring.append(Observation(now, source, outcome, first, rtf, audio, self._caches()))

    def _caches(self) -> tuple[tuple[str, int, int], ...]:
        return tuple((name, c.hits, c.misses)
                     for name, c in sorted(self._service.stats().caches.items()))

    def _forget(self, now: float) -> None:
        ring = self._ring
        while ring and ring[0].at < now - self.window:
            self._baseline = ring.popleft().caches

    def summary(self, bucket: float = BUCKET_S) -> dict[str, Any]:
        """The window as buckets (oldest first) plus totals over it."""
        now = time.monotonic()
        self._forget(now)
        # Buckets on fixed boundaries of the clock, so a request stays in its bucket from one
        # poll to the next; the last one is the bucket under way.
        count = math.ceil(self.window / bucket)
        first = math.floor(now / bucket) - count + 1
        buckets: list[list[Observation]] = [[] for _ in range(count)]
        for obs in self._ring:
            index = math.floor(obs.at / bucket) - first
            if 0 <= index < count:
                buckets[index].append(obs)
        series = []
        before = dict(_counts(self._baseline))
        for index, group in enumerate(buckets):
            after = dict(_counts(group[-1].caches)) if group else before
            series.append({
                "age_s": round(now - (first + index) * bucket, 3),  # since the bucket began
                "requests": len(group),
                "failed": sum(o.outcome not in ("ok", "cancelled") for o in group),
                "first_audio_s": _percentiles([o.first_audio for o in group]),
                "rtf": _percentiles([o.rtf for o in group]),
                "cache_hit_ratio": {name: _ratio(after[name], before.get(name, (0, 0)))
                                    for name in after},
            })
            before = after
        ring = list(self._ring)
        return {
            "window_s": self.window, "bucket_s": bucket,
            "requests": len(ring),
            "outcomes": dict(Counter(o.outcome for o in ring)),
            "sources": dict(Counter(o.source for o in ring)),
            "audio_s": round(sum(o.audio for o in ring), 3),
            "first_audio_s": _percentiles([o.first_audio for o in ring]),
            "rtf": _percentiles([o.rtf for o in ring]),
            "series": series,
        }


def _counts(caches: tuple[tuple[str, int, int], ...]) -> list[tuple[str, tuple[int, int]]]:
    return [(name, (hits, misses)) for name, hits, misses in caches]


def _ratio(after: tuple[int, int], before: tuple[int, int]) -> float | None:
    hits, misses = after[0] - before[0], after[1] - before[1]
    if hits < 0 or misses < 0 or hits + misses == 0:  # no lookups (or the counters restarted)
        return None
    return round(hits / (hits + misses), 4)


def _percentiles(values: list[float | None]) -> dict[str, float] | None:
    """p50 and p95 by the nearest-rank method (what a chart of a few requests should show:
    values that happened, not interpolations); None without values."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return None

    def rank(p: float) -> float:
        return round(data[max(0, math.ceil(p * len(data)) - 1)], 4)

    return {"p50": rank(0.50), "p95": rank(0.95)}


RECENT: web.AppKey[RecentRequests] = web.AppKey("kokoro_recent_requests")


async def stats(request: web.Request) -> web.Response:
    service, control = request.app[SERVICE], request.app[CONTROL]
    live = service.stats()
    model = live.model
    outcomes = control.outcomes
    return web.json_response({
        "uptime_s": round(time.monotonic() - control.started, 3),
        "requests_active": live.requests_active,
        "queue_pending": live.queue_pending,
        "workers_busy": live.workers_busy,
        "workers": service.config.limits.workers,
        "queue_limit": service.config.limits.queue,
        "model": None if model is None else {
            "name": model.name, "backend": model.backend, "device": model.device},
        "caches": {name: {"hits": c.hits, "misses": c.misses,
                          "hit_ratio": _ratio((c.hits, c.misses), (0, 0)),
                          "bytes": c.bytes, "entries": c.entries}
                   for name, c in live.caches.items()},
        "model_swaps": {k: outcomes["model_swap", k] for k in ("ok", "failed")},
        "reloads": {k: outcomes["reload", k] for k in ("ok", "failed")},
        "recent": request.app[RECENT].summary(),
    })


ROUTES = [web.get("/stats", stats)]
