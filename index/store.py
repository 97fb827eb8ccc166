"""The Chroma store of chunks and their vectors; the only module that imports chromadb.

Everything the index needs to know about a document lives in its chunks' metadata (its
source, content hash, and how many chunks it has), so the store is its own record of what
was indexed: there is no second database to fall out of step with it. The collection's
metadata names the embedding model that made its vectors.

Chroma's own failures are turned into StoreError messages that say what to do: a damaged
store (StoreDamaged) is rebuilt with `procurebot index --rebuild`, which moves the damaged
folder aside rather than deleting it; a store another program holds locked (StoreLocked) is
reported after a short wait, because Chroma itself would wait forever. Two failures Chroma
does not report are looked for here: a garbled vector-index file (Chroma's native code
crashes the process on it) and a vector index that lost entries (a search would silently
return fewer chunks than the store holds).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import struct
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from index.chunking import Chunk
from index.errors import EmbeddingModelMismatch, StoreDamaged, StoreError, StoreLocked

logger = logging.getLogger(__name__)

COLLECTION = "procurebot_chunks"
SENTENCES = "procurebot_sentences"
DATABASE = "chroma.sqlite3"
LOCK_WAIT_SECONDS = 5.0  # how long a lock held by another program is waited for
REBUILD = "run `procurebot index --rebuild` to rebuild it from the documents"

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
    """Chunks of the corpus with their embeddings, in a Chroma collection on disk."""

    def __init__(self, path: Path, collection: Any, sentences: Any, embedding_model: str) -> None:
        self.path = path
        self._collection = collection
        self._sentences = sentences
        self.embedding_model = embedding_model
        self.moved_aside: Path | None = None  # where `open(rebuild=True)` put a damaged store

    @classmethod
    def open(
        cls, path: Path, embedding_model: str, dim: int, *, rebuild: bool = False
    ) -> ChunkStore:
        """Open (creating if needed) the store at `path` for vectors of `embedding_model`.

        With `rebuild`, the store is emptied; a damaged one is moved aside to a folder named
        `<path>.damaged-<UTC time>` and a new one is made in its place.
        """
        moved = _empty(path) if rebuild else None
        _check_files(path)
        metadata = {"embedding_model": embedding_model, "dim": dim}
        with _translated(path, opening=True):
            client = _client(path)
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
        store = cls(path, collection, sentences, embedding_model)
        store.moved_aside = moved
        return store

    def _call(self, action: Callable[[], T]) -> T:
        """Run one Chroma call, its failures translated into StoreError."""
        _check_database(self.path, missing_ok=False)  # Chroma would wait forever on a lock
        with _translated(self.path):
            return action()

    def count(self) -> int:
        return int(self._call(self._collection.count))

    def stored_documents(self) -> dict[str, StoredDocument]:
        result = self._call(lambda: self._collection.get(include=["metadatas"]))
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
        self._call(
            lambda: self._sentences.upsert(
                ids=[f"{key}:s{s.start}-{s.end}" for s in sentences],
                embeddings=[list(vector) for vector in vectors],
                documents=[s.text for s in sentences],
                metadatas=[
                    {"source": s.source, "start": s.start, "end": s.end, "heading": s.heading}
                    for s in sentences
                ],
            )
        )

    def sentence_sources(self) -> dict[str, str]:
        """Every stored sentence's id (`<document key>:s<start>-<end>`) with its source."""
        result = self._call(lambda: self._sentences.get(include=["metadatas"]))
        return {
            sentence_id: str(meta["source"])
            for sentence_id, meta in zip(result["ids"], result["metadatas"] or [], strict=True)
        }

    def delete_sentences(self, ids: Sequence[str]) -> None:
        if ids:
            self._call(lambda: self._sentences.delete(ids=list(ids)))

    def sentences_of(self, sources: Sequence[str]) -> list[tuple[StoredSentence, list[float]]]:
        """Every stored sentence of the given documents, with its vector."""
        if not sources:
            return []
        result = self._call(
            lambda: self._sentences.get(
                where={"source": {"$in": sorted(set(sources))}},
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
        if not chunks:
            return
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._call(
            lambda: self._collection.upsert(
                ids=[chunk.id for chunk in chunks],
                embeddings=[list(vector) for vector in vectors],
                documents=[chunk.text for chunk in chunks],
                metadatas=[{**_metadata(chunk), "indexed_at": stamp} for chunk in chunks],
            )
        )

    def delete_source(self, source: str) -> None:
        self._call(lambda: self._collection.delete(where={"source": source}))
        self._call(lambda: self._sentences.delete(where={"source": source}))

    def chunks(self) -> list[Chunk]:
        """Every chunk, in corpus order."""
        result = self._call(lambda: self._collection.get(include=["documents", "metadatas"]))
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
                f"The index at {self.path} is damaged (its vector index returned "
                f"{len(result['ids'][0])} of {wanted} chunks): {REBUILD}."
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


def _empty(path: Path) -> Path | None:
    """Drop both collections; a store too damaged for that is moved aside. Where to, if so."""
    if not path.exists():
        return None
    try:
        _check_files(path)
        with _translated(path, opening=True):
            client = _client(path)
            existing = {c.name for c in client.list_collections()}
            for name in (COLLECTION, SENTENCES):
                if name in existing:
                    client.delete_collection(name)
        return None
    except StoreDamaged as exc:
        _forget(path)
        aside = path.with_name(f"{path.name}.damaged-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        path.rename(aside)
        logger.info("moved the damaged index %s aside to %s (%s)", path, aside, exc)
        return aside


def _forget(path: Path) -> None:
    """Drop Chroma's instance for `path`, kept for the life of the process, so that the next
    client opens the files now there (the old one closes when no collection refers to it)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    SharedSystemClient._identifier_to_system.pop(str(path), None)


def _check_files(path: Path) -> None:
    """What Chroma would wait forever on or crash on, found before it opens the store."""
    _check_database(path, missing_ok=True)
    for header in sorted(path.glob("*/header.bin")):
        problem = _vector_index_problem(header.parent)
        if problem:
            raise StoreDamaged(f"The index at {path} is damaged ({problem}): {REBUILD}.")


def _check_database(path: Path, *, missing_ok: bool) -> None:
    """StoreLocked when another program holds the database locked for longer than a moment."""
    database = path / DATABASE
    if missing_ok and not database.exists():
        return
    try:
        db = sqlite3.connect(
            f"file:{database}?mode=rw", uri=True, timeout=LOCK_WAIT_SECONDS, isolation_level=None
        )
    except sqlite3.OperationalError as exc:
        raise _translate(path, exc) from exc
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc):  # a read-only store can still be read
            raise _translate(path, exc) from exc
    except sqlite3.DatabaseError as exc:
        raise _translate(path, exc) from exc
    finally:
        db.close()


@contextmanager
def _translated(path: Path, *, opening: bool = False) -> Iterator[None]:
    """Chroma's and SQLite's failures, as StoreError messages that say what to do."""
    from chromadb.errors import ChromaError

    try:
        yield
    except (ChromaError, sqlite3.Error) as exc:
        raise _translate(path, exc) from exc
    except (ValueError, RuntimeError, OSError) as exc:
        if not opening:
            raise
        raise _translate(path, exc, opening=True) from exc


def _translate(path: Path, exc: Exception, *, opening: bool = False) -> StoreError:
    text = str(exc)
    reason = _reason(text)
    if "locked" in text or "busy" in text:
        return StoreLocked(
            f"The index at {path} is locked by another program ({reason}): close that program "
            "or wait until it is done, then try again."
        )
    if not opening and not (path / DATABASE).exists():
        return StoreDamaged(
            f"The index at {path} was removed while procurebot was running: restart procurebot "
            "to build it again from the documents."
        )
    if isinstance(exc, PermissionError) or any(
        words in text for words in ("readonly", "read-only", "unable to open")
    ):
        return StoreError(
            f"The index at {path} cannot be written ({reason}): make the folder writable by "
            "this user, or set PROCUREBOT_DATA_DIR to a writable folder."
        )
    return StoreDamaged(f"The index at {path} is damaged ({reason}): {REBUILD}.")


def _reason(text: str) -> str:
    """The last clause of a chained message, without SQLite's code: 'file is not a database'."""
    text = re.sub(r"\(code: \d+\)\s*", "", " ".join(text.split()))
    return text.rsplit(": ", 1)[-1].strip() or text


# header.bin of an HNSW index as Chroma 1.5 writes it: format version, offset of level 0,
# capacity, element count, bytes per element, label offset, vector offset, top level,
# entry point, maxM, maxM0, M, level multiplier, ef_construction.
_HEADER = struct.Struct("<i6QiI3QdQ")


def _vector_index_problem(folder: Path) -> str:
    """What is wrong in one HNSW segment folder, or "": the link counts and targets are checked,
    as native code follows them unchecked."""
    import numpy as np

    raw = (folder / "header.bin").read_bytes()
    if len(raw) != _HEADER.size:
        return f"{folder.name}/header.bin has {len(raw)} bytes, not {_HEADER.size}"
    version, _, capacity, count, size, label, offset, top, entry, max_m, max_m0, *_ = (
        _HEADER.unpack(raw)
    )
    if version != 1:  # not a format this check knows: Chroma's own checks apply
        return ""
    if not (
        count <= capacity
        and offset == 4 + 4 * max_m0
        and label + 8 == size
        and 0 < max_m <= max_m0 <= 4096
        and -1 <= top <= 64
        and (entry < count or count == 0)
    ):
        return f"{folder.name}/header.bin does not describe an HNSW index"
    if count == 0:
        return ""
    files = {name: folder / name for name in ("data_level0.bin", "length.bin", "link_lists.bin")}
    for name, file in files.items():
        if not file.exists():
            return f"{folder.name}/{name} is missing"
    level0 = np.fromfile(files["data_level0.bin"], dtype=np.uint8)
    if level0.size < count * size:
        return f"{folder.name}/data_level0.bin is truncated"
    rows = level0[: count * size].reshape(count, size)
    links = rows[:, :offset].copy().view(np.uint32)  # [count | flags, link...]
    if _bad_links(links, max_m0, count):
        return f"{folder.name}/data_level0.bin links to elements that do not exist"
    upper = _upper_links(np.fromfile(files["link_lists.bin"], dtype=np.uint32), count, max_m)
    if upper is None or _bad_links(upper, max_m, count):
        return f"{folder.name}/link_lists.bin is garbled"
    return ""


def _upper_links(raw: Any, count: int, max_m: int) -> Any:
    """link_lists.bin (per element: its byte size, then its upper-level link lists) as rows
    of one list each; None when the sizes do not add up."""
    import numpy as np

    row = max_m + 1
    rows, position = [], 0
    for _ in range(count):
        if position >= raw.size or int(raw[position]) % (4 * row):
            return None
        size = int(raw[position]) // 4
        rows.append(raw[position + 1 : position + 1 + size])
        position += 1 + size
    if position != raw.size:
        return None
    return np.concatenate(rows).reshape(-1, row) if rows else np.zeros((0, row), np.uint32)


def _bad_links(lists: Any, most: int, count: int) -> bool:
    """Whether any link list (row: its size in the low 16 bits, then the links) is garbled."""
    import numpy as np

    sizes = (lists[:, 0] & 0xFFFF).astype(np.int64)
    if (sizes > most).any():
        return True
    used = np.arange(lists.shape[1] - 1)[None, :] < sizes[:, None]
    return bool((lists[:, 1:][used] >= count).any())


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
