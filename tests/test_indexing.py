"""Incremental indexing against a real Chroma store and the real embedding model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import open_store, refresh_index
from bot.settings import Settings
from index.chunking import chunk_document
from index.documents import scan_corpus
from index.embeddings import load_embedder
from index.errors import EmbeddingModelMismatch
from index.store import ChunkStore


@pytest.fixture(scope="module")
def embedder():  # one model load for the module
    return load_embedder("auto")


def _settings(tmp_path: Path, corpus: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dir=corpus)


@pytest.fixture
def indexed(tmp_path: Path, small_corpus: Path, embedder) -> tuple[Settings, ChunkStore]:
    """The small corpus, indexed once."""
    settings = _settings(tmp_path, small_corpus)
    store = open_store(settings, embedder)
    refresh_index(settings, store, embedder)
    return settings, store


def test_add_unchanged_modify_delete(tmp_path: Path, small_corpus: Path, embedder) -> None:
    settings = _settings(tmp_path, small_corpus)
    store = open_store(settings, embedder)

    first = refresh_index(settings, store, embedder)
    assert sorted(first.added) == ["corpus/alpha.md", "corpus/beta.txt", "corpus/vendor.txt"]
    assert first.chunks_embedded == first.chunks_total == store.count() > 3

    second = refresh_index(settings, store, embedder)
    assert second.chunks_embedded == 0
    assert sorted(second.unchanged) == sorted(first.added)
    assert not (second.added or second.updated or second.removed)

    (small_corpus / "beta.txt").write_text("Beta now runs on eight GPUs.\n", encoding="utf-8")
    third = refresh_index(settings, store, embedder)
    assert third.updated == ("corpus/beta.txt",)
    assert third.chunks_embedded == 1
    texts = [c.text for c in store.chunks() if c.source == "corpus/beta.txt"]
    assert texts == ["Beta now runs on eight GPUs."]
    sentences = [s.text for s, _ in store.sentences_of(["corpus/beta.txt"])]
    assert sentences == ["Beta now runs on eight GPUs."], "old sentences are gone"

    (small_corpus / "alpha.md").unlink()
    fourth = refresh_index(settings, store, embedder)
    assert fourth.removed == ("corpus/alpha.md",)
    assert fourth.chunks_embedded == 0
    assert all(c.source != "corpus/alpha.md" for c in store.chunks())
    assert store.sentences_of(["corpus/alpha.md"]) == []
    assert store.count() == first.chunks_total - 1  # alpha was one chunk; beta stayed one


def test_ids_are_stable_so_reindexing_never_duplicates(indexed, embedder) -> None:
    settings, store = indexed
    count = store.count()
    reopened = open_store(settings, embedder)
    refresh_index(settings, reopened, embedder)
    assert reopened.count() == count
    assert len({c.id for c in reopened.chunks()}) == count


def test_an_interrupted_run_is_repaired(tmp_path: Path, small_corpus: Path, embedder) -> None:
    settings = _settings(tmp_path, small_corpus)
    store = open_store(settings, embedder)
    vendor = next(d for d in scan_corpus(small_corpus).documents if d.source.endswith("vendor.txt"))
    chunks = chunk_document(vendor)
    assert len(chunks) > 1
    # as if killed after the first batch of one document was written
    store.add(chunks[:1], embedder.embed_documents([chunks[0].embedding_text()]))
    report = refresh_index(settings, store, embedder)
    assert "corpus/vendor.txt" in report.updated
    assert sorted(c.index for c in store.chunks() if c.source == "corpus/vendor.txt") == list(
        range(len(chunks))
    )


def test_an_unreadable_file_keeps_its_last_version(indexed, small_corpus: Path, embedder) -> None:
    settings, store = indexed
    before = store.count()
    (small_corpus / "beta.txt").write_bytes(b"\xff\xfe\x00binary now")
    report = refresh_index(settings, store, embedder)
    assert [source for source, _ in report.skipped] == ["corpus/beta.txt"]
    assert not report.removed
    assert store.count() == before


def test_a_store_built_with_another_model_names_the_rebuild_command(
    tmp_path: Path, small_corpus: Path, embedder
) -> None:
    path = tmp_path / "data" / "chroma"
    ChunkStore.open(path, "some-other-model", 384)
    with pytest.raises(EmbeddingModelMismatch, match="procurebot index --rebuild"):
        ChunkStore.open(path, embedder.name, embedder.dim)
    rebuilt = ChunkStore.open(path, embedder.name, embedder.dim, rebuild=True)
    assert rebuilt.embedding_model == embedder.name
