"""Rewrites of the DECODER graph: the vocoder's convolutions in float (``float_generator``),
and the harmonic source's STFT as a convolution (``stft_as_convolution``, in every DECODER).

A faster DECODER for CPUs with wide float kernels: the vocoder's convolutions in float.

The int8 export quantizes every activation on the fly (``DynamicQuantizeLinear``) and runs
``ConvInteger``, whose int32 result then takes a bias add, a cast and a scale pass. On x86 CPUs
with AVX2/AVX-512, onnxruntime's blocked float kernels (NCHWc, for 2-D convolutions only) are
faster than that, and float activations lose nothing to rounding. This rewrite, for the
generator (the vocoder: ~90 % of the decoder's time, ~15 M of its parameters):

- ``ConvInteger`` + its quantize/bias/cast/scale nodes become one ``Conv`` on the dequantized
  weights (``(w - zero_point) * scale``) and the original float bias;
- each such 1-D convolution runs as a 2-D one of height 1 (``Unsqueeze``/``Squeeze`` around it),
  which makes the NCHWc kernels eligible;
- ``Pow(x, 2)`` becomes ``Mul(x, x)``.

The 1024-channel blocks before the generator stay int8: they hold most of the weights (float
would add ~140 MB) for ~10 % of the time. On CPUs with fast int8 dot products and no NCHWc
(ARM), the int8 DECODER is the faster one; the backend measures which (``onnx.py``).
Measured on the embedded model (Xeon, 2 cores): 0.80x the int8 decoder's time, 1.2 dB log-mel
from it (the int8 model's own floor is ~1.7 dB), and Whisper's word errors 0.063 -> 0.011.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

GENERATOR = "/decoder/decoder/generator/"


class NotRewritable(Exception):
    """The DECODER's quantized convolutions are not in the shape this rewrite knows."""


def float_generator(decoder: Any) -> Any:
    """``decoder`` (an onnx ModelProto, changed in place and returned) with the generator's
    convolutions in float. Raises NotRewritable when none is found or one has another shape."""
    from onnx import helper, numpy_helper

    graph = decoder.graph
    weights = {tensor.name: tensor for tensor in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)

    def only_consumer(name: str, op: str) -> Any:
        found = consumers[name]
        if len(found) != 1 or found[0].op_type != op:
            raise NotRewritable(f"{name}: expected one {op} after it")
        return found[0]

    def array(name: str) -> np.ndarray:
        if name not in weights:
            raise NotRewritable(f"{name} is not a constant")
        return numpy_helper.to_array(weights[name])

    added: dict[int, list[Any]] = {}
    axis = "generator_float_axis_2"
    tensors = [numpy_helper.from_array(np.array([2], np.int64), axis)]
    for index, node in enumerate(graph.node):
        if node.op_type != "ConvInteger" or not node.name.startswith(GENERATOR):
            continue
        quantizer = producer.get(node.input[0])
        if quantizer is None or quantizer.op_type != "DynamicQuantizeLinear":
            raise NotRewritable(f"{node.name}: its input is not quantized on the fly")
        kernel = array(node.input[1]).astype(np.int32)
        if kernel.ndim != 3:
            raise NotRewritable(f"{node.name}: not a 1-D convolution")
        zero = array(node.input[3]).astype(np.int32) if len(node.input) > 3 else 0
        scale = array(node.input[1].removesuffix("_quantized") + "_scale")
        if scale.size != 1:
            raise NotRewritable(f"{node.name}: per-channel weight scales")
        kernel_float = ((kernel - zero) * scale.astype(np.float32)).astype(np.float32)
        after = consumers[node.output[0]]
        bias = None
        if len(after) == 1 and after[0].op_type == "Add":  # the int32 bias
            quantized = next(i for i in after[0].input if i != node.output[0])
            bias = producer[quantized].input[0].removesuffix("_quantized")
            array(bias)  # the float bias the quantized one was computed from
            cast = only_consumer(after[0].output[0], "Cast")
        else:
            cast = only_consumer(node.output[0], "Cast")
        rescale = only_consumer(cast.output[0], "Mul")
        out = rescale.output[0]
        rescale.output[0] = f"{out}_int8"  # left without consumers: dropped below
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attributes.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise NotRewritable(f"{node.name}: auto_pad")
        pads = list(attributes.get("pads", [0, 0]))
        name = node.name.removesuffix("_quant")
        tensors.append(numpy_helper.from_array(kernel_float[:, :, None, :], f"{name}_float_w"))
        added[index] = [
            helper.make_node("Unsqueeze", [quantizer.input[0], axis], [f"{name}_2d_in"],
                             name=f"{name}_2d_in"),
            helper.make_node(
                "Conv", [f"{name}_2d_in", f"{name}_float_w", *([bias] if bias else [])],
                [f"{name}_2d_out"], name=f"{name}_2d",
                kernel_shape=[1, kernel.shape[2]],
                dilations=[1, *attributes.get("dilations", [1])],
                strides=[1, *attributes.get("strides", [1])],
                pads=[0, pads[0], 0, pads[1]], group=attributes.get("group", 1)),
            helper.make_node("Squeeze", [f"{name}_2d_out", axis], [out], name=f"{name}_2d_out"),
        ]
    if not added:
        raise NotRewritable("no quantized convolution in the generator")
    nodes = []
    for index, node in enumerate(graph.node):
        nodes.append(node)
        nodes.extend(added.get(index, ()))  # after ConvInteger, so after its input's producer
    for node in nodes:
        if (node.op_type == "Pow" and node.input[1] in weights
                and array(node.input[1]).size == 1 and float(array(node.input[1])) == 2.0):
            node.op_type = "Mul"
            node.input[1] = node.input[0]
    nodes = _live(nodes, {o.name for o in graph.output})
    used = {name for node in nodes for name in node.input}
    kept = [t for t in [*graph.initializer, *tensors] if t.name in used]
    # One rebuild of each list: protobuf's extend copies, so nodes are not edited after it.
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return decoder


