"""The store's document records, kept in memory and checked against the store in one small read.

Reading every record from Chroma costs about 0.1 ms a document (0.6 s at 6,000 documents),
and a re-index reads them at least twice (to find what changed, and to load it), which would
make re-indexing one document cost time that grows with the corpus. So the records are read
once and kept, with a way to know when what is kept is out of date:

- Each process that writes records has a counter, stored as an entry of the records
  collection (id: the writer's id; metadata: `{"writes": n, "at": <unix time>}`), and every
  write of records writes the next value of that counter in the same Chroma call.
- A reader reads all counters (one filtered read of a few entries), then the records, and
  keeps both. While the counters read later are the same, no process has written a record
  since, and the kept records are the store's.
- A process's own writes are applied to what it keeps as it makes them, and counted in its
  own counter, so its next read costs only the counters. That is sound only if the kept
  counter is the one before the write; otherwise what is kept is dropped and read again.
- Deleting records cannot share a call with an upsert: the counter is written just after.
  A process that stops in between leaves other processes keeping those records, marked
  "writing" (their deletion starts by marking them so), which any run redoes or removes.

Counters are never reused (a writer's id is new for each opened store), so equal counters
cannot hide a write. A writer deletes counters not written for an hour when it first writes,
which at worst makes other processes read the records once more.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from index.entries import RECORD_VECTOR, StoredDocument, record_from, record_metadata

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Metadata, PyEmbedding

T = TypeVar("T")
Call = Callable[[Callable[[], T]], T]

WRITES = "writes"  # the metadata key only counter entries have
STALE_WRITER_SECONDS = 3600
READ_PAGE = 10_000  # entries read per call
WRITE_BATCH = 4000  # records written per call


@dataclass
class _Kept:
    counters: dict[str, int]  # by writer id, as read just before `records`
    records: dict[str, StoredDocument]


class DocumentRecords:
    """One record per document in a Chroma collection (`index.entries`), read through memory."""

    def __init__(self, collection: Collection, call: Call[Any]) -> None:
        self._collection = collection
        self._call = call
        self._writer = f"procurebot-writer-{uuid.uuid4().hex}"
        self._writes = 0
        self._kept: _Kept | None = None
        self._lock = threading.Lock()  # guards `_kept` and `_writes`
        self.foreign_writes = 0  # reads that found records another process had written

    def use(self, collection: Collection) -> None:
        """Read and write through another client's handle of the same collection."""
        self._collection = collection

    def read(self) -> dict[str, StoredDocument]:
        """Every record, by source: as kept, unless some process has written records since."""
        counters = self._counters()
        with self._lock:
            if self._kept is not None and self._kept.counters == counters:
                return dict(self._kept.records)
            if self._kept is not None:
                self.foreign_writes += 1
        records = self._records()
        with self._lock:
            self._kept = _Kept(counters, records)
        return dict(records)

    def write(self, records: Sequence[StoredDocument]) -> None:
        """Store the records as given (state and time included)."""
        for begin in range(0, len(records), WRITE_BATCH):
            self._write(list(records[begin : begin + WRITE_BATCH]))

    def _write(self, batch: list[StoredDocument]) -> None:
        def upsert_with_count(count: int) -> None:
            vectors: list[PyEmbedding] = [RECORD_VECTOR] * (len(batch) + 1)
            metadatas: list[Metadata] = [*map(record_metadata, batch), self._counter(count)]
            self._collection.upsert(
                ids=[r.source for r in batch] + [self._writer],
                embeddings=vectors,
                documents=[r.title for r in batch] + [""],
                metadatas=metadatas,
            )

        def keep(kept: dict[str, StoredDocument]) -> None:
            kept.update((r.source, r) for r in batch)

        self._changing(upsert_with_count, keep)

    def delete(self, sources: Sequence[str]) -> None:
        """Delete the records of these sources."""

        def delete_then_count(count: int) -> None:
            self._collection.delete(ids=list(sources))
            vector: list[PyEmbedding] = [RECORD_VECTOR]
            self._collection.upsert(
                ids=[self._writer],
                embeddings=vector,
                documents=[""],
                metadatas=[self._counter(count)],
            )

        def forget(kept: dict[str, StoredDocument]) -> None:
            for source in sources:
                kept.pop(source, None)

        if sources:
            self._changing(delete_then_count, forget)

    def _changing(
        self, change: Callable[[int], None], apply: Callable[[dict[str, StoredDocument]], None]
    ) -> None:
        """Make one change counted as the next write, then apply it to what is kept (or drop
        that, when it may miss a write of this process or the change failed)."""
        with self._lock:
            first = self._writes == 0
            self._writes += 1
            count = self._writes
        if first:
            self._forget_stale_writers()
        try:
            self._call(partial(change, count))
        except BaseException:
            with self._lock:
                self._kept = None
            raise
        with self._lock:
            kept = self._kept
            if kept is None:
                return
            if kept.counters.get(self._writer, 0) != count - 1:
                self._kept = None
                return
            apply(kept.records)
            kept.counters[self._writer] = count

    def _counter(self, count: int) -> dict[str, str | int]:
        return {WRITES: count, "at": int(time.time())}

    def _counters(self) -> dict[str, int]:
        counters: dict[str, Any] = {WRITES: {"$gte": 0}}
        found = self._call(partial(self._collection.get, where=counters, include=["metadatas"]))
        return {
            writer: int(meta[WRITES])
            for writer, meta in zip(found["ids"], found["metadatas"] or [], strict=True)
        }

    def _records(self) -> dict[str, StoredDocument]:
        records: dict[str, StoredDocument] = {}
        offset = 0
        while True:  # a page at a time, below Chroma's limit on one read
            page = self._call(
                partial(self._collection.get, include=["metadatas"], limit=READ_PAGE, offset=offset)
            )
            for source, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                if WRITES not in meta:
                    records[source] = record_from(source, meta)
            if len(page["ids"]) < READ_PAGE:
                return records
            offset += READ_PAGE

    def _forget_stale_writers(self) -> None:
        """Delete the counters not written for STALE_WRITER_SECONDS; what is kept stays
        valid (a counter that is written meanwhile is not deleted, and differs anyway)."""
        cutoff = int(time.time()) - STALE_WRITER_SECONDS
        where: dict[str, Any] = {"$and": [{WRITES: {"$gte": 0}}, {"at": {"$lt": cutoff}}]}
        stale = self._call(partial(self._collection.get, where=where, include=[]))["ids"]
        if not stale:
            return
        self._call(partial(self._collection.delete, ids=stale, where=where))
        with self._lock:
            if self._kept is not None:
                for writer in stale:
                    self._kept.counters.pop(writer, None)
