"""The answering engine: settings in, cited answers out. The CLI and the web chat both use it.

corpus ──scan──> index (chunks + vectors in Chroma) ──retrieve──> passages ──answer──> Answer
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date

from langchain_core.embeddings import Embeddings

from bot.answering.answers import Answer
from bot.answering.contract import Answerer, Unavailable
from bot.answering.extractive import ExtractiveAnswerer
from bot.answering.followups import standalone
from bot.answering.mistral import MistralAnswerer
from bot.answering.questions import Question, clean_question
from bot.answering.retrieval import HybridRetriever, Passage, Retrieval
from bot.errors import CatalogError, CorpusEmpty, DocumentError, MistralNotConfigured
from bot.settings import Settings
from index.chunking import version_key
from index.documents import CorpusScan, Indexed, scan_corpus
from index.embeddings import load_embedder, model_name
from index.indexing import IndexReport, Progress, update_index
from index.store import ChunkStore, StoredDocument

logger = logging.getLogger(__name__)

STALE_NAMED = 5  # stale files a notice names; the rest are counted


def open_store(settings: Settings, embedder: Embeddings, *, rebuild: bool = False) -> ChunkStore:
    dim = int(getattr(embedder, "dim", 0)) or len(embedder.embed_query("dimension"))
    return ChunkStore.open(settings.store_location, model_name(embedder), dim, rebuild=rebuild)


def scan_documents(
    settings: Settings, stored: dict[str, StoredDocument] | None = None
) -> CorpusScan:
    """The shipped corpus and the documents uploaded in the web app, as one scan; files whose
    version `stored` records as complete are not read (`scan_corpus`)."""
    indexed = {
        source: Indexed(d.sha256, d.stamp, d.catalog_key)
        for source, d in (stored or {}).items()
        if d.complete and d.key == version_key(source, d.sha256)
    }
    scans = [scan_corpus(settings.corpus_dir, indexed)]
    if settings.uploads_dir.is_dir():
        scans.append(scan_corpus(settings.uploads_dir, indexed))
    return CorpusScan(
        tuple(d for scan in scans for d in scan.documents),
        tuple(p for scan in scans for p in scan.problems),
        tuple(s for scan in scans for s in scan.unchanged),
        tuple(r for scan in scans for r in scan.restamped),
    )


def refresh_index(
    settings: Settings, store: ChunkStore, embedder: Embeddings, progress: Progress | None = None
) -> IndexReport:
    """Bring the store in line with the corpus folder and the uploads."""
    stored = store.stored_documents()
    scan = scan_documents(settings, stored)
    return update_index(scan, store, embedder, progress, settings.index_batch_texts, stored)


def fingerprint(documents: Iterable[StoredDocument]) -> str:
    """Identifies the indexed corpus: the SHA-256 of its sources and their files' SHA-256."""
    lines = sorted(f"{d.source}\0{d.sha256}" for d in documents)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