def _live(nodes: list[Any], outputs: set[str]) -> list[Any]:
    """``nodes`` without those whose outputs nothing reads (repeated until none is left)."""
    while True:
        read = set(outputs).union(*(node.input for node in nodes))
        kept = [node for node in nodes if any(out in read for out in node.output)]
        if len(kept) == len(nodes):
            return kept
        nodes = kept


STFT = f"{GENERATOR}STFT"
TORCH_SIDE = 1e-30
"""Added to the imaginary part of the DC and Nyquist bins, which is exactly zero there. The
export takes the phase as ``atan(im / re)`` moved by ±π where ``re < 0``, and picks -π for an
``im`` of exactly zero, where Kokoro's own ``atan2(+0, re < 0)`` gives +π. onnxruntime's STFT
leaves rounding noise of ±1e-6 there instead, so the side was chosen by that noise."""


def stft_as_convolution(decoder: Any) -> Any:
    """``decoder`` (an onnx ModelProto, changed in place and returned) with the generator's STFT
    of the harmonic source computed as a strided convolution, the windowed DFT its kernel.

    onnxruntime's STFT is a single-threaded DFT: 5 % of the DECODER's time; the convolution
    takes well under 1 %. The export transposes the STFT's output and reads the real and the
    imaginary parts off it (``Gather``); the convolution gives those two directly (its channels:
    the real parts, then the imaginary ones). The same numbers, but for the DC and Nyquist
    phases, now on Kokoro's side (``TORCH_SIDE``). Raises NotRewritable for another shape."""
    from onnx import helper, numpy_helper

    graph = decoder.graph
    node, parts = stft_parts(graph)
    constants = _constants(graph)
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if len(node.input) != 4 or any(name not in constants for name in node.input[1:]) \
            or attributes.get("onesided", 1) != 1:
        raise NotRewritable(f"{STFT}: not a one-sided STFT with a constant step and window")
    step, length = (int(numpy_helper.to_array(constants[node.input[i]])) for i in (1, 3))
    window = numpy_helper.to_array(constants[node.input[2]]).astype(np.float64)
    if window.shape != (length,):
        raise NotRewritable(f"{STFT}: window of shape {window.shape} for frames of {length}")
    bins = length // 2 + 1
    turns = np.outer(np.arange(bins), np.arange(length)) % length  # k * n mod N
    angle = 2 * np.pi * turns / length
    kernel = np.stack([window * np.cos(angle), -window * np.sin(angle)])  # [2, bins, N]
    kernel[np.abs(kernel) < 1e-12] = 0.0  # sin(pi) is 1.2e-16 in floats: exact zeros there
    bias = np.zeros((2, bins))
    bias[1, 0] = TORCH_SIDE
    if length % 2 == 0:
        bias[1, -1] = TORCH_SIDE
    name = f"{STFT}_conv"
    graph.initializer.extend([
        numpy_helper.from_array(kernel.reshape(2 * bins, 1, length).astype(np.float32),
                                f"{name}_kernel"),
        numpy_helper.from_array(bias.reshape(-1).astype(np.float32), f"{name}_bias"),
        numpy_helper.from_array(np.array([0, 1, -1], np.int64), f"{name}_signal_shape"),
        numpy_helper.from_array(np.array([bins, bins], np.int64), f"{name}_split")])
    replacement = [
        helper.make_node("Reshape", [node.input[0], f"{name}_signal_shape"], [f"{name}_signal"],
                         name=f"{name}_signal"),
        helper.make_node("Conv", [f"{name}_signal", f"{name}_kernel", f"{name}_bias"],
                         [f"{name}_out"], name=name, kernel_shape=[length], strides=[step]),
        helper.make_node("Split", [f"{name}_out", f"{name}_split"],
                         [f"{name}_real", f"{name}_imaginary"], name=f"{name}_parts", axis=1),
        *(helper.make_node("Identity", [f"{name}_{('real', 'imaginary')[part]}"], [tensor],
                           name=f"{name}_{tensor}")
          for tensor, part in parts.items()),
    ]
    index = next(i for i, n in enumerate(graph.node) if n.name == STFT)
    nodes = [n for n in graph.node if not any(out in parts for out in n.output)]
    nodes[index:index + 1] = replacement  # the Gathers came after the STFT: index holds
    nodes = _live(nodes, {o.name for o in graph.output})  # the STFT, its Transpose, constants
    del graph.node[:]
    graph.node.extend(nodes)
    return decoder


