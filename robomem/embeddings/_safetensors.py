"""A minimal reader for ``.safetensors`` files, so the MiniLM weights load without torch or ``safetensors``.

Layout: an 8-byte little-endian header length ``n``, then ``n`` bytes of JSON mapping each tensor name to
its ``dtype``, ``shape`` and ``data_offsets`` (relative to the end of the header), then the raw data.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ("read_safetensors",)

_DTYPES: dict[str, np.dtype[np.generic]] = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "F64": np.dtype("<f8"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
}

# Headers are a few kB; anything far larger means a corrupt or foreign file.
_MAX_HEADER_BYTES = 100 * 1024 * 1024


def read_safetensors(path: Path) -> dict[str, npt.NDArray[np.generic]]:
    """Every tensor of ``path`` as a read-only view into one memory map of the data region."""
    with path.open("rb") as fh:
        raw_len = fh.read(8)
        if len(raw_len) != 8:
            raise ValueError(f"{path}: too short to be a safetensors file")
        (header_len,) = struct.unpack("<Q", raw_len)
        if header_len > _MAX_HEADER_BYTES:
            raise ValueError(f"{path}: implausible safetensors header length {header_len}")
        header = json.loads(fh.read(header_len))
    data_start = 8 + header_len
    data_len = path.stat().st_size - data_start
    # One read-only map for the whole file; tensors are views, so nothing is copied until used.
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=data_start, shape=(data_len,))
    tensors: dict[str, npt.NDArray[np.generic]] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(spec["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {spec['dtype']}")
        begin, end = spec["data_offsets"]
        shape = tuple(int(d) for d in spec["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * dtype.itemsize or end > data_len:
            raise ValueError(f"{path}: tensor {name!r} has inconsistent offsets")
        # ``asarray`` drops the memmap subclass so downstream results are plain arrays (still no copy).
        tensors[name] = np.asarray(data[begin:end]).view(dtype).reshape(shape)
    return tensors
