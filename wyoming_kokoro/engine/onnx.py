"""onnxruntime backend for Kokoro ONNX exports (the int8 model runs well on Pi-class CPUs)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

_LOGGER = logging.getLogger(__name__)

GAIN = 2 / 3
"""kokoro-onnx's export computes its inverse STFT 1.5x louder than Kokoro's own (torch.istft on
the same spectrum), and peaks then pass 1.0 and clip. Scaling back gives the reference level, so
both backends sound alike and a hot swap does not change the volume."""


class OnnxBackend:
    name = "onnx"
    device = "cpu"

    def __init__(self, model_path: Path, threads: int = 0) -> None:
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
        self._run_options = ort.RunOptions()
        self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
        inputs = {i.name: i for i in self._session.get_inputs()}
        # Exports name the token input "tokens" (kokoro-onnx) or "input_ids" (older exports).
        self._tokens = "tokens" if "tokens" in inputs else "input_ids"
        missing = {self._tokens, "style", "speed"} - set(inputs)
        if missing:
            raise ValueError(f"{model_path.name}: not a Kokoro ONNX export "
                             f"(inputs {sorted(inputs)}, missing {sorted(missing)})")
        speed_type = inputs["speed"].type
        self._speed_dtype = np.int32 if "int32" in speed_type else np.float32

    def synthesize(self, tokens: np.ndarray, style: np.ndarray, speed: float) -> np.ndarray:
        padded = np.zeros((1, len(tokens) + 2), dtype=np.int64)
        padded[0, 1:-1] = tokens
        audio = self._session.run(None, {
            self._tokens: padded,
            "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
            "speed": np.array([speed], dtype=self._speed_dtype),
        }, self._run_options)[0]
        return np.asarray(audio, dtype=np.float32).reshape(-1) * np.float32(GAIN)

    def close(self) -> None:
        self._session = None
