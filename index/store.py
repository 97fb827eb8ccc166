"""The Chroma store of chunks, sentences and document records, as the rest of procurebot uses it.

The store is its own record of what was indexed (`index.entries`): one record per document
says which version of it is stored and whether all of its entries are, so there is no second
database to fall out of step with it, and finding what changed reads the records, not the
chunks (and reads them from memory while no process has written one: `index.records`). The
collections' metadata names the embedding model that made the vectors and the layout of the
entries; a store of an older layout is emptied on opening and built again from the documents
(the collections are opened, checked and dropped by `index.chroma`).

The store lives where its StoreLocation says: in a folder on this machine, which procurebot
opens itself and checks for locks and damage first (`index.store_files`), or on a Chroma
server started with `chroma run`, reached over HTTP (`index.store_server`). Either way,
Chroma's failures reach people as StoreError messages that say what to do. One failure
Chroma does not report is looked for here: a vector index that lost entries (a search would
silently return fewer chunks than the store holds).
"""

from __future__ import annotations

import logging
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from index import store_files
from index.chroma import (
    Collections,
    checked_collections,
    collection_gone,
    empty,
    open_collections,
    translated,
)
from index.chunking import Chunk
from index.entries import (
    StoredDocument,
    StoredSentence,
    chunk_from,
    chunk_metadata,
    sentence_from,
    sentence_id,
    sentence_metadata,
)
from index.errors import StoreDamaged
from index.location import ChromaFolder, StoreLocation
from index.records import DocumentRecords

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Metadata, PyEmbedding

__all__ = ["ChunkStore", "StoredDocument", "StoredSentence"]

logger = logging.getLogger(__name__)

# Entries written per Chroma call: each call costs about 20 ms of its own, so documents are
# written in batches, and below Chroma's own limit on a call's size. Reads by id and by
# source are cut likewise: one call with more than about 32,000 ids fails in Chroma's SQLite
# ("too many SQL variables").
WRITE_BATCH = 4000
READ_IDS = 4000  # ids read or deleted per call
SOURCES_PER_CALL = 50  # documents deleted or read per call (each may have thousands of entries)
KEPT_VERSIONS = 512  # document versions whose sentence ids a store keeps after writing them

T = TypeVar("T")


