"""Split a Kokoro ONNX export into its FRONT and its DECODER, with the harmonic phase as an input.

The cut is by tensor name, bit-exact (the pair reproduces the whole graph; checked once when the
pair is derived). The DECODER gains an input ``phase`` added to the harmonic source's cumulative
phase and an output ``phase_steps``, that cumulative phase before the offset, so consecutive
windows continue each other's sine waves. Beside it go a second DECODER with the vocoder's
convolutions in float (``onnx_rewrite``), checked against the first by its spectrum, and, when
the caller gives sentences to calibrate on, a third with them in int8 at calibrated scales
(``onnx_quantize``), checked against the float one on a sentence it was not calibrated on.
Last, each DECODER computes the harmonic source's STFT as a convolution (``onnx_rewrite``):
3-5 % faster, checked to give the same spectrum, and closer to Kokoro's own rendering (the one
place it departs from the exported graph on purpose). Derived once per model (key: its
sha256) into the cache directory; a graph without these tensors is not split, and the backend
renders whole pieces.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..fsutil import write_atomic
from .onnx_quantize import static_decoder
from .onnx_rewrite import NotRewritable, float_generator, stft_as_convolution, stft_parts

_LOGGER = logging.getLogger(__name__)

SPLIT_VERSION = "4"
# The files of a split, named once for the child that writes them and the parent that reads them.
FRONT_FILE, DECODER_FILE = "front.onnx", "decoder.onnx"  # the pair, int8 as exported
FLOAT_FILE, STATIC_FILE = "decoder-float.onnx", "decoder-int8-static.onnx"  # optional
FEATURES = "/encoder/MatMul_1_output_0"  # [1, 512, F]
F0 = "/encoder/Reshape_output_0"  # [1, 2F]
NOISE = "/encoder/Reshape_1_output_0"  # [1, 2F]
DURATIONS = "/encoder/Clip_output_0"  # [1, T + 2]
CUMSUM = "/decoder/decoder/generator/m_source/l_sin_gen/CumSum"
PHASE = "phase"  # DECODER input: [1, 1, 9] cycles
PHASE_STEPS = "phase_steps"  # DECODER output: [1, 2F, 9] cumulative cycles
FRONT_OUTPUTS = (FEATURES, F0, NOISE, DURATIONS)
TOLERANCE = 1e-4  # largest sample difference accepted (observed: 0)
FLOAT_TOLERANCE_DB = 4.0  # largest log-spectral distance of the float DECODER (observed: 1.7)
STATIC_TOLERANCE_DB = 4.0  # of the calibrated int8 one from the float one (observed: 1.7)
STFT_TOLERANCE = 1e-4  # largest change of the source's spectrum, relative to its peak (~1e-6)


class NotSplittable(Exception):
    """The graph lacks the tensors the split needs (another export)."""


@dataclass(frozen=True)
class SplitGraphs:
    front: Path
    decoder: Path  # int8, as exported
    float_decoder: Path | None  # the vocoder in float; None where the rewrite did not apply
    static_decoder: Path | None = None  # its convolutions in calibrated int8; None: not derived


Calibration = list[tuple[np.ndarray, np.ndarray]]  # (tokens, style) pairs; the last is the check


def split_model(model_path: Path, sha256: str, cache_dir: Path,
                calibration: Calibration | None = None) -> SplitGraphs:
    """The FRONT and DECODERs of ``model_path``, from the cache or derived (and verified) now.

    ``calibration`` (``onnx_quantize.calibration_set``) adds the calibrated int8 DECODER.
    Raises NotSplittable for a graph this split does not know.
    """
    root = cache_dir / "split" / f"{sha256[:16]}-v{SPLIT_VERSION}"
    graphs = SplitGraphs(root / FRONT_FILE, root / DECODER_FILE, root / FLOAT_FILE,
                         root / STATIC_FILE)
    if graphs.decoder.is_file() and graphs.front.is_file():
        return _found(graphs)
    for older in root.parent.glob(f"{sha256[:16]}-v*"):  # an earlier version's pair
        if older != root:
            shutil.rmtree(older, ignore_errors=True)
    started = time.perf_counter()
    # In a child process: parsing the graph with onnx holds ~100 MB that the server's heap
    # would keep for good.
    command = [sys.executable, "-m", __name__, str(model_path), str(root)]
    with tempfile.TemporaryDirectory() as scratch:
        if calibration:
            command.append(str(Path(scratch) / "calibration.npz"))
            arrays: dict[str, Any] = {f"{kind}{index}": array
                                      for index, pair in enumerate(calibration)
                                      for kind, array in zip(("tokens", "style"), pair,
                                                             strict=True)}
            np.savez(command[-1], **arrays)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode == NOT_SPLITTABLE:
        raise NotSplittable(done.stdout.strip() or "not splittable")
    if not graphs.decoder.is_file():
        raise NotSplittable(f"deriving the split failed: {done.stderr.strip()[-400:]}")
    if done.returncode != 0:  # after the pair was written: only the calibrated DECODER is lost
        _LOGGER.warning("No calibrated int8 DECODER: its derivation ended with exit status %d "
                        "(out of memory?) %s", done.returncode, done.stderr.strip()[-400:])
    _LOGGER.info("Split %s into FRONT and DECODER in %.1f s (cached in %s)%s", model_path.name,
                 time.perf_counter() - started, root,
                 f"; {done.stdout.strip()}" if done.stdout.strip() else "")
    return _found(graphs)


def _found(graphs: SplitGraphs) -> SplitGraphs:
    """``graphs`` without the optional DECODERs that were not derived."""
    missing: dict[str, Any] = {name: None for name in ("float_decoder", "static_decoder")
                               if not getattr(graphs, name).is_file()}
    return replace(graphs, **missing)


NOT_SPLITTABLE = 3  # the child's exit code for a graph this split does not know


def derive_into(model_path: Path, root: Path, calibration: Calibration | None = None) -> None:
    """Derive, verify and write the pair and its faster DECODERs into ``root`` (the child
    process's work)."""
    front, decoder = derive(model_path)
    feeds, audio = probe_audio(front, decoder)
    difference = verify(model_path, audio)
    if difference > TOLERANCE:
        raise NotSplittable(f"FRONT + DECODER differ from the whole graph by {difference:.2g}")
    floated: bytes | None = None
    try:
        floated = float_decoder(decoder)
        distance = spectral_distance(audio, feeds, floated)
        if distance > FLOAT_TOLERANCE_DB:
            raise NotRewritable(f"{distance:.1f} dB from the int8 DECODER")
        print(f"float DECODER {distance:.1f} dB from the int8 one", flush=True)
        write_atomic(root / FLOAT_FILE, [faster_stft(floated, feeds, "float")])
    except Exception as err:  # an optional speed-up: the int8 pair serves without it
        print(f"no float DECODER: {type(err).__name__}: {err}", flush=True)  # the parent logs it
        floated = None
    write_atomic(root / FRONT_FILE, [front])
    # its presence says the pair is complete
    write_atomic(root / DECODER_FILE, [faster_stft(decoder, feeds, "int8")])
    if floated is not None and calibration:  # last, being the most memory (~1.2 GB) and time
        derive_static(root, front, floated, calibration)


def derive_static(root: Path, front: bytes, floated: bytes, calibration: Calibration) -> None:
    """The calibrated int8 DECODER, kept if it sounds within STATIC_TOLERANCE_DB of the float
    one on the held-out sentence."""
    try:
        (front_session,) = _sessions(front)
        feeds = [decoder_feeds(front_session, front_inputs(front_session, tokens, style))
                 for tokens, style in calibration]
        quantized = static_decoder(floated, [window for sentence in feeds[:-1]
                                             for window in calibration_windows(sentence)])
        (reference,) = _sessions(floated)
        audio = reference.run(None, feeds[-1])[0].reshape(-1)
        distance = spectral_distance(audio, feeds[-1], quantized)
        if distance > STATIC_TOLERANCE_DB:
            raise NotRewritable(f"{distance:.1f} dB from the float DECODER")
        write_atomic(root / STATIC_FILE, [faster_stft(quantized, feeds[-1], "calibrated int8")])
        print(f"calibrated int8 DECODER {distance:.1f} dB from the float one")
    except Exception as err:  # optional, like the float one
        print(f"no calibrated int8 DECODER: {type(err).__name__}: {err}")


def faster_stft(decoder: bytes, feeds: dict[str, np.ndarray], name: str) -> bytes:
    """The serialized DECODER with its STFT as a convolution (``onnx_rewrite``), if that
    computes the same spectrum on ``feeds``; else as it is. Done last to each DECODER, once its
    own checks passed: onnxruntime lays a graph calibrated with the convolution in it out
    differently, and 2 % slower (70 transposes around the noise branch)."""
    import onnx

    try:
        converted = stft_as_convolution(onnx.load_from_string(decoder)).SerializeToString()
        change = stft_change(decoder, converted, feeds)
        if change > STFT_TOLERANCE:
            raise NotRewritable(f"the spectrum changed by {change:.2g} of its peak")
    except Exception as err:  # an optional speed-up: the DECODER serves as it is
        print(f"{name} DECODER keeps its STFT: {type(err).__name__}: {err}", flush=True)
        return decoder
    print(f"{name} DECODER: STFT as a convolution (spectrum within {change:.1g})", flush=True)
    return converted


def stft_change(decoder: bytes, converted: bytes, feeds: dict[str, np.ndarray]) -> float:
    """Largest difference between the real and imaginary parts of the harmonic source's
    spectrum that the two DECODERs compute on ``feeds``, relative to their peak."""
    import onnx
    from onnx import TensorProto, helper

    original = onnx.load_from_string(decoder)
    _, parts = stft_parts(original.graph)
    graphs = []
    for model in (original, onnx.load_from_string(converted)):
        model.graph.output.extend(helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
                                  for name in parts)
        graphs.append(model.SerializeToString())
    before, after = ([session.run(list(parts), feeds) for session in _sessions(*graphs)])
    if any(a.shape != b.shape for a, b in zip(before, after, strict=True)):
        return float("inf")
    peak = max(float(np.max(np.abs(b))) for b in before)
    return max(float(np.max(np.abs(a - b))) for a, b in zip(before, after, strict=True)) / peak


def float_decoder(decoder: bytes) -> bytes:
    """The serialized DECODER with its vocoder in float (``onnx_rewrite``)."""
    import onnx

    return float_generator(onnx.load_from_string(decoder)).SerializeToString()


def derive(model_path: Path) -> tuple[bytes, bytes]:
    """Serialized FRONT and DECODER of the graph at ``model_path``."""
    import onnx
    from onnx import TensorProto, helper
    from onnx.utils import Extractor

    model = onnx.load(str(model_path))
    graph = model.graph
    produced = {out for node in graph.node for out in node.output}
    missing = [name for name in (*FRONT_OUTPUTS, f"{CUMSUM}_output_0") if name not in produced]
    inputs = [i.name for i in graph.input]
    tokens = "tokens" if "tokens" in inputs else "input_ids"
    if missing or "style" not in inputs or len(graph.output) != 1:
        raise NotSplittable(f"no tensor {missing[0]}" if missing else "unexpected inputs")
    audio = graph.output[0].name
    extractor = Extractor(model)
    front = extractor.extract_model([tokens, "style", "speed"], list(FRONT_OUTPUTS))
    decoder = extractor.extract_model([FEATURES, F0, NOISE, "style"], [audio])

    cumsum = f"{CUMSUM}_output_0"
    shifted = f"{CUMSUM}_shifted"
    nodes = []
    for node in decoder.graph.node:
        node.input[:] = [shifted if name == cumsum else name for name in node.input]
        nodes.append(node)
        if node.name == CUMSUM:  # right after it: the graph stays topologically sorted
            nodes.append(helper.make_node("Add", [cumsum, PHASE], [shifted],
                                          name=f"{CUMSUM}_phase"))
            nodes.append(helper.make_node("Identity", [cumsum], [PHASE_STEPS],
                                          name=f"{CUMSUM}_steps"))
    del decoder.graph.node[:]
    decoder.graph.node.extend(nodes)
    decoder.graph.input.append(helper.make_tensor_value_info(PHASE, TensorProto.FLOAT,
                                                             [1, 1, 9]))
    decoder.graph.output.append(helper.make_tensor_value_info(PHASE_STEPS, TensorProto.FLOAT,
                                                              [1, "steps", 9]))
    for part in (front, decoder):
        del part.graph.value_info[:]  # stale shapes from extraction; ORT infers its own
    return front.SerializeToString(), decoder.SerializeToString()


def _sessions(*graphs: bytes | str) -> list[Any]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return [ort.InferenceSession(graph, sess_options=options, providers=["CPUExecutionProvider"])
            for graph in graphs]


def probe(session: Any) -> dict[str, np.ndarray]:
    """Inputs for the whole graph or the FRONT: 40 tokens, a style, speed 1."""
    inputs = {i.name: i for i in session.get_inputs()}
    tokens = "tokens" if "tokens" in inputs else "input_ids"
    speed_type = np.int32 if "int32" in inputs["speed"].type else np.float32
    return {tokens: np.array([[0, *range(43, 83), 0]], dtype=np.int64),
            "style": np.linspace(-0.3, 0.3, 256, dtype=np.float32).reshape(1, 256),
            "speed": np.array([1], dtype=speed_type)}


def front_inputs(session: Any, tokens: np.ndarray, style: np.ndarray) -> dict[str, np.ndarray]:
    """The FRONT's inputs for these tokens (unpadded) in this style, at speed 1."""
    inputs = probe(session)
    name = next(name for name in inputs if name not in ("style", "speed"))
    inputs[name] = np.asarray([[0, *tokens, 0]], dtype=np.int64)
    inputs["style"] = np.asarray(style, dtype=np.float32).reshape(1, -1)
    return inputs


CALIBRATION_FRAMES = 64  # onnxruntime's calibrators stack each tensor's values: one shape


def calibration_windows(feeds: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """A sentence's DECODER feeds cut into windows of CALIBRATION_FRAMES (the rest dropped)."""
    frames = feeds[FEATURES].shape[2]
    return [{**feeds, FEATURES: feeds[FEATURES][:, :, start:start + CALIBRATION_FRAMES],
             F0: feeds[F0][:, 2 * start:2 * (start + CALIBRATION_FRAMES)],
             NOISE: feeds[NOISE][:, 2 * start:2 * (start + CALIBRATION_FRAMES)]}
            for start in range(0, frames - CALIBRATION_FRAMES + 1, CALIBRATION_FRAMES)]


def decoder_feeds(front: Any, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The DECODER's inputs for all the frames the FRONT gives for ``inputs``."""
    features, f0, noise, _ = front.run(list(FRONT_OUTPUTS), inputs)
    return {FEATURES: features, F0: f0, NOISE: noise, "style": inputs["style"],
            PHASE: np.zeros((1, 1, 9), np.float32)}


def probe_audio(front_graph: bytes,
                decoder_graph: bytes) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """FRONT + DECODER on the probe: the DECODER's inputs and its audio (what the whole graph
    and the float DECODER are checked against)."""
    front, decoder = _sessions(front_graph, decoder_graph)
    feeds = decoder_feeds(front, probe(front))
    return feeds, decoder.run(None, feeds)[0].reshape(-1)


def verify(model_path: Path, audio: np.ndarray) -> float:
    """Largest sample difference between the whole graph's audio on the probe and ``audio``
    (FRONT + DECODER's, from ``probe_audio``)."""
    (whole,) = _sessions(str(model_path))
    expected = whole.run(None, probe(whole))[0].reshape(-1)
    if expected.shape != audio.shape:
        return float("inf")
    return float(np.max(np.abs(expected - audio)))


def spectral_distance(audio: np.ndarray, feeds: dict[str, np.ndarray],
                      other_graph: bytes) -> float:
    """Mean log-spectral distance (dB) between ``audio`` (the int8 DECODER's on the probe, from
    ``probe_audio``) and another DECODER's on the same ``feeds``: what a broken rewrite changes
    by tens of dB and activation rounding by about one or two."""
    (other,) = _sessions(other_graph)
    got = other.run(None, feeds)[0].reshape(-1)
    if got.shape != audio.shape:
        return float("inf")
    return float(np.mean(np.abs(_log_spectrum(audio) - _log_spectrum(got))))


def _log_spectrum(samples: np.ndarray, size: int = 1024, hop: int = 256) -> np.ndarray:
    count = 1 + max(samples.size - size, 0) // hop
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(samples, (0, size)), size)[::hop]
    power = np.abs(np.fft.rfft(frames[:count] * np.hanning(size), axis=1)) ** 2
    return np.maximum(10 * np.log10(power + 1e-10), -80.0)


def _read_calibration(path: Path) -> Calibration:
    with np.load(path) as saved:
        return [(saved[f"tokens{index}"], saved[f"style{index}"])
                for index in range(len(saved.files) // 2)]


if __name__ == "__main__":
    try:
        derive_into(Path(sys.argv[1]), Path(sys.argv[2]),
                    _read_calibration(Path(sys.argv[3])) if len(sys.argv) > 3 else None)
    except NotSplittable as err:
        print(err)
        sys.exit(NOT_SPLITTABLE)
