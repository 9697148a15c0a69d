"""A loaded Kokoro model: a verified bundle, a backend, the vocabulary and the voice packs."""

from __future__ import annotations

import itertools
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import ConfigError
from ..engine.base import Backend, Front, WindowedBackend
from ..engine.windows import CostModel
from ..fsutil import default_cache_dir
from .backends import BACKENDS, backend_unavailable
from .bundle import STYLE_DIM, STYLE_ROWS, Bundle, BundleError, read_bundle
from .embedded import embedded_bundle

_LOGGER = logging.getLogger(__name__)

_SERIALS = itertools.count(1)
SENTENCE_END = ".!?;:…。！？"
LEAD_FRAMES = 8  # 200 ms decoded before the first sound: less and soft onsets ("The") blur
LEAD_PLAYED = 2  # of which 50 ms are played: pauses come from audio.sentence_silence
LAST_FRAMES = 8  # the last sound: Kokoro gives it ~20 frames, mostly a fading silence
STOP_FRAMES = 4  # each final punctuation mark: with audio.sentence_silence, the pause
KEPT_SILENCE = (STOP_FRAMES + LEAD_PLAYED) * 600 / 24_000
"""Seconds of silence the caps keep around a sentence boundary (at least one stop mark and the
played lead): an explicit pause (an SSML break) is shortened by it, so a break sounds as long
as asked."""


@dataclass(frozen=True)
class ModelInfo:
    """What clients are told about a loaded model."""

    name: str
    backend: str
    device: str
    sample_rate: int
    decoder: str = "native"  # the ONNX DECODER's precision (int8, float); "native" elsewhere


@dataclass(frozen=True)
class ModelSpec:
    """What to load: a bundle directory (None = embedded), a backend, device and threads, and
    the ONNX DECODER's precision (engine/onnx.py)."""

    bundle: Path | None
    backend: str
    device: str = "auto"
    threads: int = 0
    cache_dir: Path | None = None
    decoder: str = "auto"

    def describe(self) -> str:
        where = str(self.bundle) if self.bundle else "embedded"
        return f"{self.backend} model from {where}"


class KokoroModel:
    """Phonemes + style pack in, float PCM out. Thread-safe; closed by the model manager."""

    def __init__(self, bundle: Bundle, backend: Backend, vocab: dict[str, int],
                 voices: dict[str, np.ndarray]) -> None:
        self.bundle = bundle
        self.backend = backend
        self.vocab = vocab
        self.voices = voices
        self.sample_rate = bundle.sample_rate
        self.serial = next(_SERIALS)  # unique per load, unlike id() (cache keys)
        self.costs = CostModel()  # the decoder's measured speed, for window sizes
        self._space = vocab.get(" ")
        self._punctuation = {i for ch, i in vocab.items() if ch in SENTENCE_END}

    @property
    def windowed(self) -> bool:
        """Whether sentences can be decoded in windows (the backend's graph splits)."""
        return isinstance(self.backend, WindowedBackend) and bool(
            getattr(self.backend, "windowed", False))

    @property
    def precision(self) -> str:
        """The decoder's arithmetic where the backend has a choice (ONNX: int8 or float)."""
        return getattr(self.backend, "precision", None) or "native"

    @property
    def name(self) -> str:
        return self.bundle.name

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.backend.name, self.backend.device, self.sample_rate,
                         self.precision)

    def tokenize(self, phonemes: str) -> np.ndarray:
        ids = [self.vocab[ch] for ch in phonemes if ch in self.vocab]
        return np.asarray(ids, dtype=np.int64)

    def infer(self, phonemes: str, pack: np.ndarray, speed: float) -> np.ndarray:
        """Audio for one phoneme piece (at most 510 phonemes); the style row is chosen by length."""
        tokens = self.tokenize(phonemes)
        if tokens.size == 0:
            return np.zeros(0, dtype=np.float32)
        return self.backend.synthesize(tokens, _style(tokens, pack), speed)

    def front(self, phonemes: str, pack: np.ndarray, speed: float,
              cap_silence: bool = True) -> tuple[Front, np.ndarray, int]:
        """The FRONT of one piece (windowed backends only), the frames where words meet and how
        many leading frames are decoded but not played.

        With ``cap_silence`` the near-silence Kokoro renders around the speech is cut before
        decoding, by the durations: the leading pad to ``LEAD_FRAMES``, the last sound to
        ``LAST_FRAMES`` and the final punctuation to ``STOP_FRAMES`` (the pauses between
        sentences come from audio.sentence_silence).
        """
        tokens = self.tokenize(phonemes)
        backend = self.backend
        assert isinstance(backend, WindowedBackend)
        front = backend.front(tokens, _style(tokens, pack), speed)
        if cap_silence:
            front = front.select(self._keep(tokens, front.durations))
        ends = np.cumsum(front.durations)
        padded = np.concatenate(([-1], tokens, [-1]))
        spaces = np.flatnonzero((padded == self._space) & (front.durations > 0))
        gaps = ends[spaces] - front.durations[spaces] // 2
        skip = max(0, int(front.durations[0]) - LEAD_PLAYED) if cap_silence else 0
        return front, gaps, skip

    def _keep(self, tokens: np.ndarray, durations: np.ndarray) -> np.ndarray:
        """Which frames survive the silence caps (bool per frame)."""
        caps = np.full(durations.size, -1, dtype=np.int64)  # -1: no cap
        caps[0] = LEAD_FRAMES
        caps[-1] = 0  # the trailing pad
        last = durations.size - 2  # the last real token
        while last > 1 and int(tokens[last - 1]) in self._punctuation:
            caps[last] = STOP_FRAMES
            last -= 1
        if last >= 1:
            caps[last] = LAST_FRAMES
        keep = np.ones(int(durations.sum()), dtype=bool)
        ends = np.cumsum(durations)
        for i in np.flatnonzero(caps >= 0):
            start, end = int(ends[i] - durations[i]), int(ends[i])
            if i == 0:
                keep[start:max(start, end - int(caps[i]))] = False  # keep the frames by the speech
            else:
                keep[min(end, start + int(caps[i])):end] = False
        return keep

    def close(self) -> None:
        self.backend.close()


