"""onnxruntime backend for Kokoro ONNX exports (the int8 model runs well on Pi-class CPUs)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .base import HARMONICS, Front
from .onnx_split import F0, FEATURES, FRONT_OUTPUTS, NOISE, PHASE, NotSplittable, split_model

_LOGGER = logging.getLogger(__name__)

GAIN = 2 / 3
"""kokoro-onnx's export computes its inverse STFT 1.5x louder than Kokoro's own (torch.istft on
the same spectrum), and peaks then pass 1.0 and clip. Scaling back gives the reference level, so
both backends sound alike and a hot swap does not change the volume."""


class OnnxBackend:
    """Sessions for the FRONT and the DECODER when the graph splits (see ``onnx_split.py``),
    else one session for the whole graph (``windowed`` False)."""

    name = "onnx"
    device = "cpu"

    def __init__(self, model_path: Path, threads: int = 0, sha256: str | None = None,
                 cache_dir: Path | None = None) -> None:
        self._options = _session_options(threads)
        self._run_options = ort.RunOptions()
        self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        graphs = None
        if sha256 and cache_dir is not None:
            try:
                graphs = split_model(model_path, sha256, cache_dir)
            except NotSplittable as err:
                _LOGGER.info("%s: decoding whole pieces, not windows (%s)", model_path.name, err)
        self._whole = None
        if graphs is not None:
            try:
                self._front = self._session(graphs.front)
                self._decoder = self._session(graphs.decoder)
            except Exception as err:  # a damaged cache entry: the whole graph still works
                _LOGGER.warning("%s: cannot load the split graphs in %s (%s); decoding whole "
                                "pieces", model_path.name, graphs.front.parent, err)
                graphs = None
        self.windowed = graphs is not None
        if graphs is not None:
            inputs = {i.name: i for i in self._front.get_inputs()}
        else:
            self._whole = self._session(model_path)
            inputs = {i.name: i for i in self._whole.get_inputs()}
        # Exports name the token input "tokens" (kokoro-onnx) or "input_ids" (older exports).
        self._tokens = "tokens" if "tokens" in inputs else "input_ids"
        missing = {self._tokens, "style", "speed"} - set(inputs)
        if missing:
            raise ValueError(f"{model_path.name}: not a Kokoro ONNX export "
                             f"(inputs {sorted(inputs)}, missing {sorted(missing)})")
        speed_type = inputs["speed"].type
        self._speed_dtype = np.int32 if "int32" in speed_type else np.float32

    def _session(self, path: Path) -> ort.InferenceSession:
        return ort.InferenceSession(str(path), sess_options=self._options,
                                    providers=["CPUExecutionProvider"])

    def _feeds(self, tokens: np.ndarray, style: np.ndarray, speed: float) -> dict:
        padded = np.zeros((1, len(tokens) + 2), dtype=np.int64)
        padded[0, 1:-1] = tokens
        return {self._tokens: padded,
                "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
                "speed": np.array([speed], dtype=self._speed_dtype)}

    def synthesize(self, tokens: np.ndarray, style: np.ndarray, speed: float) -> np.ndarray:
        if self._whole is None:
            front = self.front(tokens, style, speed)
            return self.decode(front, 0, front.frames, np.zeros(HARMONICS))[0]
        audio = self._whole.run(None, self._feeds(tokens, style, speed), self._run_options)[0]
        return np.asarray(audio, dtype=np.float32).reshape(-1) * np.float32(GAIN)

    def front(self, tokens: np.ndarray, style: np.ndarray, speed: float) -> Front:
        if self._whole is not None:
            raise RuntimeError("this graph does not split: no windowed decoding")
        features, f0, noise, durations = self._front.run(
            list(FRONT_OUTPUTS), self._feeds(tokens, style, speed), self._run_options)
        return Front(features[0], f0.reshape(-1), noise.reshape(-1),
                     np.rint(durations.reshape(-1)).astype(np.int64),
                     np.asarray(style, dtype=np.float32).reshape(-1))

    def decode(self, front: Front, start: int, end: int,
               phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        audio, steps = self._decoder.run(None, {
            FEATURES: front.features[None, :, start:end],
            F0: front.f0[None, 2 * start:2 * end],
            NOISE: front.noise[None, 2 * start:2 * end],
            "style": front.style.reshape(1, -1),
            PHASE: np.asarray(phase, dtype=np.float32).reshape(1, 1, HARMONICS),
        }, self._run_options)
        accumulated = np.zeros((2 * (end - start) + 1, HARMONICS), dtype=np.float64)
        accumulated[1:] = steps.reshape(-1, HARMONICS)
        return np.asarray(audio, dtype=np.float32).reshape(-1) * np.float32(GAIN), accumulated

    def close(self) -> None:
        self._whole = self._front = self._decoder = None


def _session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    cores = os.cpu_count() or 1
    if threads > cores:
        _LOGGER.warning("model.threads %d is more than this machine's %d cores; using %d",
                        threads, cores, cores)
    options.intra_op_num_threads = min(threads, cores) if threads else cores
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Memory: the arena grows to a piece's peak (about 33 MB per second of audio) and would
    # keep it for good. Grow only by what is asked for, and give it back after every run:
    # steady RSS stays at the model's size, at no measurable cost in speed.
    options.add_session_config_entry("arena_extend_strategy", "1")
    return options
