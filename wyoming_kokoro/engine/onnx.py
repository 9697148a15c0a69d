"""onnxruntime backend for Kokoro ONNX exports (the int8 model runs well on Pi-class CPUs)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..fsutil import write_atomic
from .base import HARMONICS, Front
from .onnx_split import (
    F0,
    FEATURES,
    FRONT_OUTPUTS,
    NOISE,
    PHASE,
    Calibration,
    NotSplittable,
    SplitGraphs,
    decoder_feeds,
    probe,
    split_model,
)

_LOGGER = logging.getLogger(__name__)

GAIN = 2 / 3
"""kokoro-onnx's export computes its inverse STFT 1.5x louder than Kokoro's own (torch.istft on
the same spectrum), and peaks then pass 1.0 and clip. Scaling back gives the reference level, so
both backends sound alike and a hot swap does not change the volume."""


class OnnxBackend:
    """Sessions for the FRONT and the DECODER when the graph splits (see ``onnx_split.py``),
    else one session for the whole graph (``windowed`` False).

    ``decoder`` picks the DECODER: ``int8`` (as exported), ``float`` (the vocoder in float,
    ``onnx_rewrite.py``), ``int8-static`` (its convolutions in int8 at scales calibrated on
    ``calibration``, ``onnx_quantize.py``) or ``auto``: the one measured fastest on this machine
    (once; the verdict is kept beside the split, per CPU, thread count and onnxruntime version).
    ``precision`` says which one runs (``None`` for a graph that does not split)."""

    name = "onnx"
    device = "cpu"

    def __init__(self, model_path: Path, threads: int = 0, sha256: str | None = None,
                 cache_dir: Path | None = None, decoder: str = "auto",
                 calibration: Calibration | None = None) -> None:
        self._options = _session_options(threads)
        self._run_options = ort.RunOptions()
        self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        graphs = None
        if sha256 and cache_dir is not None:
            try:
                graphs = split_model(model_path, sha256, cache_dir, calibration)
            except NotSplittable as err:
                _LOGGER.info("%s: decoding whole pieces, not windows (%s)", model_path.name, err)
        self._whole = None
        self.precision: str | None = None
        if graphs is not None:
            try:
                self._front = self._session(graphs.front)
                self.precision, self._decoder = self._pick_decoder(graphs, decoder)
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

    def _pick_decoder(self, graphs: SplitGraphs,
                      wanted: str) -> tuple[str, ort.InferenceSession]:
        paths = {name: path for name, path in (("int8", graphs.decoder),
                                               ("float", graphs.float_decoder),
                                               ("int8-static", graphs.static_decoder))
                 if path is not None}
        verdict = graphs.front.parent / f"faster-{_machine(self._options)}.json"
        if wanted == "auto":
            wanted = _faster(verdict, set(paths)) or "auto"  # "auto" left: not measured here
        elif wanted not in paths:
            _LOGGER.warning("model.decoder %s: no such DECODER for this graph; int8", wanted)
            wanted = "int8"
        sessions = {}
        for name in paths if wanted == "auto" else (wanted,):
            try:
                sessions[name] = self._session(paths[name])
            except Exception as err:  # a damaged optional file: the others serve
                if name == "int8":
                    raise
                _LOGGER.warning("cannot load %s (%s); decoding without it", paths[name], err)
        if not sessions:
            sessions["int8"] = self._session(paths["int8"])
        if len(sessions) == 1:
            return next(iter(sessions.items()))
        times = _time_decoders(self._front, sessions)
        faster = min(times, key=lambda name: times[name])
        write_atomic(verdict, [json.dumps(times).encode()])
        _LOGGER.info("DECODER: %s is the fastest here (%s for %d frames; model.decoder: auto)",
                     faster, ", ".join(f"{name} {ms:.0f} ms" for name, ms in times.items()),
                     PROBE_FRAMES)
        return faster, sessions[faster]

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


PROBE_FRAMES = 32  # decoded per timing run: about a first window's size


def _faster(verdict: Path, available: set[str]) -> str | None:
    """The DECODER an earlier measurement on this machine found fastest, if it measured all
    those ``available``."""
    try:
        times = json.loads(verdict.read_text())
        return min(sorted(available), key=lambda name: float(times[name]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _time_decoders(front: ort.InferenceSession,
                   sessions: dict[str, ort.InferenceSession]) -> dict[str, float]:
    """Median ms per run of each DECODER on the probe's first frames (interleaved: a noisy
    machine slows both alike)."""
    feeds = decoder_feeds(front, probe(front))
    feeds[FEATURES] = feeds[FEATURES][:, :, :PROBE_FRAMES]
    feeds[F0], feeds[NOISE] = feeds[F0][:, :2 * PROBE_FRAMES], feeds[NOISE][:, :2 * PROBE_FRAMES]
    runs: dict[str, list[float]] = {name: [] for name in sessions}
    for round_ in range(4):
        for name, session in sessions.items():
            started = time.perf_counter()
            session.run(None, feeds)
            if round_:  # the first is a warm-up
                runs[name].append(1000 * (time.perf_counter() - started))
    return {name: round(float(np.median(times)), 1) for name, times in runs.items()}


def _machine(options: ort.SessionOptions) -> str:
    """What the decoders' speeds depend on: CPU, cores, threads, onnxruntime."""
    facts = [f"arch={platform.machine()}", f"cores={os.cpu_count()}",
             f"threads={options.intra_op_num_threads}", f"onnxruntime={ort.__version__}"]
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            facts.extend(sorted({line.strip() for line in info
                                 if line.split(":")[0].strip().lower() in _CPU_KEYS}))
    except OSError:
        facts.append(platform.processor())
    return hashlib.sha256("|".join(facts).encode()).hexdigest()[:12]


_CPU_KEYS = {"vendor_id", "cpu family", "model", "model name", "cpu implementer", "cpu part"}


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
    # Memory: the CPU arena grows to a window's peak (~0.6 MB a frame) and would keep it for
    # good; every run gives it back (the run option memory.enable_memory_arena_shrinkage), so
    # steady RSS stays at the model's size. (onnxruntime has no session key for the CPU
    # arena's extend strategy: an "arena_extend_strategy" entry here measured no effect.)
    return options
