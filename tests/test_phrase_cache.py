"""The phrase cache's tiers and prerendering, through the real synthesis service in process
(the embedded model, real G2P): what survives a restart, what must miss, what is dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from wyoming_kokoro.config import load_config
from wyoming_kokoro.model.kokoro import ModelSpec, load_model
from wyoming_kokoro.model.manager import ModelManager
from wyoming_kokoro.synthesis.disk_cache import SUFFIX, default_directory
from wyoming_kokoro.synthesis.service import SynthesisService
from wyoming_kokoro.text.g2p import G2P

from .support.logmel import distance

REPLY = "Turned on the porch light."


@pytest.fixture(scope="module")
def model(kokoro_cache):
    return load_model(ModelSpec(bundle=None, backend="onnx", cache_dir=kokoro_cache))


@pytest.fixture(scope="module")
def g2p(kokoro_cache):
    return G2P(kokoro_cache)


def pcm_samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768


def config_in(folder: Path, text: str = ""):
    path = folder / "config.yaml"
    path.write_text(f"model:\n  cache_dir: {folder}\n{text}", encoding="utf-8")
    return load_config(path)


async def speak(service: SynthesisService, text: str, voice: str | None = None) -> bytes:
    async with service.utterance(voice) as utterance:
        utterance.feed(text)
        utterance.finish()
        return b"".join([pcm async for pcm in utterance.audio()])


class Server:
    """A synthesis service over ``config`` and the shared model, started and stopped like the
    server's (start opens the disk tier and prerenders)."""

    def __init__(self, model, g2p, config) -> None:
        manager = ModelManager()
        manager.install(model)
        self.service = SynthesisService(manager, g2p, config)

    def run(self, *coros):
        async def main():
            await self.service.start()
            try:
                return [await coro(self.service) for coro in coros]
            finally:
                await self.service.stop()
        return asyncio.run(main())

    def tier(self, name: str):
        return self.service.stats().caches[name]


def test_a_reply_said_before_a_restart_comes_from_disk_byte_for_byte(model, g2p, tmp_path):
    config = config_in(tmp_path)
    first = Server(model, g2p, config)
    (before,) = first.run(lambda s: speak(s, REPLY))
    assert first.tier("disk").misses >= 1 and first.tier("disk").entries >= 1
    assert list(default_directory(tmp_path).glob(f"*{SUFFIX}"))

    again = Server(model, g2p, config)  # a new process would find the same folder
    (after,) = again.run(lambda s: speak(s, REPLY))
    assert after == before
    assert again.tier("disk").hits >= 1 and again.tier("disk").misses == 0


@pytest.mark.parametrize("change", [
    "voices:\n  jf_alpha: {volume: 0.8}\n",
    "audio:\n  speed: 1.2\n",
    "default_voice: jm_kumo\n",
], ids=["voice-volume", "speed", "voice"])
def test_a_changed_setting_never_plays_the_old_audio(model, g2p, tmp_path, change):
    (before,) = Server(model, g2p, config_in(tmp_path)).run(lambda s: speak(s, REPLY))
    changed = Server(model, g2p, config_in(tmp_path, change))
    (after,) = changed.run(lambda s: speak(s, REPLY))
    assert changed.tier("disk").hits == 0
    assert after != before


def test_a_corrupted_entry_is_dropped_and_rendered_again(model, g2p, tmp_path):
    config = config_in(tmp_path)
    (before,) = Server(model, g2p, config).run(lambda s: speak(s, REPLY))
    for entry in default_directory(tmp_path).glob(f"*{SUFFIX}"):
        data = bytearray(entry.read_bytes())
        data[-100] ^= 0xFF  # one flipped byte in the audio
        entry.write_bytes(bytes(data))
    again = Server(model, g2p, config)
    (after,) = again.run(lambda s: speak(s, REPLY))
    assert again.tier("disk").hits == 0  # not played damaged
    assert again.service._renderer.disk.stats().dropped >= 1
    # rendered again: the same speech (its windows may be cut elsewhere, being sized from the
    # decoder's speed as measured at the time, which moves the samples by a few dB log-mel)
    assert len(after) == len(before)
    assert distance(pcm_samples(after), pcm_samples(before)) < 6.0


def test_a_prerendered_phrase_is_a_cache_hit_on_its_first_request(model, g2p, tmp_path):
    config = config_in(tmp_path, f"cache:\n  disk_mb: 0\n  prerender:\n    - {REPLY}\n")
    server = Server(model, g2p, config)

    async def prerendered_then_asked(service):
        assert await service.prerendered() == 1
        hits = service.stats().caches["memory"].hits
        await speak(service, REPLY)
        return service.stats().caches["memory"].hits - hits

    (hits,) = server.run(prerendered_then_asked)
    assert hits >= 1
    assert "disk" not in server.service.stats().caches  # disk_mb 0: the tier is off


def test_clearing_the_cache_forgets_both_tiers(model, g2p, tmp_path):
    server = Server(model, g2p, config_in(tmp_path))

    async def said_then_cleared(service):
        await speak(service, REPLY)
        return await service.clear_cache()  # after the write behind the reply (one disk thread)

    (dropped,) = server.run(said_then_cleared)
    assert dropped >= 2  # at least one piece from each tier
    assert not list(default_directory(tmp_path).glob(f"*{SUFFIX}"))
