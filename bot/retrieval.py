"""Hybrid retrieval: Chroma's nearest vectors and BM25 keyword matches, fused by reciprocal rank.

Vectors find passages that mean the same in other words or other languages; keywords find
exact names, version numbers and prices ("mistral-medium-2312", "$0.40") that embeddings blur.
Reciprocal rank fusion (Cormack et al., 2009) combines the two rankings without having to
calibrate their scores against each other.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.entities import Aliases, learn_aliases
from bot.keywords import KeywordIndex, query_terms, terms
from index.chunking import Chunk
from index.store import ChunkStore, StoredSentence

logger = logging.getLogger(__name__)

RRF_K = 60  # the constant of reciprocal rank fusion; 60 is the published default
CANDIDATES = 20  # how deep each ranking is read before fusion


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the evidence of why it was retrieved."""

    chunk: Chunk
    score: float  # fused reciprocal-rank score
    similarity: float  # cosine similarity of the question's and the chunk's vectors
    vector_rank: int | None  # 1-based rank among vector results, None if not among them
    keyword_rank: int | None  # 1-based rank among BM25 results, None if not among them


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, quotable in an answer."""

    sentence: StoredSentence
    vector: list[float]
    passage: Passage  # the best-ranked passage the sentence lies in
    rank: int  # that passage's 1-based rank

    @property
    def context(self) -> str:
        title = self.passage.chunk.title
        return f"{title} — {self.sentence.heading}" if self.sentence.heading else title


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for one question."""

    question: str
    vector: list[float]
    passages: list[Passage]
    candidates: list[Candidate]


class HybridRetriever:
    """Retrieves passages from the store; keyword statistics are built once per index version."""

    def __init__(self, store: ChunkStore, embedder: Embeddings) -> None:
        self._store = store
        self._embedder = embedder
        self._lock = threading.Lock()
        self._chunks: list[Chunk] = []
        self._keywords: KeywordIndex | None = None
        self.aliases: Aliases = {}
        self._centroid: list[float] = []
        self._sentences = SentenceSpans([], [])
        self.refresh()

    def refresh(self) -> None:
        """Reload the chunks after the index changed."""
        chunks = self._store.chunks()
        keywords = KeywordIndex([terms(c.embedding_text()) for c in chunks]) if chunks else None
        aliases = learn_aliases([line for chunk in chunks for line in chunk.text.splitlines()])
        centroid = self._store.centroid()
        sentences = SentenceSpans(chunks, self._store.sentence_ids())
        with self._lock:
            self._chunks, self._keywords, self.aliases = chunks, keywords, aliases
            self._centroid, self._sentences = centroid, sentences

    def domain_similarity(self, vector: list[float]) -> float:
        """How close a question is to the corpus as a whole (cosine with its centroid)."""
        with self._lock:
            centroid = self._centroid
        return _cosine(vector, centroid) if centroid else 0.0

    def idf(self, term: str) -> float:
        """How rare a keyword term is in the corpus; terms the corpus lacks weigh the most."""
        with self._lock:
            keywords = self._keywords
        if keywords is None:
            return 1.0
        return keywords.idf.get(term, keywords.highest_idf)

    def embed_question(self, question: str) -> list[float]:
        return self._embedder.embed_query(question)

    def retrieve(self, question: str, k: int, vector: list[float] | None = None) -> list[Passage]:
        """The `k` best passages; `vector` is the question's embedding when already computed."""
        vector = vector if vector is not None else self.embed_question(question)
        by_vector = self._store.search(vector, CANDIDATES)
        by_keyword = self.keyword_search(question, CANDIDATES)
        similarity = {chunk.id: score for chunk, score in by_vector}
        chunks = {chunk.id: chunk for chunk, _ in by_vector} | {c.id: c for c in by_keyword}
        vector_rank = {chunk.id: rank for rank, (chunk, _) in enumerate(by_vector, start=1)}
        keyword_rank = {chunk.id: rank for rank, chunk in enumerate(by_keyword, start=1)}
        missing = [cid for cid in chunks if cid not in similarity]
        if missing:
            similarity |= self.similarities(vector, [chunks[cid] for cid in missing])
        fused = [
            Passage(
                chunk=chunk,
                score=_rrf(vector_rank.get(cid)) + _rrf(keyword_rank.get(cid)),
                similarity=similarity[cid],
                vector_rank=vector_rank.get(cid),
                keyword_rank=keyword_rank.get(cid),
            )
            for cid, chunk in chunks.items()
        ]
        fused.sort(key=lambda p: (-p.score, -p.similarity, p.chunk.source, p.chunk.index))
        return _diverse(fused, k)

    def retrieve_with_sentences(self, question: str, k: int) -> Retrieval:
        """The passages and every indexed sentence that lies in them."""
        vector = self.embed_question(question)
        passages = self.retrieve(question, k, vector)
        return Retrieval(question, vector, passages, self.candidates(passages))

    def candidates(self, passages: list[Passage]) -> list[Candidate]:
        with self._lock:
            spans = self._sentences
        stored = self._store.sentences(
            list(dict.fromkeys(i for p in passages for i in spans.inside(p.chunk)))
        )
        found: dict[tuple[str, int], Candidate] = {}
        for rank, passage in enumerate(passages, start=1):
            chunk = passage.chunk
            for sentence, vector in stored:
                inside = sentence.source == chunk.source and (
                    chunk.start <= sentence.start < chunk.end
                )
                if inside and (sentence.source, sentence.start) not in found:
                    found[(sentence.source, sentence.start)] = Candidate(
                        sentence, vector, passage, rank
                    )
        return list(found.values())

    def keyword_search(self, question: str, k: int) -> list[Chunk]:
        with self._lock:
            chunks, keywords = self._chunks, self._keywords
        query = query_terms(question)
        if keywords is None or not query:
            return []
        return [chunks[i] for i in keywords.top(query, k)]

    def similarities(self, vector: list[float], chunks: list[Chunk]) -> dict[str, float]:
        """Cosine similarity for keyword-only hits, from their stored vectors."""
        stored = self._store.vectors([chunk.id for chunk in chunks])
        return {cid: _cosine(vector, other) for cid, other in stored.items()}


