"""Hybrid retrieval: Chroma's nearest vectors and BM25 keyword matches, fused by reciprocal rank.

Vectors find passages that mean the same in other words or other languages; keywords find
exact names, version numbers and prices ("mistral-medium-2312", "$0.40") that embeddings blur.
Reciprocal rank fusion (Cormack et al., 2009) combines the two rankings without having to
calibrate their scores against each other.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.answering.calibration import Gates, Probe, calibrate, reference_probes
from bot.answering.facts.entities import Aliases, Families
from bot.answering.in_memory import LoadedIndex
from bot.answering.keywords import query_terms
from bot.answering.questions import question_parts
from index.chunking import Chunk
from index.store import ChunkStore, StoredSentence

logger = logging.getLogger(__name__)

RRF_K = 60  # the constant of reciprocal rank fusion; 60 is the published default
CANDIDATES = 20  # how deep each ranking is read before fusion
PART_PASSAGES = 4  # passages retrieved for each part of a question that asks several things


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
    """What retrieval found for one question; `parts` holds the things it asks when it asks
    more than one (each was retrieved for too)."""

    question: str
    vector: list[float]
    passages: list[Passage]
    candidates: list[Candidate]
    parts: tuple[str, ...] = ()


class HybridRetriever:
    """Retrieves passages from the store, with what it holds of it in memory (`LoadedIndex`)."""

    def __init__(self, store: ChunkStore, embedder: Embeddings) -> None:
        self._store = store
        self._embedder = embedder
        self._loaded = LoadedIndex()
        self._gates: Gates | None = None
        self._gates_lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Take in what changed in the store: only the documents re-indexed since."""
        loaded, dropped = self._loaded.sync(self._store)
        logger.info("retriever: %d document(s) loaded, %d dropped", loaded, dropped)
        if loaded or dropped:
            self._gates = None

    @property
    def gates(self) -> Gates:
        """The relevance gates for this embedding model and corpus (`bot.answering.calibration`),
        derived on first use and again after the corpus changed."""
        with self._gates_lock:
            if self._gates is None:
                with self._loaded.lock:
                    languages = self._loaded.languages
                self._gates = calibrate(self.probe, reference=reference_probes(languages))
                logger.info(
                    "relevance gates (leads over off-domain probes): "
                    "domain %+.4f, passage %+.4f, unit %+.4f",
                    self._gates.domain,
                    self._gates.passage,
                    self._gates.unit,
                )
            return self._gates

    def probe(self, question: str, k: int = 8) -> Probe:
        """What a question reaches: cosine with the nearest document centroid, with the best
        passage and with the best unit."""
        retrieval = self.retrieve_with_sentences(question, k)
        vector = np.asarray(retrieval.vector, dtype=np.float64)
        units = [float(vector @ np.asarray(c.vector)) for c in retrieval.candidates]
        return Probe(
            question=question,
            vector=tuple(retrieval.vector),
            domain=self.domain_similarity(retrieval.vector),
            passage=max((p.similarity for p in retrieval.passages), default=0.0),
            unit=max(units, default=0.0),
        )

    def term_share(self, term: str) -> float:
        """The share of the corpus's chunks that hold the keyword term (0: none does)."""
        with self._loaded.lock:
            return self._loaded.keywords.share(term)

    @property
    def aliases(self) -> Aliases:
        with self._loaded.lock:
            return self._loaded.aliases

    @property
    def families(self) -> Families:
        """The product families the documents name (`bot.answering.facts.entities`)."""
        with self._loaded.lock:
            return self._loaded.families

    def domain_similarity(self, vector: list[float]) -> float:
        """How close a question is to the subject of the corpus's documents: the cosine with
        the nearest document centroid (the mean of a document's chunks), so that a team's own
        document on another subject is as much the corpus as the documents around it."""
        with self._loaded.lock:
            centroids = self._loaded.centroids
        if not centroids.size:
            return 0.0
        query = np.asarray(vector, dtype=np.float64)
        norm = float(np.linalg.norm(query))
        return float((centroids @ query).max()) / norm if norm else 0.0

    def idf(self, term: str) -> float:
        """How rare a keyword term is in the corpus; terms the corpus lacks weigh the most."""
        with self._loaded.lock:
            return self._loaded.keywords.idf_of(term)

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
        """The passages and every indexed unit that lies in them. A question that asks several
        things gets the `k` best passages for the whole and, for each part, its PART_PASSAGES
        best by keywords, so that the second half of "When does it retire, and what replaces
        it?" has its passages too."""
        vector = self.embed_question(question)
        passages = self.retrieve(question, k, vector)
        parts = tuple(question_parts(question))
        if len(parts) > 1:  # each part's best passages by keywords (embedding each costs)
            held = {p.chunk.id for p in passages}
            extra: list[Chunk] = []
            for part in parts:
                for chunk in self.keyword_search(part, PART_PASSAGES):
                    if chunk.id not in held:
                        held.add(chunk.id)
                        extra.append(chunk)
            similarity = self.similarities(vector, extra) if extra else {}
            passages += [Passage(c, 0.0, similarity.get(c.id, 0.0), None, None) for c in extra]
        return Retrieval(question, vector, passages, self.candidates(passages), parts)

    def candidates(self, passages: list[Passage]) -> list[Candidate]:
        with self._loaded.lock:
            ids = [i for p in passages for i in self._loaded.sentences.inside(p.chunk)]
        stored = self._store.sentences(list(dict.fromkeys(ids)))
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
        """The `k` chunks best by BM25, ties in corpus order."""
        query = query_terms(question)
        if not query:
            return []
        with self._loaded.lock:
            found = [
                (score, self._loaded.chunk(position))
                for position, score in self._loaded.keywords.top(query, k)
            ]
        ranked = sorted(
            ((score, chunk) for score, chunk in found if chunk is not None),
            key=lambda hit: (-hit[0], hit[1].source, hit[1].index),
        )
        return [chunk for _, chunk in ranked[:k]]

    def similarities(self, vector: list[float], chunks: list[Chunk]) -> dict[str, float]:
        """Cosine similarity for keyword-only hits, from their stored vectors."""
        stored = self._store.vectors([chunk.id for chunk in chunks])
        return {cid: _cosine(vector, other) for cid, other in stored.items()}


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
