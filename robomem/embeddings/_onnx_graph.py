"""The all-MiniLM-L6-v2 forward pass as an ONNX graph, built in memory from the weights the numpy embedder
loaded (so both backends run the very same tensors), for onnxruntime.

The graph mirrors :meth:`robomem.embeddings.minilm.MiniLMEmbedder._forward` op for op: word + position +
token-type-0 embeddings and LayerNorm; six BERT layers (fused QKV projection with the query pre-scaled,
softmax attention with an additive bias on padding keys, exact erf GELU); mask-weighted mean pooling and L2
normalisation. By default each layer's attention and bias + GELU are onnxruntime's fused CPU kernels
(``com.microsoft`` ``Attention`` and ``BiasGelu``, which its optimizer would not reliably produce from the
standard ops); ``fused=False`` builds standard opset-17 operators only, for any ONNX runtime. Weights are
handed to onnxruntime as arrays (external initializers); nothing is written to disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from robomem.embeddings import _onnx_proto as p

if TYPE_CHECKING:
    from robomem.embeddings.minilm import F32, _Layer

__all__ = ("OPSET", "OnnxModel", "build_minilm_onnx", "make_session")

#: Standard-domain opset: 17 is the first with ``LayerNormalization``; onnxruntime >= 1.14 runs it.
OPSET = 17
_IR_VERSION = 8  # the IR version of opset 17 (ONNX 1.12)
_MS = "com.microsoft"  # onnxruntime's contrib operators
# Tensors this large are passed to onnxruntime as arrays rather than serialized: the 47 MB word table stays
# memory-mapped, and no 90 MB model is assembled in memory (which took ~0.5 s and three copies).
_EXTERNAL_MIN_SIZE = 1024


@dataclass(frozen=True)
class OnnxModel:
    """A serialized ONNX model and the weights it names as external (see :func:`make_session`)."""

    proto: bytes
    external: dict[str, npt.NDArray[np.generic]]


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.initializers: list[bytes] = []
        #: Weights handed to onnxruntime as arrays, by name (not serialized into the model).
        self.external: dict[str, npt.NDArray[np.generic]] = {}
        self._count = 0
        self._consts: set[str] = set()

    def const(self, name: str, array: npt.NDArray[np.generic]) -> str:
        external = array.size >= _EXTERNAL_MIN_SIZE
        if external:
            self.external[name] = np.ascontiguousarray(array)
        self.initializers.append(p.tensor(name, array, external=external))
        return name

    def const_once(self, name: str, array: npt.NDArray[np.generic]) -> str:
        if name not in self._consts:
            self._consts.add(self.const(name, array))
        return name

    def op(
        self, op_type: str, inputs: Sequence[str], *attributes: bytes, name: str = "", domain: str = ""
    ) -> str:
        self._count += 1
        out = name or f"{op_type.lower()}_{self._count}"
        self.nodes.append(p.node(op_type, inputs, [out], *attributes, domain=domain))
        return out

    def linear(self, x: str, weight: str, bias: str) -> str:
        return self.op("Add", [self.op("MatMul", [x, weight]), bias])

    def layer_norm(self, x: str, gain: str, bias: str, eps: float) -> str:
        epsilon = p.attr_float("epsilon", eps)
        return self.op("LayerNormalization", [x, gain, bias], p.attr_int("axis", -1), epsilon)


def _i64(*values: int) -> npt.NDArray[np.generic]:
    return np.array(values, dtype=np.int64)


def _f32(value: float) -> npt.NDArray[np.generic]:
    return np.array(value, dtype=np.float32)


def build_minilm_onnx(
    *,
    word: F32,
    position: F32,
    type0: F32,
    embedding_ln: tuple[F32, F32],
    layers: Sequence[_Layer],
    heads: int,
    eps: float,
    mask_bias: float,
    fused: bool = True,
) -> OnnxModel:
    """A serialized ONNX model: inputs ``input_ids`` (int64, batch × tokens) and ``mask`` (float32, 1 for real
    tokens, 0 for padding); output ``embeddings`` (float32, batch × hidden, unit length)."""
    hidden = word.shape[1]
    g = _Builder()
    # Embeddings: the first T position rows, T taken from the ids' shape.
    tokens = g.op("Shape", ["input_ids"], p.attr_int("start", 1), p.attr_int("end", 2))
    positions = g.op("Slice", [g.const("position", position), g.const("zero1", _i64(0)), tokens])
    x = g.op("Gather", [g.const("word", word), "input_ids"])
    x = g.op("Add", [x, positions])
    x = g.op("Add", [x, g.const("type0", type0)])
    x = g.layer_norm(x, g.const("emb_ln_g", embedding_ln[0]), g.const("emb_ln_b", embedding_ln[1]), eps)

    key_bias = ""
    if not fused:  # additive key bias (batch, 1, 1, tokens): 0 on real tokens, mask_bias on padding
        padding = g.op("Sub", [g.const_once("one", _f32(1.0)), "mask"])
        key_bias = g.op("Mul", [padding, g.const("mask_bias", _f32(mask_bias))])
        key_bias = g.op("Unsqueeze", [key_bias, g.const("axes12", _i64(1, 2))])

    weights = [
        {f.name: g.const(f"l{i}.{f.name}", getattr(layer, f.name)) for f in fields(layer)}
        for i, layer in enumerate(layers)
    ]
    if fused:
        mask_index = g.op("Cast", ["mask"], p.attr_int("to", p.INT32))
        for w in weights:
            x = _fused_layer(g, x, w, mask_index, heads=heads, eps=eps, mask_bias=mask_bias)
    else:
        for w in weights:
            x = _standard_layer(g, x, w, key_bias, heads=heads, hidden=hidden, eps=eps)

    # Mean over real tokens: (batch, 1, tokens) @ (batch, tokens, hidden), then divide by the token count.
    row_mask = g.op("Unsqueeze", ["mask", g.const("axes1", _i64(1))])
    pooled = g.op("Squeeze", [g.op("MatMul", [row_mask, x]), "axes1"])
    counts = g.op("ReduceSum", ["mask", "axes1"], p.attr_int("keepdims", 1))
    pooled = g.op("Div", [pooled, counts])
    # Opset 17's ReduceL2 takes its axes as an attribute (ReduceSum, as an input).
    norms = g.op("ReduceL2", [pooled], p.attr_ints("axes", (1,)), p.attr_int("keepdims", 1))
    norms = g.op("Max", [norms, g.const("tiny", _f32(1e-12))])
    g.op("Div", [pooled, norms], name="embeddings")

    graph = p.graph(
        "all-MiniLM-L6-v2",
        g.nodes,
        g.initializers,
        inputs=[
            p.value_info("input_ids", p.INT64, ["batch", "tokens"]),
            p.value_info("mask", p.FLOAT, ["batch", "tokens"]),
        ],
        outputs=[p.value_info("embeddings", p.FLOAT, ["batch", hidden])],
    )
    return OnnxModel(
        p.model(graph, {"": OPSET, _MS: 1}, ir_version=_IR_VERSION, producer="robomem"), g.external
    )


def _fused_layer(
    g: _Builder, x: str, w: dict[str, str], mask_index: str, *, heads: int, eps: float, mask_bias: float
) -> str:
    """One BERT layer with onnxruntime's fused CPU kernels (``com.microsoft`` domain) where they are faster:
    QKV projection + attention in one op, bias + exact GELU in one. Residual + LayerNorm stay standard ops:
    the fused ``SkipLayerNormalization`` took 23% of the run (measured), the standard pair ran 15% faster."""
    context = g.op(
        "Attention",
        [x, w["qkv_w"], w["qkv_b"], mask_index],
        p.attr_int("num_heads", heads),
        p.attr_float("scale", 1.0),  # the query weights are pre-scaled
        p.attr_float("mask_filter_value", mask_bias),
        domain=_MS,
    )
    attended = g.op("Add", [g.linear(context, w["out_w"], w["out_b"]), x])
    x = g.layer_norm(attended, w["ln1_g"], w["ln1_b"], eps)
    gelu = g.op("BiasGelu", [g.op("MatMul", [x, w["ff_in_w"]]), w["ff_in_b"]], domain=_MS)  # exact erf GELU
    ff = g.op("Add", [g.linear(gelu, w["ff_out_w"], w["ff_out_b"]), x])
    return g.layer_norm(ff, w["ln2_g"], w["ln2_b"], eps)


def _standard_layer(
    g: _Builder, x: str, w: dict[str, str], key_bias: str, *, heads: int, hidden: int, eps: float
) -> str:
    """One BERT layer from standard ONNX operators only (any ONNX runtime can run it)."""
    qkv_shape = g.const_once("qkv_shape", _i64(0, 0, 3, heads, hidden // heads))
    qkv = g.op("Reshape", [g.linear(x, w["qkv_w"], w["qkv_b"]), qkv_shape])
    # (batch, tokens, 3, heads, head_dim) -> (3, batch, heads, tokens, head_dim)
    qkv = g.op("Transpose", [qkv], p.attr_ints("perm", (2, 0, 3, 1, 4)))
    q, k, v = (g.op("Gather", [qkv, g.const_once(f"i{j}", np.array(j, dtype=np.int64))]) for j in range(3))
    k_t = g.op("Transpose", [k], p.attr_ints("perm", (0, 1, 3, 2)))
    scores = g.op("Add", [g.op("MatMul", [q, k_t]), key_bias])  # the query is pre-scaled
    probs = g.op("Softmax", [scores], p.attr_int("axis", -1))
    context = g.op("Transpose", [g.op("MatMul", [probs, v])], p.attr_ints("perm", (0, 2, 1, 3)))
    context = g.op("Reshape", [context, g.const_once("hidden_shape", _i64(0, 0, hidden))])
    attended = g.op("Add", [g.linear(context, w["out_w"], w["out_b"]), x])
    x = g.layer_norm(attended, w["ln1_g"], w["ln1_b"], eps)
    inner = g.linear(x, w["ff_in_w"], w["ff_in_b"])
    # Exact GELU, 0.5·x·(1 + erf(x/√2)), in the op pattern onnxruntime fuses into one Gelu kernel.
    erf = g.op("Erf", [g.op("Div", [inner, g.const_once("sqrt2", _f32(np.sqrt(2.0)))])])
    gelu = g.op("Mul", [g.op("Mul", [inner, g.op("Add", [erf, "one"])]), g.const_once("half", _f32(0.5))])
    ff = g.op("Add", [g.linear(gelu, w["ff_out_w"], w["ff_out_b"]), x])
    return g.layer_norm(ff, w["ln2_g"], w["ln2_b"], eps)


def make_session(model: OnnxModel, *, threads: int | None) -> Any:
    """An onnxruntime CPU session over ``model`` (raises ImportError without onnxruntime).

    ``threads`` sets intra-op threads (None: onnxruntime's default, one per core). Spinning is switched off:
    like OpenBLAS's (see :mod:`robomem.embeddings._blas`), busy-waiting worker threads collapse throughput
    when the cores are shared with other processes or the memory system's own threads.
    """
    import onnxruntime as ort  # type: ignore[import-untyped]

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: warnings go to stderr, not to robomem's log
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    names = list(model.external)
    # The OrtValues wrap the arrays without copying: the arrays must outlive the session (the caller keeps
    # ``model``), and the OrtValues are kept on the session for the same reason.
    values = [ort.OrtValue.ortvalue_from_numpy(model.external[name]) for name in names]
    if names:
        options.add_external_initializers(names, values)
    session = ort.InferenceSession(model.proto, options, providers=["CPUExecutionProvider"])
    session.robomem_weights = (model, values)
    return session
