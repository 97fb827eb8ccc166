"""The Chroma store of chunks and their vectors; the only module that imports chromadb.

Everything the index needs to know about a document lives in its chunks' metadata (its
source, content hash, and how many chunks it has), so the store is its own record of what
was indexed: there is no second database to fall out of step with it. The collection's
metadata names the embedding model that made its vectors.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.chunking import Chunk
from index.errors import EmbeddingModelMismatch, StoreError

logger = logging.getLogger(__name__)

COLLECTION = "procurebot_chunks"
SENTENCES = "procurebot_sentences"


@dataclass(frozen=True)
class StoredSentence:
    """A quotable sentence of a document: its text is `document text[start:end]`."""

    source: str
    start: int
    end: int
    heading: str
    text: str


@dataclass(frozen=True)
class StoredDocument:
    """What the store holds of one document."""

    source: str
    sha256: str
    key: str  # the chunk ids' prefix: one version of the document under one chunker
    n_chunks: int  # how many chunks the document was split into
    present: int  # how many of them are in the store
    title: str = ""
    kind: str = ""
    date: str | None = None
    indexed_at: str = ""  # ISO 8601, UTC; "" for an index made before this was recorded

    @property
    def complete(self) -> bool:
        return self.present == self.n_chunks


class ChunkStore:
    """Chunks of the corpus with their embeddings, in a Chroma collection on disk."""

    def __init__(self, collection: Any, sentences: Any, embedding_model: str) -> None:
        self._collection = collection
        self._sentences = sentences
        self.embedding_model = embedding_model

    @classmethod
    def open(
        cls, path: Path, embedding_model: str, dim: int, *, rebuild: bool = False
    ) -> ChunkStore:
        """Open (creating if needed) the store at `path` for vectors of `embedding_model`."""
        client = _client(path)
        metadata = {"embedding_model": embedding_model, "dim": dim}
        try:
            existing = {c.name for c in client.list_collections()}
            for name in (COLLECTION, SENTENCES):
                if rebuild and name in existing:
                    client.delete_collection(name)
            collection, sentences = (
                client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    metadata=metadata,
                    configuration={"hnsw": {"space": "cosine"}},
                )
                for name in (COLLECTION, SENTENCES)
            )
        except (sqlite3.Error, ValueError, RuntimeError) as exc:
            raise StoreError(
                f"The index at {path} cannot be opened ({exc}): "
                "run `procurebot index --rebuild` to rebuild it."
            ) from exc
        for opened in (collection, sentences):
            stored = (opened.metadata or {}).get("embedding_model")
            if stored != embedding_model:
                raise EmbeddingModelMismatch(str(stored), embedding_model)
        return cls(collection, sentences, embedding_model)

    def count(self) -> int:
        return int(self._collection.count())

    def stored_documents(self) -> dict[str, StoredDocument]:
        result = self._collection.get(include=["metadatas"])
        present: Counter[tuple[str, str, str, int]] = Counter()
        about: dict[str, dict[str, Any]] = {}
        for chunk_id, meta in zip(result["ids"], result["metadatas"] or [], strict=True):
            key = chunk_id.rsplit(":", 1)[0]
            present[(str(meta["source"]), str(meta["sha256"]), key, int(meta["n_chunks"]))] += 1
            about[str(meta["source"])] = meta
        documents: dict[str, StoredDocument] = {}
        for (source, sha256, key, n_chunks), count in present.items():
            if source in documents:  # chunks of two versions of one file: re-index it
                n_chunks = -1
            meta = about[source]
            documents[source] = StoredDocument(
                source,
                sha256,
                key,
                n_chunks,
                count,
                title=str(meta["title"]),
                kind=str(meta["kind"]),
                date=str(meta["date"]) or None,
                indexed_at=str(meta.get("indexed_at", "")),
            )
        return documents

    def add_sentences(
        self, key: str, sentences: Sequence[StoredSentence], vectors: Sequence[Sequence[float]]
    ) -> None:
        """Store a document version's sentences (`key` as for its chunks)."""
        if not sentences:
            return
        self._sentences.upsert(
            ids=[f"{key}:s{s.start}-{s.end}" for s in sentences],
            embeddings=[list(vector) for vector in vectors],
            documents=[s.text for s in sentences],
            metadatas=[
                {"source": s.source, "start": s.start, "end": s.end, "heading": s.heading}
                for s in sentences
            ],
        )

    def sentences_of(self, sources: Sequence[str]) -> list[tuple[StoredSentence, list[float]]]:
        """Every stored sentence of the given documents, with its vector."""
        if not sources:
            return []
        result = self._sentences.get(
            where={"source": {"$in": sorted(set(sources))}},
            include=["documents", "metadatas", "embeddings"],
        )
        embeddings = result["embeddings"] if result["embeddings"] is not None else []
        return [
            (
                StoredSentence(
                    str(meta["source"]),
                    int(meta["start"]),
                    int(meta["end"]),
                    str(meta["heading"]),
                    text,
                ),
                [float(x) for x in vector],
            )
            for text, meta, vector in zip(
                result["documents"] or [], result["metadatas"] or [], embeddings, strict=True
            )
        ]

    def add(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Store chunks; a document's chunks are written last, as the mark that it is complete."""
        if not chunks:
            return
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._collection.upsert(
            ids=[chunk.id for chunk in chunks],
            embeddings=[list(vector) for vector in vectors],
            documents=[chunk.text for chunk in chunks],
            metadatas=[{**_metadata(chunk), "indexed_at": stamp} for chunk in chunks],
        )

    def delete_source(self, source: str) -> None:
        self._collection.delete(where={"source": source})
        self._sentences.delete(where={"source": source})

    def chunks(self) -> list[Chunk]:
        """Every chunk, in corpus order."""
        result = self._collection.get(include=["documents", "metadatas"])
        chunks = [
            _chunk(chunk_id, text, meta)
            for chunk_id, text, meta in zip(
                result["ids"], result["documents"] or [], result["metadatas"] or [], strict=True
            )
        ]
        return sorted(chunks, key=lambda chunk: (chunk.source, chunk.index))

    def centroid(self, page: int = 1000) -> list[float]:
        """The normalised mean of every chunk vector: where the corpus sits in embedding space."""
        import numpy as np

        total = self.count()
        if total == 0:
            return []
        acc = np.zeros(0)
        for offset in range(0, total, page):
            batch = self._collection.get(include=["embeddings"], limit=page, offset=offset)
            summed = np.asarray(batch["embeddings"], dtype=np.float64).sum(axis=0)
            acc = summed if acc.size == 0 else acc + summed
        norm = float(np.linalg.norm(acc))
        return [float(x) / norm for x in acc] if norm else []

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embeddings of the given chunk ids."""
        if not ids:
            return {}
        result = self._collection.get(ids=list(ids), include=["embeddings"])
        embeddings = result["embeddings"] if result["embeddings"] is not None else []
        return {
            chunk_id: [float(x) for x in vector]
            for chunk_id, vector in zip(result["ids"], embeddings, strict=True)
        }

    def search(self, vector: Sequence[float], k: int) -> list[tuple[Chunk, float]]:
        """The `k` nearest chunks with their cosine similarity, best first."""
        total = self.count()
        if total == 0:
            return []
        result = self._collection.query(
            query_embeddings=[list(vector)],
            n_results=min(k, total),
            include=["documents", "metadatas", "distances"],
        )
        return [
            (_chunk(chunk_id, text, meta), 1.0 - float(distance))
            for chunk_id, text, meta, distance in zip(
                result["ids"][0],
                (result["documents"] or [[]])[0],
                (result["metadatas"] or [[]])[0],
                (result["distances"] or [[]])[0],
                strict=True,
            )
        ]


def _client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))


def _metadata(chunk: Chunk) -> dict[str, str | int]:
    return {
        "source": chunk.source,
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "heading": chunk.heading,
        "title": chunk.title,
        "kind": chunk.kind,
        "date": chunk.date or "",
        "language": chunk.language,
        "sha256": chunk.sha256,
        "n_chunks": chunk.n_chunks,
    }


def _chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        id=chunk_id,
        source=str(meta["source"]),
        index=int(meta["index"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        heading=str(meta["heading"]),
        title=str(meta["title"]),
        kind=str(meta["kind"]),
        date=str(meta["date"]) or None,
        language=str(meta["language"]),
        sha256=str(meta["sha256"]),
        n_chunks=int(meta["n_chunks"]),
    )
