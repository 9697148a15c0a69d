"""A faster DECODER for CPUs with wide float kernels: the vocoder's convolutions in float.

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
