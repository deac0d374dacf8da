"""Input checks and helpers shared by the vector-store backends, so every backend rejects the same inputs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from robomem.errors import StoreError
from robomem.stores.base import Metadata, VectorItem

__all__ = (
    "EMBEDDER_KEY",
    "check_items",
    "check_queries",
    "check_where",
    "collection_name",
    "metadata_matches",
    "normalise_rows",
)

#: Collection metadata keys robomem writes next to the vectors.
EMBEDDER_KEY = "robomem_embedder"

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$")
_SCALARS = (str, int, float, bool)


def collection_name(namespace: str, name: str) -> str:
    """``<namespace>_<name>``; both parts are restricted so the result is a valid Chroma name and path."""
    if not _NAME.fullmatch(name):
        raise StoreError(f"bad store name {name!r}: use 1-64 letters, digits, '_' or '-', alphanumeric ends")
    if not _NAME.fullmatch(namespace):
        raise StoreError(f"bad namespace {namespace!r}: use letters, digits, '_' or '-', alphanumeric ends")
    return f"{namespace}_{name}"


def _check_metadata(item_id: str, metadata: Mapping[str, object]) -> None:
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise StoreError(f"item {item_id!r}: metadata keys must be non-empty strings, got {key!r}")
        if not isinstance(value, _SCALARS):
            kind = type(value).__name__
            raise StoreError(f"item {item_id!r}: metadata {key!r} must be a str, int, float or bool: {kind}")
        if isinstance(value, float) and not np.isfinite(value):
            raise StoreError(f"item {item_id!r}: metadata {key!r} must be finite")


def check_items(items: Sequence[VectorItem], vectors: npt.ArrayLike, dim: int) -> npt.NDArray[np.float32]:
    """Validate an upsert batch and return its vectors as a C-contiguous float32 array."""
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape != (len(items), dim):
        raise StoreError(f"expected vectors of shape {(len(items), dim)}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise StoreError("vectors contain NaN or infinity")
    seen: set[str] = set()
    for item in items:
        if not isinstance(item.id, str) or not item.id:
            raise StoreError(f"item ids must be non-empty strings, got {item.id!r}")
        if item.id in seen:
            raise StoreError(f"duplicate id {item.id!r} in one upsert")
        seen.add(item.id)
        if not isinstance(item.text, str):
            raise StoreError(f"item {item.id!r}: text must be a str")
        _check_metadata(item.id, item.metadata)
    return array


def check_queries(
    vectors: npt.ArrayLike, k: int, where: Metadata | None, dim: int
) -> npt.NDArray[np.float32]:
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != dim:
        raise StoreError(f"expected query vectors of shape (n, {dim}), got {array.shape}")
    if k < 0:
        raise StoreError(f"k must be >= 0, got {k}")
    check_where(where)
    return array


def check_where(where: Metadata | None) -> None:
    if where:
        _check_metadata("<where>", where)


def normalise_rows(array: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Unit rows (zero rows stay zero): dot products are then cosine similarities, as in Chroma's space."""
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return (array / np.where(norms == 0, np.float32(1.0), norms)).astype(np.float32, copy=False)


def _equal(stored: object, wanted: object) -> bool:
    # Chroma's semantics: booleans only equal booleans; ints and floats compare numerically (1 == 1.0).
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored == wanted
    if isinstance(stored, str) or isinstance(wanted, str):
        return isinstance(stored, str) and isinstance(wanted, str) and stored == wanted
    return stored == wanted


def metadata_matches(metadata: Mapping[str, object], where: Metadata | None) -> bool:
    """Equality on every key of ``where`` (a missing key never matches)."""
    if not where:
        return True
    return all(key in metadata and _equal(metadata[key], value) for key, value in where.items())
