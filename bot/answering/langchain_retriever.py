"""procurebot's index as a LangChain retriever, for a team's own chains.

    from bot.answering.langchain_retriever import ProcurebotRetriever

    retriever = ProcurebotRetriever.open()  # the settings of `procurebot ask` (PROCUREBOT_*)
    documents = retriever.invoke("Which clouds offer the model?")

Each `Document` is one retrieved passage, best first, as procurebot's own answerers get it:
hybrid retrieval (Chroma vectors and BM25 keywords fused by reciprocal rank), the question
cleaned and checked as `procurebot ask` does (QuestionError when it is empty), the index
freshened when documents changed. `page_content` is the passage exactly as the file holds it
at `metadata["span"]`, so a chain can cite it the way procurebot does:

    source      the file, relative to the corpus's parent ("corpus/pricing.md")
    span        [start, end]: character offsets, file_text[start:end] == page_content
    title, kind the document's catalog entry (kind: "pricing", "vendor-docs", …)
    date        ISO, as precise as the document says it ("2025-05", "2025-05-07"), or None
    heading     the heading path above the passage ("" when none)
    sha256      of the file's bytes: which version of the document was quoted
    language    the passage's language code
    score       the fused reciprocal-rank score (higher is better; only an order)
    similarity  cosine of the question's and the passage's embeddings
    notices     what a person should know about this retrieval: the question was cut to
                PROCUREBOT_MAX_QUESTION_CHARS, files changed since the index was built, …

Retrieval always returns the nearest passages: whether they answer the question (the
relevance gates of `bot.answering.calibration`) is the answerers' decision, not made here.
`k` (at least 1) passages are returned per question; without it, PROCUREBOT_TOP_K, and for a
question that asks several things a few more after them, the best for each part.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from bot.answering.engine import Engine
from bot.answering.retrieval import Passage
from bot.settings import Settings


class ProcurebotRetriever(BaseRetriever):
    """The passages procurebot retrieves for a question, as cited LangChain Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Engine
    k: int | None = Field(default=None, ge=1)  # passages per question; None: PROCUREBOT_TOP_K

    @classmethod
    def open(cls, settings: Settings | None = None, **fields: Any) -> ProcurebotRetriever:
        """Open the index of `settings` (default: read from the environment, as the CLI does),
        building it first when it holds nothing. Errors are procurebot's (`bot.errors`)."""
        return cls(engine=Engine.open(settings or Settings()), **fields)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        question, retrieval = self.engine.retrieve(query, (), self.k)
        passages = retrieval.passages[: self.k or len(retrieval.passages)]
        return [as_document(passage, question.notices) for passage in passages]


def as_document(passage: Passage, notices: tuple[str, ...] = ()) -> Document:
    """A retrieved passage as a LangChain Document (its metadata: the module's docstring)."""
    chunk = passage.chunk
    return Document(
        id=chunk.id,
        page_content=chunk.text,
        metadata={
            "source": chunk.source,
            "span": [chunk.start, chunk.end],
            "title": chunk.title,
            "kind": chunk.kind,
            "date": chunk.date,
            "heading": chunk.heading,
            "sha256": chunk.sha256,
            "language": chunk.language,
            "score": passage.score,
            "similarity": passage.similarity,
            "notices": list(notices),
        },
    )
