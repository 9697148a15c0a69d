"""GET /stats (the ring of recent requests) and GET /model (what a swap can choose from)."""

from __future__ import annotations

import importlib.machinery
from dataclasses import dataclass, field
from types import SimpleNamespace

import httpx
import pytest

from wyoming_kokoro.frontends.http import stats as stats_module
from wyoming_kokoro.frontends.http.stats import RecentRequests
from wyoming_kokoro.model import backends, choices
from wyoming_kokoro.model.embedded import NAME as EMBEDDED
from wyoming_kokoro.synthesis.render import CacheStats

from .httpapi import DAMAGED_BUNDLE, GOOD_BUNDLE


@dataclass
class FakeService:
    """What RecentRequests reads: cumulative cache counters."""

    caches: dict[str, CacheStats] = field(default_factory=dict)

    def stats(self):
        return SimpleNamespace(caches=dict(self.caches))

    def count(self, name: str, hits: int, misses: int) -> None:
        old = self.caches.get(name, CacheStats(0, 0, 0, 0))
        self.caches[name] = CacheStats(old.hits + hits, old.misses + misses, 0, 0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(stats_module.time, "monotonic", clock)
    return clock


def utterance(clock: Clock, first: float | None, seconds: float = 2.0, wait: float = 0.5):
    return SimpleNamespace(started=clock.now - 3, produced=seconds if first else 0.0,
                           first_audio=None if first is None else clock.now - 3 + first,
                           synthesis_wait=wait)


def test_the_ring_sums_recent_requests_into_buckets_with_percentiles_and_hit_ratios(clock):
    service = FakeService({"audio": CacheStats(5, 5, 0, 0)})  # counted before: not in a bucket
    recent = RecentRequests(service)
    for first in (0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 5.0):  # 10 requests, 20 s ago
        clock.now += 0.1
        service.count("audio", hits=1, misses=3)
        recent.observe("http", "ok", utterance(clock, first))
    clock.now += 20
    service.count("audio", hits=2, misses=0)
    recent.observe("wyoming", "ok", utterance(clock, 0.05, seconds=1.0, wait=0.25))
    recent.observe("wyoming", "busy", None)
    recent.observe("http", "ok", utterance(clock, None))  # nothing was spoken
    summary = recent.summary()
    series = summary["series"]
    assert len(series) == 40
    assert series[-1]["age_s"] == 1.0  # the bucket under way began at 1020 (15 s boundaries)
    assert [b["age_s"] for b in series[-3:]] == [31.0, 16.0, 1.0]
    early, last = series[-3], series[-1]
    assert early["requests"] == 10 and early["failed"] == 0
    assert early["first_audio_s"] == {"p50": 1.0, "p95": 5.0}  # nearest rank, not interpolated
    assert early["rtf"] == {"p50": 0.25, "p95": 0.25}
    assert early["cache_hit_ratio"] == {"audio": 0.25}
    assert last["requests"] == 3 and last["failed"] == 2  # busy, and an empty reply
    assert last["first_audio_s"] == {"p50": 0.05, "p95": 0.05}
    assert last["cache_hit_ratio"] == {"audio": 1.0}
    assert series[-2]["requests"] == 0 and series[-2]["first_audio_s"] is None
    assert series[-2]["cache_hit_ratio"] == {"audio": None}  # no lookups then
    assert summary["requests"] == 13
    assert summary["outcomes"] == {"ok": 11, "busy": 1, "empty-text": 1}
    assert summary["sources"] == {"http": 11, "wyoming": 2}
    assert summary["first_audio_s"] == {"p50": 1.0, "p95": 5.0}  # 11 values: ranks 6 and 11


def test_the_ring_forgets_what_is_older_than_its_window_and_holds_a_bounded_number(clock):
    service = FakeService()
    recent = RecentRequests(service, capacity=50)
    for _ in range(200):
        clock.now += 1
        service.count("audio", hits=1, misses=1)
        recent.observe("http", "ok", utterance(clock, 0.3))
    summary = recent.summary()
    assert summary["requests"] == 50
    assert sum(b["requests"] for b in summary["series"]) == 50
    counted = [b["cache_hit_ratio"]["audio"] for b in summary["series"] if b["requests"]]
    assert counted and all(r == 0.5 for r in counted)  # the dropped ones set the baseline
    clock.now += 601
    assert recent.summary()["requests"] == 0
    assert all(b["first_audio_s"] is None for b in recent.summary()["series"])


def test_stats_report_live_state_and_the_recent_requests(ingress_server):
    base, token = ingress_server.http, ingress_server.token
    before = httpx.get(f"{base}/stats").json()
    text = "The porch light is on."
    for _ in range(3):  # the same text: the second and third replies come from the cache
        response = httpx.post(f"{base}/v1/audio/speech", timeout=120, json={
            "input": text, "response_format": "wav", "stream": False},
            headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
    after = httpx.get(f"{base}/stats").json()
    recent = after["recent"]
    assert recent["requests"] >= before["recent"]["requests"] + 3
    assert recent["sources"].get("http", 0) >= 3
    assert recent["first_audio_s"]["p50"] <= recent["first_audio_s"]["p95"]
    assert 0 <= recent["rtf"]["p50"] <= recent["rtf"]["p95"]  # cached replies wait for nothing
    assert recent["rtf"]["p95"] > 0  # the first one was synthesized
    assert after["caches"]["memory"]["hits"] >= before["caches"]["memory"]["hits"] + 2
    assert 0 < after["caches"]["memory"]["hit_ratio"] <= 1
    ratios = [b["cache_hit_ratio"]["memory"] for b in recent["series"]
              if b["cache_hit_ratio"].get("memory") is not None]
    assert ratios and max(ratios) > 0
    assert after["requests_active"] == 0 and after["queue_pending"] == 0
    assert after["model"]["backend"] == "onnx"
    assert set(after["model_swaps"]) == set(after["reloads"]) == {"ok", "failed"}


def test_get_model_lists_the_backends_bundles_devices_and_threads(ingress_server):
    data = httpx.get(f"{ingress_server.http}/model").json()
    assert data["active"]["name"] == EMBEDDED and data["active"]["bundle"] is None
    assert data["bundles_dir"] == str(ingress_server.bundles)
    bundles = {b["name"]: b for b in data["bundles"]}
    assert bundles[EMBEDDED]["embedded"] and bundles[EMBEDDED]["path"] is None
    assert bundles[GOOD_BUNDLE]["path"] == str(ingress_server.bundles / GOOD_BUNDLE)
    assert bundles[GOOD_BUNDLE]["backends"] == ["onnx"] and bundles[GOOD_BUNDLE]["error"] is None
    assert DAMAGED_BUNDLE in bundles  # listed; the swap verifies it and says why it fails
    assert {b["name"] for b in data["backends"]} == {"onnx", "torch"}
    assert data["devices"] == ["auto", "cpu", "cuda", "mps"]
    assert data["max_threads"] >= 1


def test_a_backend_is_offered_only_when_its_modules_are_installed(monkeypatch):
    assert backends.backend_unavailable("onnx") is None
    real = importlib.machinery.PathFinder.find_spec

    def without_torch(name, *args):
        return None if name == "torch" else real(name, *args)

    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", without_torch)
    reason = backends.backend_unavailable("torch")
    assert reason is not None and "wyoming-kokoro[torch]" in reason and "torch not installed" \
        in reason


def test_bundles_are_found_by_their_manifest_and_an_unreadable_one_says_why(tmp_path):
    from wyoming_kokoro.model.bundle import write_manifest

    good = tmp_path / "b-good"
    good.mkdir()
    for name in ("m.onnx", "w.pth", "c.json", "v.npz", "vocab.json"):
        (good / name).write_bytes(b"x")
    write_manifest(good, "good", {"onnx": "m.onnx", "torch": "w.pth", "torch_config": "c.json",
                                  "voices": "v.npz", "vocab": "vocab.json"})
    (tmp_path / "a-broken").mkdir()
    (tmp_path / "a-broken" / "manifest.json").write_text("{not json")
    (tmp_path / "c-not-a-bundle").mkdir()
    (tmp_path / "file.txt").write_text("")
    found = choices.find_bundles(tmp_path)
    assert [b.path.name for b in found] == ["a-broken", "b-good"]
    assert found[0].error and "unreadable model bundle manifest" in found[0].error
    assert found[1].name == "good" and found[1].backends == ("onnx", "torch")
    assert choices.find_bundles(tmp_path / "missing") == [] and choices.find_bundles(None) == []
