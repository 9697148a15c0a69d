"""A model whose backend is a fake (deterministic PCM, gated by events) and a fake G2P, so the
synthesis service, the scheduler and the Wyoming front end can be tested in process, in
milliseconds, with the order of events under the test's control instead of sleeps."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from wyoming_kokoro.model.bundle import STYLE_DIM, STYLE_ROWS, Bundle
from wyoming_kokoro.model.kokoro import KokoroModel

RATE = 24000
SYMBOLS = "abcdefghijklmnopqrstuvwxyz .,!?"
SAMPLES_PER_TOKEN = 240  # 10 ms of audio per phoneme


class FakeBackend:
    """Audio whose length is the token count and whose content names the tokens.

    ``calls`` lists the phoneme strings synthesized, in order. With ``gated``, each call waits
    until the test releases it (``release()``), and ``started`` tells that one is waiting.
    """

    name = "fake"
    device = "cpu"

    def __init__(self, vocab: dict[str, int], gated: bool = False) -> None:
        self._symbols = {v: k for k, v in vocab.items()}
        self.calls: list[str] = []
        self.closed = False
        self.gated = gated
        self._lock = threading.Lock()
        self._gate = threading.Semaphore(0)
        self.started = threading.Semaphore(0)

    def synthesize(self, tokens: np.ndarray, style: np.ndarray, speed: float) -> np.ndarray:
        text = "".join(self._symbols[int(t)] for t in tokens)
        with self._lock:
            self.calls.append(text)
        if self.gated:
            self.started.release()
            assert self._gate.acquire(timeout=30), "the test never released the backend"
        samples = int(len(tokens) * SAMPLES_PER_TOKEN / speed)
        wave = 0.5 * np.sin(np.arange(samples, dtype=np.float32) * (0.01 + 0.001 * tokens[0]))
        return wave.astype(np.float32)

    def release(self, n: int = 1) -> None:
        for _ in range(n):
            self._gate.release()

    def wait_started(self, n: int = 1) -> None:
        for _ in range(n):
            assert self.started.acquire(timeout=30), "the backend was never called"

    def close(self) -> None:
        self.closed = True


def fake_model(name: str = "fake", gated: bool = False,
               voices: tuple[str, ...] = ("af_test", "am_test")) -> KokoroModel:
    vocab = {ch: i + 1 for i, ch in enumerate(SYMBOLS)}
    rng = np.random.default_rng(len(name))
    packs = {v: rng.standard_normal((STYLE_ROWS, 1, STYLE_DIM)).astype(np.float32)
             for v in voices}
    bundle = Bundle(root=Path("/nonexistent"), name=name, description="fake", sample_rate=RATE,
                    files={f"{name}.onnx": "0" * 64}, roles={})
    return KokoroModel(bundle, FakeBackend(vocab, gated), vocab, packs)


class FakeG2P:
    """Lower-case letters as their own phonemes; what was asked is kept in ``asked``."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def __call__(self, language: str, text: str) -> str:
        self.asked.append((language, text))
        return "".join(ch for ch in text.lower() if ch in SYMBOLS).strip()

    def warm_up(self, languages) -> None:
        pass
