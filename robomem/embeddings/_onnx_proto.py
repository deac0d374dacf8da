"""Just enough of the ONNX protobuf format to write a model that onnxruntime loads.

Why not the ``onnx`` package: it is an 8.9 MB compiled wheel that robomem would install only to call
``helper.make_node``; onnxruntime (already installed with chromadb) reads the serialized bytes directly. The
protobuf wire format (varint keys, length-delimited submessages) and the field numbers of ``onnx.proto``
used here are frozen by ONNX's compatibility rules, so these few encoders are stable.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = (
    "FLOAT",
    "INT32",
    "INT64",
    "attr_float",
    "attr_int",
    "attr_ints",
    "graph",
    "model",
    "node",
    "tensor",
    "value_info",
)

#: ``TensorProto.DataType`` values.
FLOAT, INT32, INT64 = 1, 6, 7
_DTYPES = {np.dtype("<f4"): FLOAT, np.dtype("<i8"): INT64}

# ``AttributeProto.AttributeType`` values.
_ATTR_FLOAT, _ATTR_INT, _ATTR_INTS = 1, 2, 7


def _varint(value: int) -> bytes:
    if value < 0:  # int64 fields encode negatives as ten-byte two's complement
        value += 1 << 64
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _str_field(number: int, text: str) -> bytes:
    return _bytes_field(number, text.encode("utf-8"))


def _messages(number: int, payloads: Iterable[bytes]) -> bytes:
    return b"".join(_bytes_field(number, p) for p in payloads)


def attr_int(name: str, value: int) -> bytes:
    return _str_field(1, name) + _int_field(3, value) + _int_field(20, _ATTR_INT)


def attr_float(name: str, value: float) -> bytes:
    return _str_field(1, name) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _int_field(20, _ATTR_FLOAT)


def attr_ints(name: str, values: Sequence[int]) -> bytes:
    packed = b"".join(_varint(v) for v in values)
    return _str_field(1, name) + _bytes_field(8, packed) + _int_field(20, _ATTR_INTS)


def node(
    op_type: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    *attributes: bytes,
    domain: str = "",
) -> bytes:
    """A ``NodeProto``; ``attributes`` come from :func:`attr_int` and friends."""
    body = b"".join(_str_field(1, i) for i in inputs) + b"".join(_str_field(2, o) for o in outputs)
    body += _str_field(3, outputs[0]) + _str_field(4, op_type) + _messages(5, attributes)
    if domain:
        body += _str_field(7, domain)
    return body


def tensor(name: str, array: npt.NDArray[np.generic], *, external: bool = False) -> bytes:
    """A ``TensorProto`` holding ``array`` as little-endian raw data. ``external``: only its name, type and
    shape, the data being marked external; the caller hands the array itself to onnxruntime
    (``SessionOptions.add_external_initializers``), so the weights are never copied into the model bytes."""
    data = np.asarray(array, order="C")  # not ascontiguousarray: it turns a scalar into shape (1,)
    elem_type = _DTYPES.get(data.dtype)
    if elem_type is None:
        raise ValueError(f"unsupported tensor dtype {data.dtype}")
    body = b"".join(_int_field(1, int(d)) for d in data.shape)
    body += _int_field(2, elem_type) + _str_field(8, name)
    if external:  # external_data {location}, data_location = EXTERNAL; the location is never read
        return (
            body
            + _bytes_field(13, _str_field(1, "location") + _str_field(2, "in-memory"))
            + _int_field(14, 1)
        )
    return body + _bytes_field(9, data.tobytes())


def value_info(name: str, elem_type: int, dims: Sequence[int | str]) -> bytes:
    """A ``ValueInfoProto`` of a tensor; a str dimension is symbolic (e.g. ``"batch"``)."""
    dim_protos = [_int_field(1, d) if isinstance(d, int) else _str_field(2, d) for d in dims]
    tensor_type = _int_field(1, elem_type) + _bytes_field(2, _messages(1, dim_protos))
    return _str_field(1, name) + _bytes_field(2, _bytes_field(1, tensor_type))


def graph(
    name: str,
    nodes: Sequence[bytes],
    initializers: Sequence[bytes],
    inputs: Sequence[bytes],
    outputs: Sequence[bytes],
) -> bytes:
    return (
        _messages(1, nodes)
        + _str_field(2, name)
        + _messages(5, initializers)
        + _messages(11, inputs)
        + _messages(12, outputs)
    )


def model(graph_proto: bytes, opsets: dict[str, int], *, ir_version: int, producer: str) -> bytes:
    """A serialized ``ModelProto``: what ``onnxruntime.InferenceSession`` accepts as bytes."""
    opset_protos = [(_str_field(1, d) if d else b"") + _int_field(2, v) for d, v in opsets.items()]
    return (
        _int_field(1, ir_version)
        + _str_field(2, producer)
        + _bytes_field(7, graph_proto)
        + _messages(8, opset_protos)
    )
