"""What the retriever holds in memory of the store, kept in step with it a document at a time.

The chunks' texts and keyword postings, the model aliases the documents teach, each
document's centroid and where each sentence starts are all derived from the store. `sync` reads the
store's document records and loads or drops only the documents whose version changed, so that
after re-indexing one document the retriever spends time in that document, whichever process
re-indexed it. What it holds is what a fresh load of the same store would hold.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from bot.answering.facts.entities import (
    Aliases,
    Families,
    FamilyCounts,
    families,
    family_counts,
    learn_aliases,
)
from bot.answering.keywords import KeywordIndex, terms
from index.chunking import Chunk
from index.store import ChunkStore, StoredDocument

logger = logging.getLogger(__name__)


LANGUAGE_SHARE = 0.2  # a language of this share of the chunks or more is the documents'


@dataclass(frozen=True)
class _Loaded:
    """One document version as read from the store."""

    record: StoredDocument
    chunks: list[Chunk]  # in order
    vector_sum: np.ndarray
    sentence_ids: list[str]


@dataclass(frozen=True)
class _Held:
    version: tuple[str, ...]  # `_version` of its record
    positions: list[int]  # the chunks' positions in the keyword index
    vector_sum: np.ndarray
    aliases: Aliases
    family_counts: FamilyCounts
    languages: Counter[str]  # chunks per language


class LoadedIndex:
    """The store's chunks as the retriever searches them. Read it under `lock`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # held to read, and briefly to change what is held
        self._syncing = threading.Lock()  # one sync at a time
        self._held: dict[str, _Held] = {}
        self._slots: list[Chunk | None] = []  # by keyword position; None once dropped
        self.keywords = KeywordIndex()
        self.aliases: Aliases = {}
        self.families: Families = frozenset()  # the product families the documents name
        self.centroids = np.zeros((0, 0))  # one unit vector per document: its chunks' mean
        self.languages: frozenset[str] = frozenset()  # each of LANGUAGE_SHARE of the chunks
        self.sentences = SentenceSpans()

    def sync(self, store: ChunkStore) -> tuple[int, int]:
        """Load the documents whose complete version the store holds and this does not, and
        drop the ones it no longer holds; how many were (loaded, dropped)."""
        with self._syncing:
            records = {s: d for s, d in store.stored_documents().items() if d.complete}
            held = {source: h.version for source, h in self._held.items()}
            gone = [s for s, v in held.items() if s not in records or _version(records[s]) != v]
            wanted = [d for s, d in sorted(records.items()) if held.get(s) != _version(d)]
            loaded = _load(store, wanted)
            tokenized = {
                d.record.source: [terms(c.embedding_text()) for c in d.chunks] for d in loaded
            }
            with self.lock:
                for source in gone:
                    self._drop(source)
                for document in loaded:
                    self._take(document, tokenized[document.record.source])
                if gone or loaded:
                    self._derive()
        return len(loaded), len(gone)

    def chunk(self, position: int) -> Chunk | None:
        return self._slots[position]

    def _take(self, document: _Loaded, tokenized: list[list[str]]) -> None:
        source = document.record.source
        positions = self.keywords.add(tokenized)
        self._slots += document.chunks
        texts = [chunk.text for chunk in document.chunks]
        counts = family_counts(texts)
        lines = [line for text in texts for line in text.splitlines()]
        self._held[source] = _Held(
            _version(document.record),
            positions,
            document.vector_sum,
            learn_aliases(lines, frozenset(counts)),
            counts,
            Counter(chunk.language for chunk in document.chunks),
        )
        self.sentences.add(source, document.sentence_ids)

    def _drop(self, source: str) -> None:
        held = self._held.pop(source)
        self.keywords.remove(held.positions)
        for position in held.positions:
            self._slots[position] = None
        self.sentences.remove(source)

    def _derive(self) -> None:
        """The aliases and each document's centroid, from each document's share."""
        merged: dict[tuple[str, str | None], set[tuple[str, str | None]]] = defaultdict(set)
        for held in self._held.values():
            for model, same in held.aliases.items():
                merged[model] |= same
        self.aliases = {model: frozenset(same) for model, same in merged.items()}
        self.families = families(held.family_counts for held in self._held.values())
        chunks = sum((held.languages for held in self._held.values()), Counter[str]())
        total = sum(chunks.values())
        self.languages = frozenset(
            language for language, n in chunks.items() if n >= LANGUAGE_SHARE * total
        )
        sums = [held.vector_sum for held in self._held.values() if held.vector_sum.size]
        norms = [float(np.linalg.norm(total)) for total in sums]
        self.centroids = (
            np.stack([total / norm for total, norm in zip(sums, norms, strict=True) if norm])
            if any(norms)
            else np.zeros((0, 0))
        )


def _load(store: ChunkStore, records: list[StoredDocument]) -> list[_Loaded]:
    """The documents' chunks, vector sums and sentence ids; a document whose chunks are not
    all there (being rewritten by another process) is left for the next sync."""
    chunks: dict[str, list[Chunk]] = defaultdict(list)
    sums: dict[str, np.ndarray] = {}
    for chunk, vector in store.document_chunks(records):
        chunks[chunk.source].append(chunk)
        array = np.asarray(vector, dtype=np.float64)
        sums[chunk.source] = sums[chunk.source] + array if chunk.source in sums else array
    sentence_ids = store.version_sentence_ids(records)
    loaded = []
    for record in records:
        its = sorted(chunks.get(record.source, []), key=lambda c: c.index)
        if len(its) != record.n_chunks or any(c.id.rsplit(":", 1)[0] != record.key for c in its):
            logger.warning("%s is being re-indexed elsewhere: not loaded yet", record.source)
            continue
        vector_sum = sums.get(record.source, np.zeros(0))
        loaded.append(_Loaded(record, its, vector_sum, sentence_ids.get(record.key, [])))
    return loaded


class SentenceSpans:
    """Where each stored sentence starts, by document, from the sentences' ids
    (`<document key>:s<start>-<end>`): the sentences inside a passage are found here and read
    by id, in time independent of the corpus size."""

    def __init__(self) -> None:
        self._by_source: dict[str, tuple[list[int], list[str]]] = {}

    def add(self, source: str, sentence_ids: list[str]) -> None:
        entries = sorted((int(i.rsplit(":", 1)[1][1:].split("-", 1)[0]), i) for i in sentence_ids)
        self._by_source[source] = ([start for start, _ in entries], [i for _, i in entries])

    def remove(self, source: str) -> None:
        self._by_source.pop(source, None)

    def inside(self, chunk: Chunk) -> list[str]:
        """Ids of the sentences of the chunk's document, in the version held, that start
        inside the chunk, in order (a baseline's passage is matched the same way)."""
        starts, ids = self._by_source.get(chunk.source, ([], []))
        return ids[bisect_left(starts, chunk.start) : bisect_left(starts, chunk.end)]


def _version(record: StoredDocument) -> tuple[str, ...]:
    """What the loaded chunks reflect of a record: its version, and the title, kind, date and
    language its chunks carry (a catalog edit changes these without a new version)."""
    return (record.key, record.title, record.kind, record.date or "", record.language)
