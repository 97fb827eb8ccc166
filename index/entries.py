"""What the store keeps, as values, and how each is written as a Chroma entry and read back.

Three collections: the chunks (with their vectors, searched), the sentences (with their
vectors, read by id) and one record per document. A document's record says which version of
it the store holds and whether that version is complete: it is marked "writing" before any of
the document's entries change and "complete" once all of them are written, so a run killed
halfway leaves records that say which documents to redo, and nothing needs a scan of the
chunks or sentences to find out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from index.chunking import Chunk

WRITING, COMPLETE = "writing", "complete"
RECORD_VECTOR = [1.0]  # Chroma stores a vector with every entry; a record's is never searched


@dataclass(frozen=True)
class StoredSentence:
    """A quotable unit of a document (`index.sentences`): its text is `document text[start:end]`.

    `kind` is "sentence", "item" (a list item) or "row" (a table row); `lead` is the verbatim
    text at `lead_start:lead_end` of a row's header row or an item's lead-in ("" and -1: none).
    """

    source: str
    start: int
    end: int
    heading: str
    text: str
    kind: str = "sentence"
    lead: str = ""
    lead_start: int = -1
    lead_end: int = -1
    page: int = 0  # the 1-based page of a paged file (PDF) where the unit starts; 0: no pages


@dataclass(frozen=True)
class StoredDocument:
    """The store's record of one document."""

    source: str
    sha256: str
    key: str  # the chunk and sentence ids' prefix: one version of the document, one chunker
    n_chunks: int  # how many chunks that version was split into
    title: str = ""
    kind: str = ""
    date: str | None = None
    date_basis: str = ""  # where the date was read (`index.dates.own_date`), or "guessed…"
    language: str = ""
    catalog_key: str = ""  # the catalog entry its metadata came from (`catalog.entry_key`)
    indexed_at: str = ""  # ISO 8601, UTC, when its state was last written
    complete: bool = True  # False: its entries were being written when a run stopped
    stamp: str = ""  # the file's size, times and inode when read ("": hash it to compare)
    description: str = ""  # what the document says it is about (`Document.description`)

    def chunk_ids(self) -> list[str]:
        return [f"{self.key}:{i}" for i in range(self.n_chunks)]


def record_metadata(record: StoredDocument) -> dict[str, str | int]:
    return {
        "sha256": record.sha256,
        "key": record.key,
        "n_chunks": record.n_chunks,
        "title": record.title,
        "kind": record.kind,
        "date": record.date or "",
        "date_basis": record.date_basis,
        "language": record.language,
        "catalog_key": record.catalog_key,
        "indexed_at": record.indexed_at,
        "state": COMPLETE if record.complete else WRITING,
        "stamp": record.stamp,
        "description": record.description,
    }


def record_from(source: str, meta: Mapping[str, Any]) -> StoredDocument:
    return StoredDocument(
        source=source,
        sha256=str(meta["sha256"]),
        key=str(meta["key"]),
        n_chunks=int(meta["n_chunks"]),
        title=str(meta["title"]),
        kind=str(meta["kind"]),
        date=str(meta["date"]) or None,
        date_basis=str(meta.get("date_basis", "")),
        language=str(meta.get("language", "")),
        catalog_key=str(meta.get("catalog_key", "")),
        indexed_at=str(meta["indexed_at"]),
        complete=meta["state"] == COMPLETE,
        stamp=str(meta.get("stamp", "")),
        description=str(meta.get("description", "")),
    )


def chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
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


def chunk_from(chunk_id: str, text: str, meta: Mapping[str, Any]) -> Chunk:
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


def sentence_metadata(sentence: StoredSentence) -> dict[str, str | int]:
    return {
        "source": sentence.source,
        "start": sentence.start,
        "end": sentence.end,
        "heading": sentence.heading,
        "kind": sentence.kind,
        "lead": sentence.lead,
        "lead_start": sentence.lead_start,
        "lead_end": sentence.lead_end,
        "page": sentence.page,
    }


def sentence_from(text: str, meta: Mapping[str, Any]) -> StoredSentence:
    return StoredSentence(
        str(meta["source"]),
        int(meta["start"]),
        int(meta["end"]),
        str(meta["heading"]),
        text,
        str(meta.get("kind", "sentence")),
        str(meta.get("lead", "")),
        int(meta.get("lead_start", -1)),
        int(meta.get("lead_end", -1)),
        int(meta.get("page", 0)),
    )


def sentence_id(key: str, sentence: StoredSentence) -> str:
    return f"{key}:s{sentence.start}-{sentence.end}"
