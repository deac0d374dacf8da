"""The hand-written ONNX protobuf encoder: onnxruntime runs what it writes, attributes and shapes intact."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]

from robomem.embeddings import _onnx_proto as p


def _run(model: bytes, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    outputs: list[np.ndarray] = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(
        None, feeds
    )
    return outputs


def test_varints() -> None:
    assert p._varint(0) == b"\x00"
    assert p._varint(300) == b"\xac\x02"
    assert p._varint(-1) == b"\xff" * 9 + b"\x01"  # int64 -1: ten bytes of two's complement


def test_a_small_graph_runs_with_every_attribute_kind() -> None:
    table = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    nodes = [
        # A scalar index removes the axis: (2, 3, 4)[1] -> (3, 4). A shape (1,) index would keep it.
        p.node("Gather", ["table", "index"], ["row"]),
        p.node("Transpose", ["row"], ["row_t"], p.attr_ints("perm", (1, 0))),  # (4, 3)
        p.node("Mul", ["row_t", "x"], ["scaled"]),
        p.node("Softmax", ["scaled"], ["probs"], p.attr_int("axis", -1)),  # a negative int attribute
        p.node("LeakyRelu", ["x"], ["leaky"], p.attr_float("alpha", 0.25)),
    ]
    graph = p.graph(
        "test",
        nodes,
        [p.tensor("table", table), p.tensor("index", np.array(1, dtype=np.int64))],
        inputs=[p.value_info("x", p.FLOAT, ["n", 3])],
        outputs=[p.value_info("probs", p.FLOAT, [4, 3]), p.value_info("leaky", p.FLOAT, ["n", 3])],
    )
    model = p.model(graph, {"": 17}, ir_version=8, producer="test")
    x = np.array([[0.1, -0.2, 0.3]], dtype=np.float32)
    probs, leaky = _run(model, {"x": x})
    scaled = table[1].T * x
    expected = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    expected /= expected.sum(axis=-1, keepdims=True)
    assert probs.shape == (4, 3)
    np.testing.assert_allclose(probs, expected, rtol=1e-6)
    np.testing.assert_allclose(leaky, np.where(x > 0, x, 0.25 * x), rtol=1e-6)
