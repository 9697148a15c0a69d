"""PyTorch backend: Kokoro's own ``KModel`` (float weights; CPU, CUDA or Apple MPS).

torch and kokoro are imported here, when the backend starts, and nowhere else: the onnx path
never pays their start-up time and memory.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError
from ..imports import TORCH_IMPORT_LOCK, lean_phonemizer, lean_spacy
from .base import HARMONICS, Front

_LOGGER = logging.getLogger(__name__)

#: Passed to KModel only to name the model (and silence its warning). KModel downloads its config
#: from this repo when given none and its weights when given no path: we always give it the
#: config as a dict and the weights' path, so neither download is reachable.
REPO_ID = "hexgrad/Kokoro-82M"
DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(requested: str) -> str:
    """``auto`` -> cuda, else mps, else cpu; an explicit device must be available here."""
    import torch

    if requested not in DEVICES:
        raise ConfigError(f"model.device: must be one of {', '.join(DEVICES)}, got {requested!r}")
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if requested == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if requested == "cpu":
        return "cpu"
    if requested == "cuda" and not cuda:
        raise ConfigError("model.device: cuda is not available here (torch "
                          f"{torch.__version__} finds no CUDA device); use auto or cpu")
    if requested == "mps" and not mps:
        raise ConfigError("model.device: mps is not available here (torch finds no Apple "
                          "Metal device); use auto or cpu")
    return requested


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"torch backend: cannot read the model config {path}: {err}") from err
    if not isinstance(config, dict):
        raise ConfigError(f"torch backend: the model config {path} is not a JSON object")
    return config


def _weights(path: Path) -> Path:
    if not Path(path).is_file():
        raise ConfigError(f"torch backend: no weights file at {path}")
    return Path(path)


class TorchBackend:
    """KModel whole, or its parts for windowed decoding: ``front`` runs everything up to the
    decoder, ``decode`` the decoder on a span of frames with the harmonic phase carried in."""

    name = "torch"
    windowed = True

    def __init__(self, model_path: Path, config_path: Path, device: str = "auto",
                 threads: int = 0) -> None:
        with TORCH_IMPORT_LOCK:  # never while spaCy loads with torch hidden (see imports.py)
            import torch
        from loguru import logger

        with warnings.catch_warnings():
            # kokoro's import and KModel's constructor warn about deprecated weight_norm and
            # LSTM dropout; neither matters for inference.
            warnings.simplefilter("ignore", category=UserWarning)
            warnings.simplefilter("ignore", category=FutureWarning)
            with lean_spacy(), lean_phonemizer():  # kokoro imports misaki, spaCy, phonemizer
                from kokoro.model import KModel

            logger.disable("kokoro")  # kokoro logs through loguru at DEBUG to stderr otherwise
            self.device = resolve_device(device)
            if threads > 0:
                torch.set_num_threads(min(threads, os.cpu_count() or threads))
            model = KModel(repo_id=REPO_ID, config=_read_config(config_path),
                           model=str(_weights(model_path)))
        self._torch = torch
        self._model: Any = model.to(self.device).eval()
        # CPU inference is re-entrant; on a GPU, calls are serialized (LSTM.flatten_parameters
        # rewrites shared weight buffers there, and the device runs one call at a time anyway).
        self._lock = contextlib.nullcontext() if self.device == "cpu" else threading.Lock()
        self._window = threading.local()  # the phase of the decode running on this thread
        sine = self._model.decoder.generator.m_source.l_sin_gen
        whole = sine._f02sine
        sine._f02sine = lambda f0: self._f02sine(sine, f0) if hasattr(
            self._window, "phase") else whole(f0)

    def synthesize(self, tokens: np.ndarray, style: np.ndarray, speed: float) -> np.ndarray:
        torch = self._torch
        model = self._live()
        input_ids = self._input_ids(tokens)
        ref_s = self._tensor(np.asarray(style).reshape(1, -1))
        with self._lock, torch.inference_mode():
            audio, _ = model.forward_with_tokens(input_ids, ref_s, float(speed))
            return audio.float().reshape(-1).cpu().numpy()

    def _live(self) -> Any:
        model = self._model
        if model is None:
            raise RuntimeError("the torch backend is closed")
        return model

    def _input_ids(self, tokens: np.ndarray) -> Any:
        ids = np.zeros((1, len(tokens) + 2), dtype=np.int64)
        ids[0, 1:-1] = tokens
        return self._torch.from_numpy(ids).to(self.device)

    def _tensor(self, array: np.ndarray) -> Any:
        return self._torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(
            self.device)

    def front(self, tokens: np.ndarray, style: np.ndarray, speed: float) -> Front:
        """KModel.forward_with_tokens up to the decoder's inputs (its steps, in its order)."""
        torch = self._torch
        model = self._live()
        input_ids = self._input_ids(tokens)
        ref_s = self._tensor(np.asarray(style).reshape(1, -1))
        with self._lock, torch.inference_mode():
            lengths = torch.full((1,), input_ids.shape[-1], device=self.device, dtype=torch.long)
            mask = torch.zeros_like(input_ids, dtype=torch.bool)  # one sequence: no padding
            bert = model.bert(input_ids, attention_mask=(~mask).int())
            d_en = model.bert_encoder(bert).transpose(-1, -2)
            s = ref_s[:, 128:]
            d = model.predictor.text_encoder(d_en, s, lengths, mask)
            x, _ = model.predictor.lstm(d)
            duration = torch.sigmoid(model.predictor.duration_proj(x)).sum(axis=-1) / speed
            durations = torch.round(duration).clamp(min=1).long().reshape(-1)
            indices = torch.repeat_interleave(
                torch.arange(input_ids.shape[1], device=self.device), durations)
            alignment = torch.zeros((input_ids.shape[1], indices.shape[0]), device=self.device)
            alignment[indices, torch.arange(indices.shape[0])] = 1
            alignment = alignment.unsqueeze(0)
            f0, noise = model.predictor.F0Ntrain(d.transpose(-1, -2) @ alignment, s)
            features = model.text_encoder(input_ids, lengths, mask) @ alignment
            return Front(features[0].float().cpu().numpy(), f0.reshape(-1).float().cpu().numpy(),
                         noise.reshape(-1).float().cpu().numpy(),
                         durations.cpu().numpy().astype(np.int64),
                         np.asarray(style, dtype=np.float32).reshape(-1))

    def decode(self, front: Front, start: int, end: int,
               phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        torch = self._torch
        model = self._live()
        features = self._tensor(front.features[None, :, start:end])
        f0 = self._tensor(front.f0[None, 2 * start:2 * end])
        noise = self._tensor(front.noise[None, 2 * start:2 * end])
        ref_s = self._tensor(front.style.reshape(1, -1)[:, :128])
        window = self._window
        window.phase = self._tensor(np.asarray(phase).reshape(1, 1, HARMONICS))
        try:
            with self._lock, torch.inference_mode():
                audio = model.decoder(features, f0, noise, ref_s).reshape(-1)
                steps = window.steps.reshape(-1, HARMONICS).double().cpu().numpy()
        finally:
            del window.phase
        accumulated = np.zeros((steps.shape[0] + 1, HARMONICS), dtype=np.float64)
        accumulated[1:] = steps
        return audio.float().cpu().numpy(), accumulated

    def _f02sine(self, sine: Any, f0_values: Any) -> Any:
        """kokoro's SineGen._f02sine for a window: no random initial phase (windows must agree
        on it) and the carried phase added to the cumulative one. Written out because KModel
        takes no phase: the steps are kokoro's own."""
        torch = self._torch
        interpolate = torch.nn.functional.interpolate
        rad = (f0_values / sine.sampling_rate) % 1
        rad = interpolate(rad.transpose(1, 2), scale_factor=1 / sine.upsample_scale,
                          mode="linear").transpose(1, 2)
        steps = torch.cumsum(rad, dim=1)
        self._window.steps = steps
        phase = (steps + self._window.phase) * 2 * torch.pi
        phase = interpolate(phase.transpose(1, 2) * sine.upsample_scale,
                            scale_factor=sine.upsample_scale, mode="linear").transpose(1, 2)
        return torch.sin(phase)

    def close(self) -> None:
        """Drop the weights and give device memory back (a hot swap relies on it)."""
        with self._lock:
            model, self._model = self._model, None
        if model is None:
            return
        del model
        gc.collect()
        if self.device == "cuda":
            self._torch.cuda.empty_cache()
        elif self.device == "mps":
            self._torch.mps.empty_cache()
