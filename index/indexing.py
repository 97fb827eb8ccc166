"""Bring the store in line with the corpus, embedding only what changed.

A document is identified by its source path; a version of it by the SHA-256 of its bytes and
the chunker's signature. A document whose version is in the store with all its chunks is
left alone; a new or changed one is chunked and embedded, then replaces its old chunks; the
chunks of a file that is gone are removed. A file that cannot be read keeps the chunks of its
last readable version and is reported as skipped.

Documents are embedded and written in batches of about BATCH_TEXTS texts (a Chroma call has a
cost of its own that dominates small writes). A run killed halfway leaves at most one batch
partly written: its documents' old entries deleted, some of their new ones written. The next
run redoes a document whose chunks are missing, short or at two versions, and then removes
every sentence whose document version has no complete set of chunks (a file removed while its
sentences were being deleted, say), so that the store ends as a fresh build of the same corpus
would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from langchain_core.embeddings import Embeddings

from index.chunking import Chunk, chunk_document, document_key
from index.documents import CorpusScan, Document
from index.sentences import Sentence, embedding_text, split_sentences
from index.store import ChunkStore, StoredSentence

logger = logging.getLogger(__name__)

EMBED_BATCH = 16
BATCH_TEXTS = 2000  # texts (chunks and sentences) of documents written at once; a setting

Progress = Callable[[int, int], None]  # (texts embedded so far, texts to embed)


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
    batch_texts: int = BATCH_TEXTS,
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
    store.delete_sources(removed)

    embedded = _embed_documents(added, updated, store, embedder, progress, batch_texts)
    orphans = remove_orphan_sentences(store)
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
        notes=(
            (f"removed {orphans} sentence entries left by an interrupted run",) if orphans else ()
        ),
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


def remove_orphan_sentences(store: ChunkStore) -> int:
    """Delete the sentences of document versions without a complete chunk set; how many."""
    complete = {d.source: d.key for d in store.stored_documents().values() if d.complete}
    orphans = [
        sentence_id
        for sentence_id, source in store.sentence_sources().items()
        if complete.get(source) != sentence_id.rsplit(":", 1)[0]
    ]
    store.delete_sentences(orphans)
    if orphans:
        logger.info("removed %d sentence entries left by an interrupted run", len(orphans))
    return len(orphans)


def _embed_documents(
    added: list[Document],
    updated: list[Document],
    store: ChunkStore,
    embedder: Embeddings,
    progress: Progress | None,
    batch_texts: int,
) -> int:
    """Embed the documents' chunks and sentences, then swap them in for their old ones, a batch
    of documents at a time. Returns the number of chunks embedded.

    In a batch, the updated documents' old entries are deleted, then the sentences written,
    then the chunks: a document whose chunks are all present is complete. A new document has
    no entries to delete (ids are its version's key, so a rerun overwrites what a killed run
    wrote; sentences of another version are removed as orphans afterwards).
    """
    replaced = {d.source for d in updated}
    work = [(d, chunk_document(d), split_sentences(d)) for d in [*added, *updated]]
    total = sum(len(chunks) + len(sentences) for _, chunks, sentences in work)
    counter = _Counter(total, progress)
    for batch in _batches(work, batch_texts):
        sentences: list[tuple[str, StoredSentence]] = []
        sentence_vectors: list[list[float]] = []
        chunks: list[Chunk] = []
        chunk_vectors: list[list[float]] = []
        for document, its_chunks, its_sentences in batch:
            chunk_vectors += counter.embed(embedder, [c.embedding_text() for c in its_chunks])
            sentence_vectors += counter.embed(
                embedder, [embedding_text(s, document.text, document.title) for s in its_sentences]
            )
            key = document_key(document)
            sentences += [(key, s) for s in _stored(document, its_sentences)]
            chunks += its_chunks
        store.delete_sources([d.source for d, _, _ in batch if d.source in replaced])
        store.add_sentences(sentences, sentence_vectors)
        store.add(chunks, chunk_vectors)
    return sum(len(chunks) for _, chunks, _ in work)


Work = tuple[Document, list[Chunk], list[Sentence]]


def _batches(work: list[Work], batch_texts: int) -> Iterator[list[Work]]:
    """Consecutive documents holding about `batch_texts` texts (a long document: alone)."""
    batch: list[Work] = []
    size = 0
    for item in work:
        batch.append(item)
        size += len(item[1]) + len(item[2])
        if size >= batch_texts:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _stored(document: Document, sentences: list[Sentence]) -> list[StoredSentence]:
    return [
        StoredSentence(document.source, s.start, s.end, s.heading, document.text[s.start : s.end])
        for s in sentences
    ]


class _Counter:
    """Embeds in batches and reports progress over the whole run."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress
        if progress:
            progress(0, total)

    def embed(self, embedder: Embeddings, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for begin in range(0, len(texts), EMBED_BATCH):
            batch = texts[begin : begin + EMBED_BATCH]
            vectors.extend(embedder.embed_documents(batch))
            self.done += len(batch)
            if self.progress:
                self.progress(self.done, self.total)
        return vectors
