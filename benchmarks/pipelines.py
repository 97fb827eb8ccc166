"""procurebot and three plain baselines, run side by side over the golden set.

- procurebot: hybrid retrieval (BM25 + vectors, reciprocal rank fusion, source diversity),
  follow-up rewriting, then the offline extractive answer.
- bm25: BM25 alone over procurebot's chunks (its top 8).
- vectors: Chroma's nearest vectors alone over procurebot's chunks (its top 8).
- langchain: the plain LangChain tutorial pipeline, `RecursiveCharacterTextSplitter(1000, 200)`
  + `langchain_chroma.Chroma` + the same embedding model, `as_retriever(k=4)`.

Every pipeline's passages go through the same extractive answerer, so fact recall compares
what each retrieval puts in front of it, and latency is question in, answer out (retrieval
alone is timed too), timed with the pipelines taking turns on each question.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.measure import summary_ms
from bot.answering.answers import Answer
from bot.answering.engine import Engine
from bot.answering.retrieval import Passage, Retrieval
from bot.evaluation.golden import Case, evaluate
from index.chunking import Chunk

Retrieve = Callable[[str, tuple[str, ...]], Retrieval]


@dataclass(frozen=True)
class PipelineResult:
    name: str
    description: str
    hit_at_5: float
    mrr: float
    fact_recall: float
    retrieval: dict[str, float]  # p50_ms, p95_ms over the golden questions
    answer: dict[str, float]


def procurebot(engine: Engine) -> Retrieve:
    def retrieve(question: str, history: tuple[str, ...]) -> Retrieval:
        return engine.retrieve(question, history)[1]

    return retrieve


def bm25_only(engine: Engine) -> Retrieve:
    retriever = engine.retriever
    k = engine.settings.top_k

    def retrieve(question: str, history: tuple[str, ...]) -> Retrieval:
        vector = retriever.embed_question(question)  # the answerer needs it; BM25 does not
        found = retriever.keyword_search(question, k)
        similar = retriever.similarities(vector, found)
        passages = [
            Passage(chunk, 1 / rank, similar.get(chunk.id, 0.0), None, rank)
            for rank, chunk in enumerate(found, start=1)
        ]
        return Retrieval(question, vector, passages, retriever.candidates(passages))

    return retrieve


def vectors_only(engine: Engine) -> Retrieve:
    retriever = engine.retriever
    k = engine.settings.top_k

    def retrieve(question: str, history: tuple[str, ...]) -> Retrieval:
        vector = retriever.embed_question(question)
        found = engine.store.search(vector, k)
        passages = [
            Passage(chunk, similarity, similarity, rank, None)
            for rank, (chunk, similarity) in enumerate(found, start=1)
        ]
        return Retrieval(question, vector, passages, retriever.candidates(passages))

    return retrieve


def langchain_tutorial(engine: Engine, folder: Path) -> Retrieve:
    """The tutorial pipeline over the same documents, in its own Chroma store in `folder`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document as LCDocument
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from bot.answering.engine import scan_documents

    documents = scan_documents(engine.settings).documents
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=1000, chunk_overlap=200, add_start_index=True
    )
    splits = splitter.split_documents(
        [
            LCDocument(d.text, metadata={"source": d.source, "title": d.title, "kind": d.kind})
            for d in documents
        ]
    )
    client = chromadb.PersistentClient(
        path=str(folder), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = Chroma.from_documents(
        splits, engine.embedder, client=client, collection_name="tutorial"
    )
    retriever = store.as_retriever(search_kwargs={"k": 4})
    by_source = {d.source: d for d in documents}

    def retrieve(question: str, history: tuple[str, ...]) -> Retrieval:
        found = retriever.invoke(question)
        vector = engine.retriever.embed_question(question)  # for the answerer, as above
        passages = [
            Passage(_chunk(doc, rank, by_source), 1 / rank, 0.0, rank, None)
            for rank, doc in enumerate(found, start=1)
        ]
        stored = store.get(ids=[str(doc.id) for doc in found], include=["embeddings"])
        similar = dict(zip(stored["ids"], _cosines(vector, stored["embeddings"]), strict=True))
        passages = [
            replace(p, similarity=similar.get(doc.id, 0.0))
            for p, doc in zip(passages, found, strict=True)
        ]
        return Retrieval(question, vector, passages, engine.retriever.candidates(passages))

    return retrieve


def _cosines(vector: list[float], others: Any) -> list[float]:
    import numpy as np

    matrix = np.asarray(others, dtype=np.float64).reshape(-1, len(vector))
    query = np.asarray(vector, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(query)
    return [float(x) for x in (matrix @ query) / np.where(norms == 0, 1, norms)]


def _chunk(doc: Any, rank: int, by_source: dict[str, Any]) -> Chunk:
    source = str(doc.metadata["source"])
    start = int(doc.metadata["start_index"])
    document = by_source[source]
    return Chunk(
        id=f"tutorial:{source}:{start}",
        source=source,
        index=rank,
        start=start,
        end=start + len(doc.page_content),
        text=doc.page_content,
        heading="",
        title=document.title,
        kind=document.kind,
        date=document.date,
        language=document.language,
        sha256=document.sha256,
        n_chunks=0,
    )


def run(
    retrievers: dict[str, Retrieve], engine: Engine, cases: list[Case], root: Path
) -> list[PipelineResult]:
    """Quality over the golden set, pipeline by pipeline; then warm latency of retrieval and of
    the whole answer, question by question with every pipeline in turn (in an order that
    rotates), so that a slow moment of the machine falls on all pipelines alike."""
    today = engine.settings.today or date.today()

    def answerer(retrieve: Retrieve) -> Callable[[str, tuple[str, ...]], Answer]:
        def ask(question: str, history: tuple[str, ...]) -> Answer:
            retrieval = retrieve(question, history)
            answer = engine.offline.answer(retrieval, today)
            return replace(
                answer,
                retrieved=tuple({"source": p.chunk.source} for p in retrieval.passages),
            )

        return ask

    asks = {name: answerer(retrieve) for name, retrieve in retrievers.items()}
    for ask in asks.values():
        for case in cases[:5]:  # warm: first calls fill caches and load native code
            ask(case.question, case.history)
    reports = {name: evaluate(cases, ask, root, name, "") for name, ask in asks.items()}
    names = list(retrievers)
    retrieval_seconds: dict[str, list[float]] = {name: [] for name in names}
    answer_seconds: dict[str, list[float]] = {name: [] for name in names}
    for turn, case in enumerate(cases):
        first = turn % len(names)
        for name in names[first:] + names[:first]:
            started = time.perf_counter()
            retrievers[name](case.question, case.history)
            retrieval_seconds[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            asks[name](case.question, case.history)
            answer_seconds[name].append(time.perf_counter() - started)
    return [
        PipelineResult(
            name=name,
            description=PIPELINES[name],
            hit_at_5=round(reports[name].metrics["hit_at_5"], 3),
            mrr=round(reports[name].metrics["mrr"], 3),
            fact_recall=round(reports[name].metrics["fact_recall"], 3),
            retrieval=summary_ms(retrieval_seconds[name]),
            answer=summary_ms(answer_seconds[name]),
        )
        for name in names
    ]


PIPELINES = {
    "procurebot": "hybrid BM25 + vectors (RRF), follow-ups rewritten, top 8",
    "bm25": "BM25 only over procurebot's chunks, top 8",
    "vectors": "Chroma vectors only over procurebot's chunks, top 8",
    "langchain": "LangChain tutorial: RecursiveCharacterTextSplitter(1000, 200) + Chroma, top 4",
}
