"""Prometheus metrics for every front end (Wyoming and HTTP), in a registry of their own.

Requests are counted by how they ended; latencies and the real-time factor are observed as each
request ends (a service observer). Live values (queue depth, cache hits, the active model,
reloads, uptime) are read from the service and the controller at scrape time, so they cost
nothing between scrapes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .control import Controller
from .synthesis.service import SynthesisService
from .synthesis.utterance import Utterance

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
_RTF_BUCKETS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0)


class Metrics:
    def __init__(self, service: SynthesisService, controller: Controller) -> None:
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
        r.register(_LiveCollector(service, controller))
        service.add_observer(self.observe)

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
    """Values read from the service and the controller at scrape time."""

    def __init__(self, service: SynthesisService, controller: Controller) -> None:
        self.service = service
        self.controller = controller

    def collect(self) -> Iterator[Metric]:
        stats = self.service.stats()
        yield _gauge("kokoro_requests_active", "Requests synthesizing now", stats.requests_active)
        yield _gauge("kokoro_queue_pending", "Pieces of speech waiting for a worker",
                     stats.queue_pending)
        yield _gauge("kokoro_workers_busy", "Workers synthesizing now", stats.workers_busy)
        caches = stats.caches
        tiers = [(tier, caches[tier]) for tier in ("memory", "disk") if tier in caches]
        for name, doc, field in (("hits", "hits", "hits"), ("misses", "misses", "misses")):
            family = CounterMetricFamily(f"kokoro_audio_cache_{name}",
                                         f"Phrase cache {doc} by tier (memory, disk; disk is "
                                         f"asked on a memory miss)", labels=["tier"])
            for tier, cache in tiers:
                family.add_metric([tier], getattr(cache, field))
            yield family
        for name, doc in (("bytes", "Bytes held"), ("entries", "Phrases held")):
            gauge = GaugeMetricFamily(f"kokoro_audio_cache_{name}",
                                      f"{doc} by the phrase cache, by tier", labels=["tier"])
            for tier, cache in tiers:
                gauge.add_metric([tier], getattr(cache, name))
            yield gauge
        phonemes = caches["phoneme"]
        yield _counter("kokoro_phoneme_cache_hits", "Phoneme cache hits", phonemes.hits)
        yield _counter("kokoro_phoneme_cache_misses", "Phoneme cache misses", phonemes.misses)
        yield _gauge("kokoro_phoneme_cache_bytes", "Bytes held by the phoneme cache",
                     phonemes.bytes)
        model = GaugeMetricFamily("kokoro_model_info", "The active model (always 1)",
                                  labels=["name", "backend", "device"])
        if stats.model is not None:
            model.add_metric([stats.model.name, stats.model.backend, stats.model.device], 1)
        yield model
        outcomes = self.controller.outcomes
        for kind, name, doc in (("model_swap", "kokoro_model_swaps", "Model swaps"),
                                ("reload", "kokoro_config_reloads", "Config reloads")):
            family = CounterMetricFamily(name, f"{doc} by outcome (ok, failed)",
                                         labels=["outcome"])
            for outcome in ("ok", "failed"):
                family.add_metric([outcome], outcomes[kind, outcome])
            yield family
        yield _gauge("kokoro_uptime_seconds", "Seconds since the server started",
                     time.monotonic() - self.controller.started)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc)
    family.add_metric([], value)
    return family


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)
