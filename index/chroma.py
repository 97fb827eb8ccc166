"""The store's Chroma collections: the client that reaches them, and how they are made and dropped.

`Collections` holds the three collections of one client (chunks, sentences, document records),
made when missing with the metadata that names their embedding model and the entries' layout;
`checked_collections` opens them for a store, emptying one of an older layout and refusing one
of another embedding model. The client is a PersistentClient of a folder on this machine or an
HttpClient of a Chroma server (its waits bounded by `index.store_server`); either way Chroma's
failures become StoreError messages (`translated`). chromadb is imported only inside the
functions that need it. This is the only module that opens a store; the rest of procurebot
uses a store through `index.store.ChunkStore`.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index import store_files, store_server
from index.errors import EmbeddingModelMismatch, StoreDamaged, StoreError
from index.location import ChromaFolder, ChromaServer, StoreLocation

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

logger = logging.getLogger(__name__)

COLLECTION = "procurebot_chunks"
SENTENCES = "procurebot_sentences"
DOCUMENTS = "procurebot_documents"
LAYOUT = 2  # 2: document records; a store of another layout is emptied and built again


@dataclass(frozen=True)
class Collections:
    """The store's collections, of one client: the chunks (searched) and sentences (read by
    id), with their vectors, and one record per document (`index.records`)."""

    chunks: Collection
    sentences: Collection
    documents: Collection

    @property
    def each(self) -> tuple[Collection, Collection, Collection]:
        """The three collections: chunks, sentences, documents."""
        return self.chunks, self.sentences, self.documents

    @property
    def embedded(self) -> tuple[Collection, Collection]:
        """The collections whose vectors the embedding model made: chunks and sentences."""
        return self.chunks, self.sentences


def checked_collections(location: StoreLocation, embedding_model: str, dim: int) -> Collections:
    """The store's collections at `location`, made if missing, for vectors of `embedding_model`.

    A store of another layout is emptied, to be built again from the documents. Each
    collection's vector index is loaded, so that damage shows now and not at a question, and
    a store of another embedding model is refused (EmbeddingModelMismatch).
    """
    with translated(location, opening=True):
        collections = open_collections(location, embedding_model, dim)
        if (collections.chunks.metadata or {}).get("layout") != LAYOUT:
            logger.warning(
                "the index %s was made by an earlier procurebot: it is emptied and built "
                "again from the documents",
                location.where,
            )
            drop_collections(location)
            collections = open_collections(location, embedding_model, dim)
        for opened in collections.each:  # damage shows now, not at a question
            if opened.count():  # loads the vector index; a vector is read from it
                opened.get(limit=1, include=["embeddings"])
    for opened in collections.embedded:
        stored = (opened.metadata or {}).get("embedding_model")
        if stored != embedding_model:
            raise EmbeddingModelMismatch(str(stored), embedding_model)
    return collections


def open_collections(location: StoreLocation, embedding_model: str, dim: int) -> Collections:
    """The chunks, sentences and document records collections, made if missing."""
    chroma = client(location)
    vectors = {"embedding_model": embedding_model, "dim": dim, "layout": LAYOUT}
    chunks, sentences, documents = (
        chroma.get_or_create_collection(
            name,
            embedding_function=None,
            metadata=metadata,
            configuration={"hnsw": {"space": "cosine"}},
        )
        for name, metadata in (
            (COLLECTION, vectors),
            (SENTENCES, vectors),
            (DOCUMENTS, {"layout": LAYOUT}),
        )
    )
    return Collections(chunks, sentences, documents)


def client(location: StoreLocation) -> ClientAPI:
    """A Chroma client of the store's home; Chroma's product telemetry off."""
    import chromadb
    from chromadb.config import Settings

    if isinstance(location, ChromaServer):
        store_server.check_reachable(location)
        http = chromadb.HttpClient(
            host=location.host,
            port=location.port,
            ssl=location.ssl,
            settings=Settings(
                anonymized_telemetry=False,
                chroma_server_host=location.host,  # not CHROMA_SERVER_HOST from the environment
                chroma_server_http_port=location.port,
            ),
        )
        store_server.limit_waits(http)
        return http
    location.path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(
        path=str(location.path), settings=Settings(anonymized_telemetry=False)
    )


def translated(location: StoreLocation, *, opening: bool = False) -> AbstractContextManager[None]:
    """Chroma's failures at `location` as StoreError messages that say what to do."""
    if isinstance(location, ChromaServer):
        return store_server.translated(location, opening=opening)
    return store_files.translated(location.path, opening=opening)


def collection_gone(exc: StoreError) -> bool:
    """The error says a collection this store holds was deleted (`index --rebuild` elsewhere)."""
    from chromadb.errors import NotFoundError

    return isinstance(exc.__cause__, NotFoundError) or "does not exist" in str(exc)


def empty(location: StoreLocation) -> Path | None:
    """Drop the collections; a folder too damaged for that is moved aside. Where to, if so."""
    if isinstance(location, ChromaFolder):
        if not location.path.exists():
            return None
        try:
            store_files.check_files(location.path)
            drop_collections(location)
        except StoreDamaged as exc:
            return store_files.move_aside(location.path, exc)
        return None
    drop_collections(location)
    return None


def drop_collections(location: StoreLocation) -> None:
    """Delete the store's collections at `location`, those that exist."""
    with translated(location, opening=True):
        chroma = client(location)
        existing = {c.name for c in chroma.list_collections()}
        for name in (COLLECTION, SENTENCES, DOCUMENTS):
            if name in existing:
                chroma.delete_collection(name)
