"""The answering engine: settings in, cited answers out. The CLI and the web chat both use it.

corpus ──scan──> index (chunks + vectors in Chroma) ──retrieve──> passages ──answer──> Answer
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date

from langchain_core.embeddings import Embeddings

from bot.answers import Answer
from bot.conversation import standalone
from bot.errors import CorpusEmpty, MistralNotConfigured
from bot.extractive import ExtractiveAnswerer
from bot.mistral import MistralAnswerer
from bot.questions import Question, clean_question
from bot.retrieval import HybridRetriever, Passage, Retrieval
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
        self.offline = ExtractiveAnswerer(model_name(embedder), self.retriever)
        self.answerer: ExtractiveAnswerer | MistralAnswerer = self.offline
        if settings.backend == "mistral" or (
            settings.backend == "auto" and settings.mistral_api_key is not None
        ):
            if settings.mistral_api_key is None and settings.mistral_base_url is None:
                raise MistralNotConfigured(
                    "No Mistral API key is set: set MISTRAL_API_KEY (or MISTRAL_BASE_URL for a "
                    "self-hosted endpoint), or use the offline mode with "
                    "PROCUREBOT_BACKEND=extractive."
                )
            self.answerer = MistralAnswerer(settings, self.offline)

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
        question, retrieval = self._retrieve(raw_question, history)
        answer = self.answerer.answer(retrieval, self.settings.today or date.today())
        return self._finish(answer, question, retrieval, started)

    def ask_stream(self, raw_question: str, history: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Like `ask`, yielding the answer text as it is written, then the final Answer."""
        started = time.perf_counter()
        question, retrieval = self._retrieve(raw_question, history)
        today = self.settings.today or date.today()
        if isinstance(self.answerer, MistralAnswerer):
            for item in self.answerer.stream(retrieval, today):
                if isinstance(item, Answer):
                    yield self._finish(item, question, retrieval, started)
                else:
                    yield item
        else:
            yield self._finish(self.answerer.answer(retrieval, today), question, retrieval, started)

    def _retrieve(self, raw_question: str, history: Sequence[str]) -> tuple[Question, Retrieval]:
        limit = self.settings.max_question_chars
        question = clean_question(raw_question, limit)
        earlier = [clean_question(h, limit).text for h in history if h.strip()]
        query = standalone(question.text, earlier)
        return question, self.retriever.retrieve_with_sentences(query, self.settings.top_k)

    def _finish(
        self, answer: Answer, question: Question, retrieval: Retrieval, started: float
    ) -> Answer:
        answer = replace(
            answer,
            question=question.text,
            rewritten_query=retrieval.question,
            notices=question.notices + answer.notices,
            latency_ms=(time.perf_counter() - started) * 1000,
            retrieved=tuple(_retrieved(p) for p in retrieval.passages),
        )
        logger.info(
            "answered: backend=%s latency=%.0fms passages=%d grounded=%s",
            answer.backend,
            answer.latency_ms,
            len(retrieval.passages),
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
