"""The Chroma store of chunks and their vectors; the only module that opens one.

Everything the index needs to know about a document lives in its chunks' metadata (its
source, content hash, and how many chunks it has), so the store is its own record of what
was indexed: there is no second database to fall out of step with it. The collection's
metadata names the embedding model that made its vectors.

The store lives where its StoreLocation says: in a folder on this machine, which procurebot
opens itself and checks for locks and damage first (`index.store_files`), or on a Chroma
server started with `chroma run`, reached over HTTP (`index.store_server`). Either way,
Chroma's failures reach people as StoreError messages that say what to do. One failure
Chroma does not report is looked for here: a vector index that lost entries (a search would
silently return fewer chunks than the store holds).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from index import store_files, store_server
from index.chunking import Chunk
from index.errors import EmbeddingModelMismatch, StoreDamaged
from index.location import ChromaFolder, ChromaServer, StoreLocation

COLLECTION = "procurebot_chunks"
SENTENCES = "procurebot_sentences"

# Entries written (or sources deleted) per Chroma call: each call costs about 20 ms of its own,
# so documents are written in batches, and below Chroma's own limit on a call's size.
WRITE_BATCH = 4000
DELETE_SOURCES = 50  # documents deleted per call (each may have thousands of entries)
READ_PAGE = 10_000  # entries read per call when reading a whole collection

T = TypeVar("T")


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
    """Chunks of the corpus with their embeddings, in Chroma collections where `location` says."""

    def __init__(
        self, location: StoreLocation, collection: Any, sentences: Any, embedding_model: str
    ) -> None:
        self.location = location
        self._collection = collection
        self._sentences = sentences
        self.embedding_model = embedding_model
        self.moved_aside: Path | None = None  # where `open(rebuild=True)` put a damaged store

    @classmethod
    def open(
        cls, location: StoreLocation, embedding_model: str, dim: int, *, rebuild: bool = False
    ) -> ChunkStore:
        """Open (creating if needed) the store at `location` for vectors of `embedding_model`.

        With `rebuild`, the store is emptied. A damaged folder is moved aside to a folder named
        `<path>.damaged-<UTC time>` and a new one is made in its place; on a server, the two
        collections are deleted and made again.
        """
        moved = _empty(location) if rebuild else None
        if isinstance(location, ChromaFolder):
            store_files.check_files(location.path)
        metadata = {"embedding_model": embedding_model, "dim": dim}
        with _translated(location, opening=True):
            client = _client(location)
            collection, sentences = (
                client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    metadata=metadata,
                    configuration={"hnsw": {"space": "cosine"}},
                )
                for name in (COLLECTION, SENTENCES)
            )
            for opened in (collection, sentences):  # damage shows now, not at a question
                if opened.count():  # loads the vector index; a vector is read from it
                    opened.get(limit=1, include=["embeddings"])
        for opened in (collection, sentences):
            stored = (opened.metadata or {}).get("embedding_model")
            if stored != embedding_model:
                raise EmbeddingModelMismatch(str(stored), embedding_model)
        store = cls(location, collection, sentences, embedding_model)
        store.moved_aside = moved
        return store

    def _call(self, action: Callable[[], T]) -> T:
        """Run one Chroma call, its failures translated into StoreError."""
        if isinstance(self.location, ChromaFolder):  # Chroma would wait forever on a lock
            store_files.check_database(self.location.path, missing_ok=False)
        with _translated(self.location):
            return action()

    def _get_all(self, collection: Any, include: list[str]) -> dict[str, list[Any]]:
        """Every entry of a collection, read a page at a time: one read of more than about
        32,000 entries fails in Chroma's SQLite ("too many SQL variables")."""
        merged: dict[str, list[Any]] = {"ids": [], **{name: [] for name in include}}
        offset = 0
        while True:
            page = self._call(
                partial(collection.get, include=include, limit=READ_PAGE, offset=offset)
            )
            for name in merged:
                merged[name] += list(page[name] or [])
            if len(page["ids"]) < READ_PAGE:
                return merged
            offset += READ_PAGE

    def count(self) -> int:
        return int(self._call(self._collection.count))

    def stored_documents(self) -> dict[str, StoredDocument]:
        result = self._get_all(self._collection, ["metadatas"])
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
        self,
        sentences: Sequence[tuple[str, StoredSentence]],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        """Store sentences, each with its document version's key (as for its chunks)."""
        self._upsert(
            self._sentences,
            ids=[f"{key}:s{s.start}-{s.end}" for key, s in sentences],
            vectors=vectors,
            documents=[s.text for _, s in sentences],
            metadatas=[
                {"source": s.source, "start": s.start, "end": s.end, "heading": s.heading}
                for _, s in sentences
            ],
        )

    def _upsert(
        self,
        collection: Any,
        ids: list[str],
        vectors: Sequence[Sequence[float]],
        documents: list[str],
        metadatas: list[dict[str, Any]],
    ) -> None:
        """Write entries WRITE_BATCH at a time, in order."""
        for begin in range(0, len(ids), WRITE_BATCH):
            end = begin + WRITE_BATCH
            self._call(
                partial(
                    collection.upsert,
                    ids=ids[begin:end],
                    embeddings=[list(vector) for vector in vectors[begin:end]],
                    documents=documents[begin:end],
                    metadatas=metadatas[begin:end],
                )
            )

    def sentence_sources(self) -> dict[str, str]:
        """Every stored sentence's id (`<document key>:s<start>-<end>`) with its source."""
        result = self._get_all(self._sentences, ["metadatas"])
        return {
            sentence_id: str(meta["source"])
            for sentence_id, meta in zip(result["ids"], result["metadatas"] or [], strict=True)
        }

    def delete_sentences(self, ids: Sequence[str]) -> None:
        if ids:
            self._call(lambda: self._sentences.delete(ids=list(ids)))

    def sentence_ids(self) -> list[str]:
        """Every stored sentence's id: `<document key>:s<start>-<end>`."""
        return list(self._get_all(self._sentences, [])["ids"])

    def sentences(self, ids: Sequence[str]) -> list[tuple[StoredSentence, list[float]]]:
        """The stored sentences of the given ids, with their vectors (read by id: a lookup,
        where a filter on their metadata would read the whole collection)."""
        if not ids:
            return []
        result = self._call(
            partial(
                self._sentences.get,
                ids=list(ids),
                include=["documents", "metadatas", "embeddings"],
            )
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
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._upsert(
            self._collection,
            ids=[chunk.id for chunk in chunks],
            vectors=vectors,
            documents=[chunk.text for chunk in chunks],
            metadatas=[{**_metadata(chunk), "indexed_at": stamp} for chunk in chunks],
        )

    def delete_sources(self, sources: Sequence[str]) -> None:
        """Delete every chunk, then every sentence, of the given documents."""
        for begin in range(0, len(sources), DELETE_SOURCES):
            where = {"source": {"$in": list(sources[begin : begin + DELETE_SOURCES])}}
            self._call(partial(self._collection.delete, where=where))
            self._call(partial(self._sentences.delete, where=where))

    def chunks(self) -> list[Chunk]:
        """Every chunk, in corpus order."""
        result = self._get_all(self._collection, ["documents", "metadatas"])
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
            batch = self._call(
                partial(self._collection.get, include=["embeddings"], limit=page, offset=offset)
            )
            summed = np.asarray(batch["embeddings"], dtype=np.float64).sum(axis=0)
            acc = summed if acc.size == 0 else acc + summed
        norm = float(np.linalg.norm(acc))
        return [float(x) / norm for x in acc] if norm else []

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embeddings of the given chunk ids."""
        if not ids:
            return {}
        result = self._call(lambda: self._collection.get(ids=list(ids), include=["embeddings"]))
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
        wanted = min(k, total)
        result = self._call(
            lambda: self._collection.query(
                query_embeddings=[list(vector)],
                n_results=wanted,
                include=["documents", "metadatas", "distances"],
            )
        )
        if len(result["ids"][0]) < wanted:  # the vector index lost entries the database holds
            raise StoreDamaged(
                f"The index {self.location.where} is damaged (its vector index returned "
                f"{len(result['ids'][0])} of {wanted} chunks): {store_files.REBUILD}."
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


def _client(location: StoreLocation) -> Any:
    """A Chroma client of the store's home; Chroma's product telemetry off."""
    import chromadb
    from chromadb.config import Settings

    if isinstance(location, ChromaServer):
        store_server.check_reachable(location)
        client = chromadb.HttpClient(
            host=location.host,
            port=location.port,
            ssl=location.ssl,
            settings=Settings(
                anonymized_telemetry=False,
                chroma_server_host=location.host,  # not CHROMA_SERVER_HOST from the environment
                chroma_server_http_port=location.port,
            ),
        )
        store_server.limit_waits(client)
        return client
    location.path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(
        path=str(location.path), settings=Settings(anonymized_telemetry=False)
    )


def _translated(location: StoreLocation, *, opening: bool = False) -> AbstractContextManager[None]:
    """Chroma's failures at `location` as StoreError messages that say what to do."""
    if isinstance(location, ChromaServer):
        return store_server.translated(location, opening=opening)
    return store_files.translated(location.path, opening=opening)


def _empty(location: StoreLocation) -> Path | None:
    """Drop both collections; a folder too damaged for that is moved aside. Where to, if so."""
    if isinstance(location, ChromaFolder):
        if not location.path.exists():
            return None
        try:
            store_files.check_files(location.path)
            _drop_collections(location)
        except StoreDamaged as exc:
            return store_files.move_aside(location.path, exc)
        return None
    _drop_collections(location)
    return None


def _drop_collections(location: StoreLocation) -> None:
    with _translated(location, opening=True):
        client = _client(location)
        existing = {c.name for c in client.list_collections()}
        for name in (COLLECTION, SENTENCES):
            if name in existing:
                client.delete_collection(name)


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