class SentenceSpans:
    """Where each stored sentence starts, by document version, from the sentences' ids
    (`<document key>:s<start>-<end>`): the sentences inside a passage are found here and read
    by id, in time independent of the corpus size."""

    def __init__(self, chunks: list[Chunk], sentence_ids: list[str]) -> None:
        self._key_of = {chunk.source: _key(chunk.id) for chunk in chunks}
        found: dict[str, list[tuple[int, str]]] = {}
        for sentence_id in sentence_ids:
            key, span = sentence_id.rsplit(":", 1)
            found.setdefault(key, []).append((int(span[1:].split("-", 1)[0]), sentence_id))
        self._starts: dict[str, tuple[list[int], list[str]]] = {}
        for key, entries in found.items():
            entries.sort()
            self._starts[key] = ([start for start, _ in entries], [i for _, i in entries])

    def inside(self, chunk: Chunk) -> list[str]:
        """Ids of the sentences that start inside the chunk, in order. A passage that is not
        one of the store's chunks (a baseline's) is matched against its document's version."""
        key = _key(chunk.id)
        if key not in self._starts:
            key = self._key_of.get(chunk.source, "")
        starts, ids = self._starts.get(key, ([], []))
        return ids[bisect_left(starts, chunk.start) : bisect_left(starts, chunk.end)]


def _key(chunk_id: str) -> str:
    return chunk_id.rsplit(":", 1)[0]


def _diverse(ranked: list[Passage], k: int) -> list[Passage]:
    """The top `k`, with no source taking more than half the places while others qualify.

    One long document that repeats the question's words must not crowd out the others:
    sources that disagree should all be in front of the answerer.
    """
    cap = max(2, k // 2)
    kept: list[Passage] = []
    held_back: list[Passage] = []
    per_source: dict[str, int] = {}
    for passage in ranked:
        source = passage.chunk.source
        if per_source.get(source, 0) < cap:
            per_source[source] = per_source.get(source, 0) + 1
            kept.append(passage)
        else:
            held_back.append(passage)
        if len(kept) == k:
            return kept
    return kept + held_back[: k - len(kept)]


def _rrf(rank: int | None) -> float:
    return 0.0 if rank is None else 1.0 / (RRF_K + rank)


def _cosine(a: list[float], b: list[float]) -> float:
    first, second = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    norm = float(np.linalg.norm(first) * np.linalg.norm(second))
    return float(first @ second) / norm if norm else 0.0
