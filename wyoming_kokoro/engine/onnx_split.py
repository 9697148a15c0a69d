"""Split a Kokoro ONNX export into its FRONT and its DECODER, with the harmonic phase as an input.

The cut is by tensor name, bit-exact (the pair reproduces the whole graph; checked once when the
pair is derived). The DECODER gains an input ``phase`` added to the harmonic source's cumulative
phase and an output ``phase_steps``, that cumulative phase before the offset, so consecutive
windows continue each other's sine waves. Derived once per model (key: its sha256) into the cache
directory; a graph without these tensors is not split, and the backend renders whole pieces.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fsutil import write_atomic

_LOGGER = logging.getLogger(__name__)

SPLIT_VERSION = "1"
FEATURES = "/encoder/MatMul_1_output_0"  # [1, 512, F]
F0 = "/encoder/Reshape_output_0"  # [1, 2F]
NOISE = "/encoder/Reshape_1_output_0"  # [1, 2F]
DURATIONS = "/encoder/Clip_output_0"  # [1, T + 2]
CUMSUM = "/decoder/decoder/generator/m_source/l_sin_gen/CumSum"
PHASE = "phase"  # DECODER input: [1, 1, 9] cycles
PHASE_STEPS = "phase_steps"  # DECODER output: [1, 2F, 9] cumulative cycles
FRONT_OUTPUTS = (FEATURES, F0, NOISE, DURATIONS)
TOLERANCE = 1e-4  # largest sample difference accepted (observed: 0)


class NotSplittable(Exception):
    """The graph lacks the tensors the split needs (another export)."""


@dataclass(frozen=True)
class SplitGraphs:
    front: Path
    decoder: Path


def split_model(model_path: Path, sha256: str, cache_dir: Path) -> SplitGraphs:
    """The FRONT and DECODER of ``model_path``, from the cache or derived (and verified) now.

    Raises NotSplittable for a graph this split does not know.
    """
    root = cache_dir / "split" / f"{sha256[:16]}-v{SPLIT_VERSION}"
    graphs = SplitGraphs(root / "front.onnx", root / "decoder.onnx")
    if graphs.decoder.is_file() and graphs.front.is_file():
        return graphs
    started = time.perf_counter()
    # In a child process: parsing the graph with onnx holds ~100 MB that the server's heap
    # would keep for good.
    done = subprocess.run([sys.executable, "-m", __name__, str(model_path), str(root)],
                          capture_output=True, text=True, check=False)
    if done.returncode == NOT_SPLITTABLE:
        raise NotSplittable(done.stdout.strip() or "not splittable")
    if done.returncode != 0 or not graphs.decoder.is_file():
        raise NotSplittable(f"deriving the split failed: {done.stderr.strip()[-400:]}")
    _LOGGER.info("Split %s into FRONT and DECODER in %.1f s (cached in %s)", model_path.name,
                 time.perf_counter() - started, root)
    return graphs


NOT_SPLITTABLE = 3  # the child's exit code for a graph this split does not know


def derive_into(model_path: Path, root: Path) -> None:
    """Derive, verify and write the pair into ``root`` (the child process's work)."""
    front, decoder = derive(model_path)
    difference = verify(model_path, front, decoder)
    if difference > TOLERANCE:
        raise NotSplittable(f"FRONT + DECODER differ from the whole graph by {difference:.2g}")
    write_atomic(root / "front.onnx", [front])
    write_atomic(root / "decoder.onnx", [decoder])  # last: its presence says the pair is complete


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


def verify(model_path: Path, front_graph: bytes, decoder_graph: bytes) -> float:
    """Largest sample difference between the whole graph and FRONT + DECODER on a probe."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    sessions = [ort.InferenceSession(graph, sess_options=options,
                                     providers=["CPUExecutionProvider"])
                for graph in (str(model_path), front_graph, decoder_graph)]
    whole, front, decoder = sessions
    inputs = {i.name: i for i in whole.get_inputs()}
    tokens = "tokens" if "tokens" in inputs else "input_ids"
    speed_type = np.int32 if "int32" in inputs["speed"].type else np.float32
    probe = {tokens: np.array([[0, *range(43, 83), 0]], dtype=np.int64),
             "style": np.linspace(-0.3, 0.3, 256, dtype=np.float32).reshape(1, 256),
             "speed": np.array([1], dtype=speed_type)}
    expected = whole.run(None, probe)[0].reshape(-1)
    features, f0, noise, _ = front.run(list(FRONT_OUTPUTS), probe)
    got = decoder.run(None, {FEATURES: features, F0: f0, NOISE: noise, "style": probe["style"],
                             PHASE: np.zeros((1, 1, 9), np.float32)})[0].reshape(-1)
    if expected.shape != got.shape:
        return float("inf")
    return float(np.max(np.abs(expected - got)))


if __name__ == "__main__":
    try:
        derive_into(Path(sys.argv[1]), Path(sys.argv[2]))
    except NotSplittable as err:
        print(err)
        sys.exit(NOT_SPLITTABLE)