class ChunkStore:
    """Chunks of the corpus with their embeddings, in Chroma collections where `location` says."""

    def __init__(
        self,
        location: StoreLocation,
        collections: Collections,
        embedding_model: str,
    ) -> None:
        self.location = location
        self._collections = collections
        self._records = DocumentRecords(collections.documents, self._call)
        # the ids of the sentences this store wrote, by document version (`_written`)
        self._written: OrderedDict[str, list[str]] = OrderedDict()
        self.embedding_model = embedding_model
        self.moved_aside: Path | None = None  # where `open(rebuild=True)` put a damaged store

    @classmethod
    def open(
        cls, location: StoreLocation, embedding_model: str, dim: int, *, rebuild: bool = False
    ) -> ChunkStore:
        """Open (creating if needed) the store at `location` for vectors of `embedding_model`.

        With `rebuild`, the store is emptied. A damaged folder is moved aside to a folder named
        `<path>.damaged-<UTC time>` and a new one is made in its place; on a server, the
        collections are deleted and made again.
        """
        moved = empty(location) if rebuild else None
        if isinstance(location, ChromaFolder):
            store_files.check_files(location.path)
        collections = checked_collections(location, embedding_model, dim)
        store = cls(location, collections, embedding_model)
        store.moved_aside = moved
        return store

    def _call(self, action: Callable[[], T]) -> T:
        """Run one Chroma call, its failures translated into StoreError."""
        if isinstance(self.location, ChromaFolder):  # Chroma would wait forever on a lock
            store_files.check_database(self.location.path, missing_ok=False)
        with translated(self.location):
            return action()

    def count(self) -> int:
        return int(self._call(self._collections.chunks.count))

    # The document records: what is stored, and what was being written when a run stopped.

    def stored_documents(self) -> dict[str, StoredDocument]:
        """Every document's record, complete or not, by source. When another process wrote
        records since the last read (`DocumentRecords` counts it), a store in a folder is
        opened again: Chroma keeps a folder's vector index in memory, and would not see
        that process's entries."""
        seen = self._records.foreign_writes
        try:
            records = self._records.read()
        except StoreDamaged as exc:
            if not (isinstance(self.location, ChromaFolder) and collection_gone(exc)):
                raise
            self._reopen(self.location.path)  # another process rebuilt it: new collections
            return self._records.read()
        if self._records.foreign_writes != seen and isinstance(self.location, ChromaFolder):
            self._reopen(self.location.path)
        return records

    def _reopen(self, path: Path) -> None:
        dim = int((self._collections.chunks.metadata or {}).get("dim", 0))
        with translated(self.location, opening=True):
            store_files.forget(path)
            self._collections = open_collections(self.location, self.embedding_model, dim)
        self._records.use(self._collections.documents)
        logger.info("another process re-indexed %s: opened it again", self.location.where)

    def begin_writing(self, records: Sequence[StoredDocument]) -> None:
        """Mark the documents as being written: until `finish_writing`, a run that stops
        leaves them for the next run to redo."""
        self._write_records(records, complete=False)

    def finish_writing(self, records: Sequence[StoredDocument]) -> None:
        """Mark the documents complete: every chunk and sentence of their version is stored."""
        self._write_records(records, complete=True)

    def restamp(self, records: Sequence[StoredDocument]) -> None:
        """Rewrite records whose file was found unchanged under a new stamp (`entries`)."""
        self._records.write(records)

    def relabel(self, records: Sequence[StoredDocument]) -> None:
        """Give the documents' chunks the title, kind, date and language of their records,
        then store the records: metadata only, nothing is embedded again."""
        chunks = self._collections.chunks
        for record in records:
            ids = record.chunk_ids()
            labels = {
                "title": record.title,
                "kind": record.kind,
                "date": record.date or "",
                "language": record.language,
            }
            for begin in range(0, len(ids), READ_IDS):
                found = self._call(
                    partial(chunks.get, ids=ids[begin : begin + READ_IDS], include=["metadatas"])
                )
                metadatas: list[Metadata] = [
                    {**meta, **labels} for meta in found["metadatas"] or []
                ]
                self._call(partial(chunks.update, ids=found["ids"], metadatas=metadatas))
        self.finish_writing(records)

    def _write_records(self, records: Sequence[StoredDocument], *, complete: bool) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self._records.write([replace(r, complete=complete, indexed_at=now) for r in records])

    def remove_documents(self, records: Sequence[StoredDocument]) -> None:
        """Delete the documents' entries, then their records."""
        for begin in range(0, len(records), SOURCES_PER_CALL):
            batch = records[begin : begin + SOURCES_PER_CALL]
            self.begin_writing(batch)
            self.delete_entries(batch)
            self._records.delete([r.source for r in batch])

    # Chunks and sentences.

    def add_sentences(
        self,
        sentences: Sequence[tuple[str, StoredSentence]],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        """Store sentences, each with its document version's key (as for its chunks): all of
        a version's sentences in one call."""
        self._upsert(
            self._collections.sentences,
            ids=[sentence_id(key, s) for key, s in sentences],
            vectors=vectors,
            documents=[s.text for _, s in sentences],
            metadatas=[sentence_metadata(s) for _, s in sentences],
        )
        written: dict[str, list[str]] = defaultdict(list)
        for key, sentence in sentences:
            written[key].append(sentence_id(key, sentence))
        for key, ids in written.items():
            self._written[key] = ids
            self._written.move_to_end(key)
        while len(self._written) > KEPT_VERSIONS:
            self._written.popitem(last=False)

    def add(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Store chunks."""
        self._upsert(
            self._collections.chunks,
            ids=[chunk.id for chunk in chunks],
            vectors=vectors,
            documents=[chunk.text for chunk in chunks],
            metadatas=[chunk_metadata(chunk) for chunk in chunks],
        )

    def _upsert(
        self,
        collection: Collection,
        ids: list[str],
        vectors: Sequence[Sequence[float]],
        documents: list[str],
        metadatas: list[Metadata],
    ) -> None:
        """Write entries WRITE_BATCH at a time, in order."""
        for begin in range(0, len(ids), WRITE_BATCH):
            end = begin + WRITE_BATCH
            embeddings: list[PyEmbedding] = [list(vector) for vector in vectors[begin:end]]
            self._call(
                partial(
                    collection.upsert,
                    ids=ids[begin:end],
                    embeddings=embeddings,
                    documents=documents[begin:end],
                    metadatas=metadatas[begin:end],
                )
            )

    def delete_entries(self, records: Sequence[StoredDocument]) -> None:
        """Delete every chunk and sentence of the recorded documents, of any version.

        The entries of a document whose record is complete are exactly its version's; if this
        store wrote them, it knows their ids and deletes by id. Others are found by a filter on
        their source, which costs time that grows with the collection."""
        by_id = [r for r in records if r.complete and r.key in self._written]
        if by_id:
            chunk_ids = [chunk_id for r in by_id for chunk_id in r.chunk_ids()]
            sentence_ids = [i for r in by_id for i in self._written[r.key]]
            for collection, ids in (
                (self._collections.chunks, chunk_ids),
                (self._collections.sentences, sentence_ids),
            ):
                for begin in range(0, len(ids), READ_IDS):  # below SQLite's variable limit
                    self._call(partial(collection.delete, ids=ids[begin : begin + READ_IDS]))
        known = {r.source for r in by_id}
        for where in _by_source([r.source for r in records if r.source not in known]):
            self._call(partial(self._collections.chunks.delete, where=where))
            self._call(partial(self._collections.sentences.delete, where=where))
        for record in records:
            self._written.pop(record.key, None)

    def document_chunks(
        self, records: Sequence[StoredDocument]
    ) -> Iterator[tuple[Chunk, list[float]]]:
        """The chunks of the documents' recorded versions, with their vectors, read by id."""
        ids = [chunk_id for record in records for chunk_id in record.chunk_ids()]
        for begin in range(0, len(ids), READ_IDS):
            result = self._call(
                partial(
                    self._collections.chunks.get,
                    ids=ids[begin : begin + READ_IDS],
                    include=["documents", "metadatas", "embeddings"],
                )
            )
            embeddings = result["embeddings"] if result["embeddings"] is not None else []
            for chunk_id, text, meta, vector in zip(
                result["ids"],
                result["documents"] or [],
                result["metadatas"] or [],
                embeddings,
                strict=True,
            ):
                yield chunk_from(chunk_id, text, meta), [float(x) for x in vector]

    def chunks(self) -> list[Chunk]:
        """Every chunk of every complete document, in corpus order."""
        complete = [r for r in self.stored_documents().values() if r.complete]
        chunks = [chunk for chunk, _ in self.document_chunks(complete)]
        return sorted(chunks, key=lambda chunk: (chunk.source, chunk.index))

    def sentence_ids(self, sources: Sequence[str]) -> list[str]:
        """The ids (`<document key>:s<start>-<end>`) of the documents' stored sentences."""
        ids: list[str] = []
        for where in _by_source(sources):
            ids += self._call(partial(self._collections.sentences.get, where=where, include=[]))[
                "ids"
            ]
        return ids

    def version_sentence_ids(self, records: Sequence[StoredDocument]) -> dict[str, list[str]]:
        """The ids of the sentences of the records' versions, by key: from memory for versions
        this store wrote, else read by source (the ids of any version found, under its key)."""
        found = {r.key: self._written[r.key] for r in records if r.key in self._written}
        unknown = [r.source for r in records if r.key not in found]
        for sentence_id_ in self.sentence_ids(unknown):
            found.setdefault(sentence_id_.rsplit(":", 1)[0], []).append(sentence_id_)
        return found

    def sentences(self, ids: Sequence[str]) -> list[tuple[StoredSentence, list[float]]]:
        """The stored sentences of the given ids, with their vectors (read by id: a lookup,
        where a filter on their metadata would read the whole collection)."""
        if not ids:
            return []
        result = self._call(
            partial(
                self._collections.sentences.get,
                ids=list(ids),
                include=["documents", "metadatas", "embeddings"],
            )
        )
        embeddings = result["embeddings"] if result["embeddings"] is not None else []
        return [
            (sentence_from(text, meta), [float(x) for x in vector])
            for text, meta, vector in zip(
                result["documents"] or [], result["metadatas"] or [], embeddings, strict=True
            )
        ]

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embeddings of the given chunk ids."""
        if not ids:
            return {}
        result = self._call(
            lambda: self._collections.chunks.get(ids=list(ids), include=["embeddings"])
        )
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
        query: list[PyEmbedding] = [list(vector)]
        result = self._call(
            lambda: self._collections.chunks.query(
                query_embeddings=query,
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
            (chunk_from(chunk_id, text, meta), 1.0 - float(distance))
            for chunk_id, text, meta, distance in zip(
                result["ids"][0],
                (result["documents"] or [[]])[0],
                (result["metadatas"] or [[]])[0],
                (result["distances"] or [[]])[0],
                strict=True,
            )
        ]


def _by_source(sources: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Chroma filters on the documents' source, SOURCES_PER_CALL documents each."""
    for begin in range(0, len(sources), SOURCES_PER_CALL):
        yield {"source": {"$in": list(sources[begin : begin + SOURCES_PER_CALL])}}