def stft_parts(graph: Any) -> tuple[Any, dict[str, int]]:
    """The generator's STFT node, and the tensors the graph reads off its output: each with its
    part (0 real, 1 imaginary) as ``Gather``s after a ``Transpose`` [0, 2, 1, 3] take them."""
    from onnx import helper, numpy_helper

    stft = next((node for node in graph.node if node.name == STFT), None)
    if stft is None:
        raise NotRewritable(f"no {STFT}")
    constants = _constants(graph)
    readers: dict[str, list[Any]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            readers[name].append(node)
    after = readers[stft.output[0]]
    if len(after) != 1 or after[0].op_type != "Transpose" or \
            list(helper.get_attribute_value(after[0].attribute[0])) != [0, 2, 1, 3]:
        raise NotRewritable(f"{STFT}: not read through a Transpose [0, 2, 1, 3]")
    parts = {}
    for gather in readers[after[0].output[0]]:
        axis = {a.name: helper.get_attribute_value(a) for a in gather.attribute}.get("axis")
        found = constants.get(gather.input[1]) if gather.op_type == "Gather" else None
        index = None if found is None else numpy_helper.to_array(found)
        if axis not in (3, -1) or index is None or index.ndim != 0 or int(index) not in (0, 1):
            raise NotRewritable(f"{STFT}: read by {gather.op_type} {gather.name}")
        parts[gather.output[0]] = int(index)
    return stft, parts


def _constants(graph: Any) -> dict[str, Any]:
    """Initializers and ``Constant`` node values (TensorProtos, converted where read: the
    weights are most of the graph), by name."""
    found = {tensor.name: tensor for tensor in graph.initializer}
    found.update({node.output[0]: node.attribute[0].t for node in graph.node
                  if node.op_type == "Constant" and node.attribute[0].name == "value"})
    return found
