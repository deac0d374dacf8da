"""The onnxruntime backend of all-MiniLM-L6-v2: the numpy pass's vectors, and numpy as the fallback."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from pydantic import ValidationError

from modules.hippocampus.config import MemoryConfig
from robomem.embeddings import _onnx_graph
from robomem.embeddings.cache import CachedEmbedder
from robomem.embeddings.config import EmbedderConfig, MiniLMEmbedderConfig
from robomem.embeddings.factory import make_embedder, shared_minilm
from robomem.embeddings.minilm import MiniLMEmbedder
from robomem.errors import EmbedderError

# Short and long, punctuation, digits, accents and CJK (word pieces and [UNK]), an empty text (only [CLS] and
# [SEP]), and texts past the 256-token truncation: in one call they are padded against each other.
VARIED = [
    "",
    "go",
    "Put the apple in the fridge.",
    "The robot picked up the red cup from the kitchen counter, then walked to the sink.",
    "A quick brown fox jumps over the lazy dog; 42 times! (really?) -- 3.14159 #tag @user",
    "Café déjà vu: naïve résumé, Zürich, São Paulo.",
    "机器人把杯子放在桌子上。",
    "pick up the mug " * 20,
    "word " * 400,
    " ".join(f"step {i}: open drawer {i % 7}, take the spoon, close it" for i in range(40)),
    "UPPER case And MiXeD case",
    "\t tabs\nand newlines \r\n",
]


@pytest.fixture(scope="module")
def numpy_model() -> MiniLMEmbedder:
    return shared_minilm(32, "numpy")


@pytest.fixture(scope="module")
def onnx_model() -> MiniLMEmbedder:
    return shared_minilm(32, "onnx")


def test_auto_picks_onnx_when_onnxruntime_is_installed(onnx_model: MiniLMEmbedder) -> None:
    assert MiniLMEmbedder(backend="auto").backend == "onnx"
    assert (onnx_model.backend, onnx_model.name, onnx_model.dim) == ("onnx", "all-MiniLM-L6-v2", 384)


def test_onnx_equals_numpy_on_varied_sentences(
    numpy_model: MiniLMEmbedder, onnx_model: MiniLMEmbedder
) -> None:
    lengths = [len(ids) for ids in onnx_model.tokenize(VARIED)]
    assert min(lengths) == 2 and max(lengths) == 256  # empty and truncated texts are both in the set
    expected = numpy_model.embed(VARIED)
    together = onnx_model.embed(VARIED)  # one padded batch of 12 lengths
    assert together.dtype == np.float32 and together.shape == (len(VARIED), 384)
    assert float(np.abs(together - expected).max()) <= 1e-5
    # Alone (no padding) and in chunks of 3 (padding inside each chunk) give the same rows.
    alone = np.concatenate([onnx_model.embed([text]) for text in VARIED])
    assert float(np.abs(alone - expected).max()) <= 1e-5
    chunked = MiniLMEmbedder(batch_size=3, backend="onnx").embed(VARIED[::-1])[::-1]
    assert float(np.abs(chunked - expected).max()) <= 1e-5
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_onnx_equals_numpy_on_a_full_batch_of_short_sentences(
    numpy_model: MiniLMEmbedder, onnx_model: MiniLMEmbedder
) -> None:
    texts = [
        f"{verb} the {obj} in room {i}"
        for i, (verb, obj) in enumerate(
            (v, o)
            for v in ("open", "find", "slice", "heat")
            for o in ("apple", "mug", "knife", "egg", "towel")
        )
    ]
    texts += texts[:12]  # 32 texts, duplicates included
    diff = np.abs(onnx_model.embed(texts) - numpy_model.embed(texts)).max()
    assert float(diff) <= 1e-5


def _build(numpy_model: MiniLMEmbedder, *, fused: bool = True) -> _onnx_graph.OnnxModel:
    """The onnx graph over the numpy model's own weights."""
    return _onnx_graph.build_minilm_onnx(
        word=numpy_model._word,
        position=numpy_model._pos,
        type0=numpy_model._type0,
        embedding_ln=numpy_model._emb_ln,
        layers=numpy_model._layers,
        heads=numpy_model._heads,
        eps=numpy_model._eps,
        mask_bias=-1e9,
        fused=fused,
    )


