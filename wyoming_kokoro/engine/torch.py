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
from ..imports import TORCH_IMPORT_LOCK

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
    name = "torch"

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

    def synthesize(self, tokens: np.ndarray, style: np.ndarray, speed: float) -> np.ndarray:
        torch = self._torch
        model = self._model
        if model is None:
            raise RuntimeError("the torch backend is closed")
        ids = np.zeros((1, len(tokens) + 2), dtype=np.int64)
        ids[0, 1:-1] = tokens
        input_ids = torch.from_numpy(ids).to(self.device)
        ref_s = torch.from_numpy(np.asarray(style, dtype=np.float32).reshape(1, -1)).to(self.device)
        with self._lock, torch.inference_mode():
            audio, _ = model.forward_with_tokens(input_ids, ref_s, float(speed))
            return audio.float().reshape(-1).cpu().numpy()

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