def load_model(spec: ModelSpec) -> KokoroModel:
    """Verify the bundle, load vocabulary and voices, start the backend; log what and how long."""
    started = time.perf_counter()
    if spec.backend in BACKENDS and (why := backend_unavailable(spec.backend)):
        raise ConfigError(f"model.backend: {why}")
    bundle = read_bundle(spec.bundle) if spec.bundle else embedded_bundle(spec.cache_dir)
    vocab = _read_vocab(bundle.require("vocab"))
    voices = _read_voices(bundle.require("voices"))
    backend = _start_backend(spec, bundle, vocab, voices)
    model = KokoroModel(bundle, backend, vocab, voices)
    _LOGGER.info("Loaded model %s (%s on %s, %d voices) from %s in %.2f s", bundle.name,
                 backend.name, backend.device, len(voices), bundle.root,
                 time.perf_counter() - started)
    return model


def _style(tokens: np.ndarray, pack: np.ndarray) -> np.ndarray:
    """The voice's style vector for a piece of this many phonemes (Kokoro: one row a length)."""
    if tokens.size > STYLE_ROWS:
        raise ValueError(f"{tokens.size} phonemes exceed Kokoro's limit of {STYLE_ROWS}")
    return pack[max(tokens.size, 1) - 1].reshape(-1)


def _start_backend(spec: ModelSpec, bundle: Bundle, vocab: dict[str, int],
                   voices: dict[str, np.ndarray]) -> Backend:
    if spec.backend == "onnx":
        from ..engine.onnx import OnnxBackend
        from ..engine.onnx_quantize import calibration_set

        path = bundle.require("onnx")
        return OnnxBackend(path, threads=spec.threads, sha256=bundle.files.get(path.name),
                           cache_dir=spec.cache_dir or default_cache_dir(), decoder=spec.decoder,
                           calibration=calibration_set(vocab, voices))
    if spec.backend == "torch":
        return _start_torch(spec, bundle)
    raise BundleError(f"unknown backend {spec.backend!r}")


def _start_torch(spec: ModelSpec, bundle: Bundle) -> Backend:
    missing = [role for role in ("torch", "torch_config") if role not in bundle.roles]
    if missing:
        roles = " and ".join(f"'{r}'" for r in missing)
        raise BundleError(f"model bundle {bundle.root} has no torch weights: the torch backend "
                          f"needs manifest role{'s' if len(missing) > 1 else ''} {roles}")
    from ..engine.torch import TorchBackend

    backend = TorchBackend(bundle.require("torch"), bundle.require("torch_config"),
                           device=spec.device, threads=spec.threads)
    _LOGGER.info("Torch backend on %s (model.device: %s)", backend.device, spec.device)
    return backend


def _read_vocab(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        vocab = data.get("vocab", data)
        return {str(k): int(v) for k, v in vocab.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise BundleError(f"{path}: not a Kokoro vocabulary: {err}") from err


def _read_voices(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            voices = {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}
    except (OSError, ValueError) as err:
        raise BundleError(f"{path}: not a voice archive: {err}") from err
    for name, pack in voices.items():
        if pack.size != STYLE_ROWS * STYLE_DIM:
            raise BundleError(f"{path}: voice {name} has shape {pack.shape}, "
                              f"expected ({STYLE_ROWS}, 1, {STYLE_DIM})")
        voices[name] = pack.reshape(STYLE_ROWS, 1, STYLE_DIM)
    if not voices:
        raise BundleError(f"{path}: the archive holds no voices")
    return voices
