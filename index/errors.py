"""Errors raised while loading, indexing and opening the store.

They share the root of the project's hierarchy, which `bot.errors` draws whole.
"""

from __future__ import annotations


class ProcurebotError(Exception):
    """Root of every error procurebot shows to a person; its message says what to do."""


class DocumentError(ProcurebotError):
    """A file in the corpus cannot be read as a document (binary, wrong encoding, empty, broken)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class CatalogError(ProcurebotError):
    """corpus/catalog.toml is not valid TOML or an entry has a wrong field."""


class StoreError(ProcurebotError):
    """The vector store cannot be opened or used."""


class StoreDamaged(StoreError):
    """The store's files are damaged or gone: `procurebot index --rebuild` builds it again."""


class StoreLocked(StoreError):
    """Another program holds the store's database locked: wait or close it, then try again."""


class StoreUnreachable(StoreError):
    """The Chroma server does not answer: start it, or point CHROMA_HOST/CHROMA_URL at it."""


class EmbeddingModelMismatch(StoreError):
    """The store was built with another embedding model than the one configured."""

    def __init__(self, stored: str, configured: str) -> None:
        super().__init__(
            f"The index was built with the embedding model {stored!r}, but {configured!r} is "
            "configured: run `procurebot index --rebuild` to rebuild it with the configured model."
        )
        self.stored = stored
        self.configured = configured


class EmbedderUnavailable(ProcurebotError):
    """The configured embedding model cannot be loaded on this machine."""