def test_the_weights_are_not_serialized_into_the_model(numpy_model: MiniLMEmbedder) -> None:
    built = _build(numpy_model)
    assert len(built.proto) < 100_000  # the graph only: 22.7M weights are handed over as arrays
    assert sum(a.size for a in built.external.values()) > 22_000_000
    # The 47 MB word table is passed as the memory-mapped array itself, not a copy.
    assert np.shares_memory(built.external["word"], numpy_model._word)


_NO_ONNXRUNTIME = textwrap.dedent(
    """
    import logging, sys
    sys.modules["onnxruntime"] = None  # what `import onnxruntime` finds when it is not installed
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    from robomem.embeddings.minilm import MiniLMEmbedder
    from robomem.errors import EmbedderError

    model = MiniLMEmbedder(backend="auto")
    print("backend", model.backend, model.embed(["still works"]).shape)
    try:
        MiniLMEmbedder(backend="onnx")
    except EmbedderError as exc:
        print("onnx:", exc)
    """
)


def test_without_onnxruntime_auto_falls_back_to_numpy_and_onnx_fails_clearly() -> None:
    # A child process, so that hiding onnxruntime cannot leak into other tests.
    result = subprocess.run(
        [sys.executable, "-c", _NO_ONNXRUNTIME], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "backend numpy (1, 384)" in result.stdout
    assert (
        "onnx: all-MiniLM-L6-v2's onnx backend is unavailable (onnxruntime is not installed" in result.stdout
    )
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "runs on numpy" in warnings[0]


def test_an_onnxruntime_failure_falls_back_to_numpy(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Simulated: a valid graph gives onnxruntime no reason to fail here (an old or broken build would).
    def refuse(model: _onnx_graph.OnnxModel, *, threads: int | None) -> None:
        raise RuntimeError("[ONNXRuntimeError] : 1 : FAIL : unsupported op\nsecond line")

    monkeypatch.setattr(_onnx_graph, "make_session", refuse)
    with caplog.at_level(logging.WARNING):
        model = MiniLMEmbedder(backend="auto")
    assert model.backend == "numpy" and model.embed(["fine"]).shape == (1, 384)
    assert "RuntimeError: [ONNXRuntimeError] : 1 : FAIL : unsupported op" in caplog.text
    with pytest.raises(EmbedderError, match=r"onnx backend is unavailable \(RuntimeError"):
        MiniLMEmbedder(backend="onnx")


def test_bad_backend_is_rejected() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        MiniLMEmbedder(backend="torch")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        MiniLMEmbedderConfig(backend="torch")


def test_config_selects_the_backend() -> None:
    memory = MemoryConfig.model_validate(
        {"embedder": {"type": "minilm", "backend": "numpy", "cache_size": 0}}
    )
    assert isinstance(memory.embedder, MiniLMEmbedderConfig)
    embedder = make_embedder(memory.embedder)
    assert isinstance(embedder, MiniLMEmbedder) and embedder.backend == "numpy"
    assert embedder is shared_minilm(32, "numpy")
    # The memory section's default (a plain EmbedderConfig) means auto.
    default = make_embedder(EmbedderConfig())
    assert isinstance(default, CachedEmbedder)
    assert isinstance(default.inner, MiniLMEmbedder) and default.inner.backend == "onnx"


def test_the_standard_operator_graph_gives_the_same_vectors(numpy_model: MiniLMEmbedder) -> None:
    # fused=False builds the layers from standard ONNX operators only (no onnxruntime contrib kernels).
    built = _build(numpy_model, fused=False)
    session = _onnx_graph.make_session(built, threads=1)
    ids = numpy_model.tokenize(VARIED)
    longest = max(len(row) for row in ids)
    batch = np.zeros((len(ids), longest), dtype=np.int64)
    mask = np.zeros((len(ids), longest), dtype=np.float32)
    for r, row in enumerate(ids):
        batch[r, : len(row)], mask[r, : len(row)] = row, 1.0
    vectors = session.run(["embeddings"], {"input_ids": batch, "mask": mask})[0]
    assert float(np.abs(vectors - numpy_model.embed(VARIED)).max()) <= 1e-5
