"""Prometheus metrics for every front end (Wyoming and HTTP), in a registry the App owns.

Requests are counted by how they ended; latencies and the real-time factor are observed as each
request ends (the service's ``observer`` hook). Live values (queue depth, cache hits, the active
model, uptime) are read at scrape time, so they cost nothing between scrapes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .app import App
    from .service import Utterance

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
_RTF_BUCKETS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0)


class Metrics:
    def __init__(self, app: App) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "kokoro_requests", "Synthesis requests by front end and outcome (ok, cancelled, "
            "busy, unknown-voice, too-long, error, ...)", ["source", "outcome"], registry=r)
        self.first_audio = Histogram(
            "kokoro_first_audio_seconds", "From the start of a request to its first audio",
            ["source"], buckets=_LATENCY_BUCKETS, registry=r)
        self.total = Histogram(
            "kokoro_request_seconds", "From the start of a request to its last audio",
            ["source"], buckets=_LATENCY_BUCKETS, registry=r)
        self.rtf = Histogram(
            "kokoro_real_time_factor", "Seconds waiting for synthesis (queue and inference) per "
            "second of audio; below 1 is faster than real time", ["source"],
            buckets=_RTF_BUCKETS, registry=r)
        self.audio = Counter("kokoro_audio_seconds", "Seconds of audio produced", ["source"],
                             registry=r)
        self.characters = Counter("kokoro_characters", "Characters of text received",
                                  ["source"], registry=r)
        self.model_swaps = Counter("kokoro_model_swaps", "Model swaps by outcome (ok, failed)",
                                   ["outcome"], registry=r)
        self.reloads = Counter("kokoro_config_reloads", "Config reloads by outcome (ok, failed)",
                               ["outcome"], registry=r)
        r.register(_LiveCollector(app))

    def observe(self, source: str, outcome: str, utterance: Utterance | None) -> None:
        """The service's observer: one finished (or refused) request."""
        if utterance is not None and outcome == "ok" and utterance.first_audio is None:
            outcome = "empty-text"
        self.requests.labels(source, outcome).inc()
        if utterance is None:
            return
        self.characters.labels(source).inc(utterance.chars)
        if utterance.first_audio is None:
            return
        self.first_audio.labels(source).observe(utterance.first_audio - utterance.started)
        self.audio.labels(source).inc(utterance.produced)
        if outcome == "ok":
            self.total.labels(source).observe(time.monotonic() - utterance.started)
            if utterance.produced > 0:
                self.rtf.labels(source).observe(utterance.synthesis_wait / utterance.produced)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _LiveCollector(Collector):
    """Values read from the running app at scrape time."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        app, service = self.app, self.app.service
        yield _gauge("kokoro_requests_active", "Requests synthesizing now", service.active)
        yield _gauge("kokoro_queue_pending", "Pieces of speech waiting for a worker",
                     service.scheduler.pending)
        yield _gauge("kokoro_workers_busy", "Workers synthesizing now", service.scheduler.busy)
        for name, cache in (("audio", service.audio_cache), ("phoneme", service.phonemes)):
            hits = CounterMetricFamily(f"kokoro_{name}_cache_hits", f"{name} cache hits")
            hits.add_metric([], cache.hits)
            yield hits
            misses = CounterMetricFamily(f"kokoro_{name}_cache_misses", f"{name} cache misses")
            misses.add_metric([], cache.misses)
            yield misses
            yield _gauge(f"kokoro_{name}_cache_bytes", f"Bytes held by the {name} cache",
                         cache.bytes)
        model = GaugeMetricFamily("kokoro_model_info", "The active model (always 1)",
                                  labels=["name", "backend", "device"])
        if app.manager.loaded:
            active = app.manager.active
            model.add_metric([active.name, active.backend.name, active.backend.device], 1)
        yield model
        yield _gauge("kokoro_uptime_seconds", "Seconds since the server started",
                     time.monotonic() - app.started)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)
