"""Errors procurebot shows to people. Each message says what to check or do.

ProcurebotError                 (index.errors) root; caught by the CLI and the UI only
├── DocumentError               (index.errors) a corpus file cannot be read
├── CatalogError                (index.errors) corpus/catalog.toml is wrong
├── EmbedderUnavailable         (index.errors) the embedding model cannot load here
├── StoreError                  (index.errors) the vector store cannot be opened or used
│   ├── StoreDamaged            (index.errors) damaged or removed: index --rebuild
│   ├── StoreLocked             (index.errors) another program holds it: wait, try again
│   ├── StoreUnreachable        (index.errors) the Chroma server does not answer
│   └── EmbeddingModelMismatch  (index.errors) built with another model: index --rebuild
├── QuestionError               a question that cannot be asked (empty, not text)
├── CorpusEmpty                 nothing to answer from: no readable document
├── ServerError                 the web app cannot listen on its address and port
├── MistralKeyRejected          the Mistral API refused the key (401/403)
├── MistralNotConfigured        the Mistral backend was chosen without a key or endpoint
├── TranscriptError             (bot.transcripts.types) the transcript database cannot be used
│   └── TranscriptNotFound      no such conversation or answer (or not the person's to see)
├── AccessError                 (bot.workspace.access) a wrong users file
│   └── NotAllowed              the person's role does not allow it
├── ExportError                 (bot.transcripts.exports) an unknown format or an unwritable folder
├── QuestionnaireError          (bot.questionnaires.types) a questionnaire file that cannot be read
└── QuestionnaireOutputError    (bot.questionnaires.types) the answered sheet cannot be written
"""

from __future__ import annotations

from index.errors import (
    CatalogError,
    DocumentError,
    EmbedderUnavailable,
    EmbeddingModelMismatch,
    ProcurebotError,
    StoreError,
)

__all__ = [
    "CatalogError",
    "CorpusEmpty",
    "DocumentError",
    "EmbedderUnavailable",
    "EmbeddingModelMismatch",
    "MistralKeyRejected",
    "MistralNotConfigured",
    "ProcurebotError",
    "QuestionError",
    "ServerError",
    "StoreError",
]


class QuestionError(ProcurebotError):
    """The question is empty once cleaned, or is not text."""


class CorpusEmpty(ProcurebotError):
    """The index holds no chunk and the corpus has no readable document."""


class ServerError(ProcurebotError):
    """The web chat cannot start on the requested address and port."""


class MistralKeyRejected(ProcurebotError):
    """The Mistral API answered 401 or 403 to the configured key."""


class MistralNotConfigured(ProcurebotError):
    """PROCUREBOT_BACKEND=mistral without MISTRAL_API_KEY or MISTRAL_BASE_URL."""
