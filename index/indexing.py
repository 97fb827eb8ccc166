"""Bring the store in line with the corpus, embedding only what changed.

A document is identified by its source path; a version of it by the SHA-256 of its bytes and
the chunker's signature. A document whose version the store records as complete is left
alone; a new or changed one is chunked and embedded, then replaces its old entries; the
entries of a file that is gone are removed. A file that cannot be read keeps the entries of
its last readable version and is reported as skipped (unless a run stopped while writing
them: then they are removed).

What a run costs grows with what changed, not with the corpus: the store's document records
say what it holds (one entry per document, kept in memory between runs), unchanged files are
not opened (their size, times and inode are those recorded) or only hashed, and only the
changed documents' entries are written or deleted.

Documents are embedded and written in batches of about BATCH_TEXTS texts (a Chroma call has a
cost of its own that dominates small writes). Before a batch touches any entry, its
documents' records are marked "writing"; after its last entry they are marked "complete". A
run killed halfway leaves at most one batch of records marked "writing" (or a removed file's
record, if killed while its entries were deleted). The next run deletes every entry of those
documents and writes them again, so the store ends as a fresh build of the same corpus would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from langchain_core.embeddings import Embeddings

from index.chunking import Chunk, chunk_document, document_key
from index.documents import CorpusScan, Document
from index.entries import StoredDocument, StoredSentence
from index.loaders import page_at
from index.sentences import Sentence, embedding_text, split_sentences
from index.store import ChunkStore

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
    relabelled: tuple[str, ...] = ()  # only their title, kind, date or language changed
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
    stored: dict[str, StoredDocument] | None = None,
) -> IndexReport:
    """Index the scan's documents. `stored` is the store's records when already read (the
    scan's unchanged files were found against them); otherwise they are read here."""
    started = time.perf_counter()
    stored = store.stored_documents() if stored is None else stored
    changes = _changes(scan, stored)
    store.remove_documents([stored[source] for source in changes.removed])
    store.restamp([replace(stored[s], stamp=stamp) for s, stamp in scan.restamped if s in stored])
    store.relabel(changes.relabelled)
    redone = [d.source for d in changes.updated if not stored[d.source].complete]

    embedded = _embed_documents(
        changes.added, changes.updated, stored, store, embedder, progress, batch_texts
    )
    report = IndexReport(
        added=tuple(d.source for d in changes.added),
        updated=tuple(d.source for d in changes.updated),
        removed=changes.removed,
        relabelled=tuple(r.source for r in changes.relabelled),
        unchanged=tuple(sorted(changes.unchanged)),
        skipped=tuple((problem.path, problem.reason) for problem in scan.problems),
        chunks_embedded=embedded,
        chunks_total=store.count(),
        seconds=time.perf_counter() - started,
        embedding_model=store.embedding_model,
        notes=_notes(redone, [s for s in changes.removed if not stored[s].complete]),
    )
    _log(report)
    return report


@dataclass(frozen=True)
class _Changes:
    """What a scan asks of the store, by what is done with each document."""

    added: tuple[Document, ...]  # new: chunked and embedded
    updated: tuple[Document, ...]  # changed, or left half-written: embedded again
    relabelled: tuple[StoredDocument, ...]  # only their catalog metadata changed
    unchanged: tuple[str, ...]  # sources
    removed: tuple[str, ...]  # sources whose entries are deleted, in order


def _changes(scan: CorpusScan, stored: dict[str, StoredDocument]) -> _Changes:
    """Compare the scan with the store's records (`stored`, by source)."""
    added: list[Document] = []
    updated: list[Document] = []
    relabelled: list[StoredDocument] = []
    unchanged: list[str] = list(scan.unchanged)
    for document in scan.documents:
        previous = stored.get(document.source)
        if previous is None:
            added.append(document)
        elif previous.key == document_key(document) and previous.complete:
            record = _record(document, previous.n_chunks)
            if _label(record) != _label(previous):
                relabelled.append(record)
            else:
                unchanged.append(document.source)
        else:  # changed, or left half-written by a run that stopped
            updated.append(document)
    current = {document.source for document in scan.documents} | set(scan.unchanged)
    unreadable = {problem.path for problem in scan.problems}
    # An unreadable file keeps its last complete version; a half-written one cannot be redone.
    removed = sorted(
        source
        for source, record in stored.items()
        if source not in current and (source not in unreadable or not record.complete)
    )
    return _Changes(
        tuple(added), tuple(updated), tuple(relabelled), tuple(unchanged), tuple(removed)
    )


def _log(report: IndexReport) -> None:
    """One INFO line: what the run did."""
    logger.info(
        "indexed: %d added, %d updated, %d removed, %d relabelled, %d unchanged, %d skipped; "
        "%d chunks embedded",
        len(report.added),
        len(report.updated),
        len(report.removed),
        len(report.relabelled),
        len(report.unchanged),
        len(report.skipped),
        report.chunks_embedded,
    )


def _label(record: StoredDocument) -> tuple[object, ...]:
    """What changes of a document without its text changing (its catalog entry)."""
    return (
        record.title,
        record.kind,
        record.date,
        record.date_basis,
        record.language,
        record.catalog_key,
        record.description,
    )


def _notes(redone: list[str], removed: list[str]) -> tuple[str, ...]:
    """What the run finished of one that stopped halfway."""
    finished = len(redone) + len(removed)
    if not finished:
        return ()
    logger.info("finished %d document(s) left half-written by an interrupted run", finished)
    return (f"finished {finished} document(s) left half-written by an interrupted run",)


def _embed_documents(
    added: Sequence[Document],
    updated: Sequence[Document],
    stored: dict[str, StoredDocument],
    store: ChunkStore,
    embedder: Embeddings,
    progress: Progress | None,
    batch_texts: int,
) -> int:
    """Embed the documents' chunks and sentences, then swap them in for their old ones, a batch
    of documents at a time. Returns the number of chunks embedded.

    In a batch, the documents' records are marked "writing", the updated documents' old
    entries deleted, the sentences and chunks written, and the records marked "complete". A
    new document has no entries to delete: it has no record, so no run has written any.
    """
    replaced = {d.source: stored[d.source] for d in updated}
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
        records = [_record(document, len(its_chunks)) for document, its_chunks, _ in batch]
        store.begin_writing(records)
        store.delete_entries([replaced[d.source] for d, _, _ in batch if d.source in replaced])
        store.add_sentences(sentences, sentence_vectors)
        store.add(chunks, chunk_vectors)
        store.finish_writing(records)
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


def _record(document: Document, n_chunks: int) -> StoredDocument:
    return StoredDocument(
        source=document.source,
        sha256=document.sha256,
        key=document_key(document),
        n_chunks=n_chunks,
        title=document.title,
        kind=document.kind,
        date=document.date,
        date_basis=document.date_basis,
        language=document.language,
        catalog_key=document.catalog_key,
        stamp=document.stamp,
        description=document.description,
    )


def _stored(document: Document, sentences: list[Sentence]) -> list[StoredSentence]:
    text = document.text
    return [
        StoredSentence(
            document.source,
            s.start,
            s.end,
            s.heading,
            text[s.start : s.end],
            s.kind,
            text[s.lead_start : s.lead_end] if s.lead_start >= 0 else "",
            s.lead_start,
            s.lead_end,
            page_at(document.pages, s.start) or 0,
        )
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
