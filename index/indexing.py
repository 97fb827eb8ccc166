"""Bring the store in line with the corpus, embedding only what changed.

A document is identified by its source path; a version of it by the SHA-256 of its bytes and
the chunker's signature. A document whose version is in the store with all its chunks is
left alone; a new or changed one is chunked and embedded, then replaces its old chunks; the
chunks of a file that is gone are removed. A file that cannot be read keeps the chunks of its
last readable version and is reported as skipped. A run killed halfway leaves at most one
document partly written, which the next run detects (chunk count short) and redoes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from langchain_core.embeddings import Embeddings

from index.chunking import chunk_document, document_key
from index.documents import CorpusScan, Document
from index.store import ChunkStore

logger = logging.getLogger(__name__)

EMBED_BATCH = 16

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did, by document source."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (source, reason)
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    embedding_model: str = ""
    notes: tuple[str, ...] = field(default=())


def update_index(
    scan: CorpusScan,
    store: ChunkStore,
    embedder: Embeddings,
    progress: Progress | None = None,
) -> IndexReport:
    started = time.perf_counter()
    stored = store.stored_documents()
    unreadable = {problem.path for problem in scan.problems}
    added: list[Document] = []
    updated: list[Document] = []
    unchanged: list[str] = []
    for document in scan.documents:
        previous = stored.get(document.source)
        if previous is None:
            added.append(document)
        elif previous.key == document_key(document) and previous.complete:
            unchanged.append(document.source)
        else:
            updated.append(document)
    current = {document.source for document in scan.documents}
    removed = sorted(set(stored) - current - unreadable)
    for source in removed:
        store.delete_source(source)

    embedded = _embed_documents([*added, *updated], store, embedder, progress)
    report = IndexReport(
        added=tuple(d.source for d in added),
        updated=tuple(d.source for d in updated),
        removed=tuple(removed),
        unchanged=tuple(unchanged),
        skipped=tuple((problem.path, problem.reason) for problem in scan.problems),
        chunks_embedded=embedded,
        chunks_total=store.count(),
        seconds=time.perf_counter() - started,
        embedding_model=store.embedding_model,
    )
    logger.info(
        "indexed: %d added, %d updated, %d removed, %d unchanged, %d skipped; %d chunks embedded",
        len(report.added),
        len(report.updated),
        len(report.removed),
        len(report.unchanged),
        len(report.skipped),
        report.chunks_embedded,
    )
    return report


def _embed_documents(
    documents: list[Document],
    store: ChunkStore,
    embedder: Embeddings,
    progress: Progress | None,
) -> int:
    """Embed each document's chunks, then swap them in for its old ones; returns the count."""
    chunked = [(document, chunk_document(document)) for document in documents]
    total = sum(len(chunks) for _, chunks in chunked)
    done = 0
    if progress:
        progress(done, total)
    for document, chunks in chunked:
        vectors: list[list[float]] = []
        for begin in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[begin : begin + EMBED_BATCH]
            vectors.extend(embedder.embed_documents([chunk.embedding_text() for chunk in batch]))
            done += len(batch)
            if progress:
                progress(done, total)
        store.delete_source(document.source)
        store.add(chunks, vectors)
    return total