class Engine:
    """Retrieval and answering over one store, ready for many questions."""

    def __init__(self, settings: Settings, store: ChunkStore, embedder: Embeddings) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever = HybridRetriever(store, embedder)
        self._index_lock = threading.Lock()
        self._fingerprint = ""
        self.offline = ExtractiveAnswerer(model_name(embedder), self.retriever)
        self.answerer = self._chosen_answerer(settings)

    def _chosen_answerer(self, settings: Settings) -> Answerer:
        """The answerer the settings ask for: Mistral with a key (or when asked for), else
        the offline extractive one, which is also the fallback when Mistral is unavailable."""
        wants_mistral = settings.backend == "mistral" or (
            settings.backend == "auto" and settings.mistral_api_key is not None
        )
        if not wants_mistral:
            return self.offline
        if settings.mistral_api_key is None and settings.mistral_base_url is None:
            raise MistralNotConfigured(
                "No Mistral API key is set: set MISTRAL_API_KEY (or MISTRAL_BASE_URL for a "
                "self-hosted endpoint), or use the offline mode with "
                "PROCUREBOT_BACKEND=extractive."
            )
        return MistralAnswerer(settings, self.offline.supplements)

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None) -> Engine:
        """Open the index, building it first when it holds nothing."""
        embedder = load_embedder(settings.embedding_model, settings.embedding_threads)
        store = open_store(settings, embedder)
        if store.count() == 0:
            logger.info(
                "the index %s is empty: building it from %s",
                store.location.where,
                settings.corpus_dir,
            )
            refresh_index(settings, store, embedder, progress)
            if store.count() == 0:
                raise CorpusEmpty(
                    f"There is no readable document in {settings.corpus_dir}: add .txt, .md, "
                    ".html or .pdf files there (or set PROCUREBOT_CORPUS_DIR) and run "
                    "`procurebot index`."
                )
        return cls(settings, store, embedder)

    def reindex(self, progress: Progress | None = None) -> IndexReport:
        """Bring the index in line with the documents, then answer from the new index.

        One re-index at a time; questions asked meanwhile are answered from the index as it is.
        """
        with self._index_lock:
            return self._reindex_locked(progress)

    def _reindex_locked(self, progress: Progress | None) -> IndexReport:
        report = refresh_index(self.settings, self.store, self.embedder, progress)
        self.retriever.refresh()
        self._fingerprint = ""
        return report

    def documents(self) -> list[StoredDocument]:
        """The indexed documents, by source (those being written are not indexed yet)."""
        return [d for _, d in sorted(self.store.stored_documents().items()) if d.complete]

    def pending_changes(self) -> list[str]:
        """Sources whose file was added, changed or removed since the last indexing (or whose
        indexing was interrupted)."""
        return sorted(self._changes()[0])

    def corpus_state(self) -> tuple[list[str], list[tuple[str, str]]]:
        """`pending_changes`, and the files that cannot be read, each with its reason (an
        indexed one keeps its last readable version): what the Documents tab shows."""
        changes, problems = self._changes()
        return sorted(changes), problems

    def _changes(self) -> tuple[dict[str, int], list[tuple[str, str]]]:
        """Each pending change's source, with the characters of text it brings (0: removed),
        and the files that cannot be read (source, reason)."""
        stored = self.store.stored_documents()
        scan = scan_documents(self.settings, stored)
        unreadable = {p.path for p in scan.problems}
        changed = {d.source: len(d.text) for d in scan.documents}  # not the version stored
        current = set(changed) | set(scan.unchanged)
        gone = {s: 0 for s in stored if s not in current and s not in unreadable}
        return changed | gone, [(p.path, p.reason) for p in scan.problems]

    def freshen(self) -> tuple[str, ...]:
        """Before a question: take in what another process re-indexed, and what changed in the
        corpus since indexing (the files' stamps tell, a stat each): re-indexed first when it
        is at most `fresh_reindex_kb` of text (removals cost no embedding), otherwise a notice
        naming the stale files; files that cannot be read are named too (an indexed one is
        quoted as it last was). While another re-index runs, the index is used as it is; a
        corpus that cannot be checked (a wrong catalog.toml) gets a notice, not a refusal."""
        try:
            self.retriever.refresh()  # cheap unless records changed (their change counters)
            changes, problems = self._changes()
        except (CatalogError, DocumentError) as exc:
            return (f"The documents could not be checked for changes: {exc}",)
        notices = [
            f"{source} cannot be read ({reason}); "
            + (
                "answers quote its last readable version."
                if source in self._indexed()
                else "it is not indexed."
            )
            for source, reason in problems
        ]
        if not changes:
            return tuple(notices)
        quick = sum(changes.values()) <= self.settings.fresh_reindex_kb * 1000
        if quick and self._index_lock.acquire(blocking=False):
            try:
                self._reindex_locked(None)
            finally:
                self._index_lock.release()
            logger.info("re-indexed %d changed file(s) before answering", len(changes))
            return tuple(notices)
        names = ", ".join(sorted(changes)[:STALE_NAMED])
        more = f" and {len(changes) - STALE_NAMED} more" if len(changes) > STALE_NAMED else ""
        notices.append(
            f"Not indexed yet: {names}{more} (added, changed or removed since the index was "
            "built); this answer does not reflect them. Run `procurebot index` (or Re-index "
            "in the Documents tab)."
        )
        return tuple(notices)

    def _indexed(self) -> set[str]:
        return {d.source for d in self.documents()}

    @property
    def corpus_fingerprint(self) -> str:
        if not self._fingerprint:
            complete = [d for d in self.store.stored_documents().values() if d.complete]
            self._fingerprint = fingerprint(complete)
        return self._fingerprint

    def parameters(self) -> dict[str, object]:
        """What besides the model shapes an answer: recorded with every transcript turn."""
        settings = self.settings
        parameters: dict[str, object] = {
            "top_k": settings.top_k,
            "embedding_model": model_name(self.embedder),
            "today": (settings.today or date.today()).isoformat(),
        }
        if self.answerer is not self.offline:
            parameters.update(
                temperature=settings.temperature,
                seed=settings.seed,
                base_url=settings.mistral_base_url or "https://api.mistral.ai",
            )
        return parameters

    def ask(self, raw_question: str, history: Sequence[str] = ()) -> Answer:
        """Answer one question, a follow-up of the earlier questions in `history` (oldest first).

        QuestionError when the question is empty once cleaned.
        """
        started = time.perf_counter()
        question, retrieval = self.retrieve(raw_question, history)
        today = self.settings.today or date.today()
        try:
            answer = self.answerer.answer(retrieval, today)
        except Unavailable as exc:
            answer = self._offline_instead(retrieval, today, exc.reason)
        return self._finish(answer, question, retrieval, started)

    def ask_stream(self, raw_question: str, history: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Like `ask`, yielding the answer text as it is written, then the final Answer."""
        started = time.perf_counter()
        question, retrieval = self.retrieve(raw_question, history)
        today = self.settings.today or date.today()
        try:
            for item in self.answerer.stream(retrieval, today):
                if isinstance(item, Answer):
                    yield self._finish(item, question, retrieval, started)
                else:
                    yield item
        except Unavailable as exc:
            offline = self._offline_instead(retrieval, today, exc.reason)
            yield self._finish(offline, question, retrieval, started)

    def _offline_instead(self, retrieval: Retrieval, today: date, reason: str) -> Answer:
        """The extractive answer, with a notice saying why it replaces the chosen one."""
        logger.warning("%s answer replaced by the extractive one: %s", self.answerer.name, reason)
        offline = self.offline.answer(retrieval, today)
        return replace(offline, notices=(f"Offline extractive answer: {reason}.", *offline.notices))

    def retrieve(
        self, raw_question: str, history: Sequence[str], k: int | None = None
    ) -> tuple[Question, Retrieval]:
        """The cleaned question (with its notices) and what retrieval found for it: `k`
        passages (default PROCUREBOT_TOP_K). QuestionError when the question is empty."""
        limit = self.settings.max_question_chars
        question = clean_question(raw_question, limit)
        stale = self.freshen()
        question = replace(question, notices=question.notices + stale)
        earlier = [clean_question(h, limit).text for h in history if h.strip()]
        query = standalone(question.text, earlier, self.retriever.families)
        return question, self.retriever.retrieve_with_sentences(query, k or self.settings.top_k)

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
