"""The answering engine: settings in, cited answers out. The CLI and the web chat both use it.

corpus ──scan──> index (chunks + vectors in Chroma) ──retrieve──> passages ──answer──> Answer
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from langchain_core.embeddings import Embeddings

from bot.answers import Answer
from bot.conversation import standalone
from bot.errors import CorpusEmpty
from bot.extractive import ExtractiveAnswerer
from bot.questions import clean_question
from bot.retrieval import HybridRetriever, Passage
from bot.settings import Settings
from index.documents import scan_corpus
from index.embeddings import load_embedder, model_name
from index.indexing import IndexReport, Progress, update_index
from index.store import ChunkStore

logger = logging.getLogger(__name__)


def open_store(settings: Settings, embedder: Embeddings, *, rebuild: bool = False) -> ChunkStore:
    dim = int(getattr(embedder, "dim", 0)) or len(embedder.embed_query("dimension"))
    return ChunkStore.open(settings.chroma_dir, model_name(embedder), dim, rebuild=rebuild)


def refresh_index(
    settings: Settings, store: ChunkStore, embedder: Embeddings, progress: Progress | None = None
) -> IndexReport:
    """Bring the store in line with the corpus folder."""
    return update_index(scan_corpus(settings.corpus_dir), store, embedder, progress)


class Engine:
    """Retrieval and answering over one store, ready for many questions."""

    def __init__(self, settings: Settings, store: ChunkStore, embedder: Embeddings) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever = HybridRetriever(store, embedder)
        self.answerer = ExtractiveAnswerer(model_name(embedder), self.retriever)

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None) -> Engine:
        """Open the index, building it first when it holds nothing."""
        embedder = load_embedder(settings.embedding_model, settings.embedding_threads)
        store = open_store(settings, embedder)
        if store.count() == 0:
            logger.info("the index is empty: building it from %s", settings.corpus_dir)
            refresh_index(settings, store, embedder, progress)
            if store.count() == 0:
                raise CorpusEmpty(
                    f"There is no readable document in {settings.corpus_dir}: add .txt, .md, "
                    ".html or .pdf files there (or set PROCUREBOT_CORPUS_DIR) and run "
                    "`procurebot index`."
                )
        return cls(settings, store, embedder)

    def ask(self, raw_question: str, history: Sequence[str] = ()) -> Answer:
        """Answer one question, a follow-up of the earlier questions in `history` (oldest first).

        QuestionError when the question is empty once cleaned.
        """
        started = time.perf_counter()
        question = clean_question(raw_question, self.settings.max_question_chars)
        earlier = [
            clean_question(h, self.settings.max_question_chars).text for h in history if h.strip()
        ]
        query = standalone(question.text, earlier)
        retrieval = self.retriever.retrieve_with_sentences(query, self.settings.top_k)
        passages = retrieval.passages
        answer = self.answerer.answer(retrieval, self.settings.today or date.today())
        answer = replace(
            answer,
            question=question.text,
            rewritten_query=query,
            notices=question.notices + answer.notices,
            latency_ms=(time.perf_counter() - started) * 1000,
            retrieved=tuple(_retrieved(p) for p in passages),
        )
        logger.info(
            "answered: backend=%s latency=%.0fms passages=%d grounded=%s",
            answer.backend,
            answer.latency_ms,
            len(passages),
            answer.grounded,
        )
        return answer


def _retrieved(passage: Passage) -> dict[str, object]:
    chunk = passage.chunk
    return {
        "source": chunk.source,
        "chunk_id": chunk.id,
        "start": chunk.start,
        "end": chunk.end,
        "score": round(passage.score, 5),
        "similarity": round(passage.similarity, 4),
        "vector_rank": passage.vector_rank,
        "keyword_rank": passage.keyword_rank,
    }
