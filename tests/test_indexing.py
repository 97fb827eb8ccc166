"""Incremental indexing against a real Chroma store and the real embedding model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chromadb.api.models.Collection import Collection

from bot.answering.engine import Engine, open_store, refresh_index
from bot.answering.retrieval import Passage
from bot.settings import Settings
from index import catalog as index_catalog
from index import chroma as index_chroma
from index import documents as index_documents
from index import records as index_records
from index import store as index_store
from index.chunking import chunk_document, document_key
from index.documents import Document, scan_corpus
from index.embeddings import load_embedder
from index.errors import EmbeddingModelMismatch
from index.location import ChromaFolder
from index.store import ChunkStore, StoredDocument, StoredSentence


def _sentences_of(store: ChunkStore, source: str) -> list[tuple[StoredSentence, list[float]]]:
    return store.sentences(store.sentence_ids([source]))


def _sentence_sources(store: ChunkStore) -> dict[str, str]:
    """Every sentence entry in the store, read whole: its id and its document's source."""
    got = store._collections.sentences.get(include=["metadatas"])
    return {i: str(meta["source"]) for i, meta in zip(got["ids"], got["metadatas"], strict=True)}


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
    sentences = [s.text for s, _ in _sentences_of(store, "corpus/beta.txt")]
    assert sentences == ["Beta now runs on eight GPUs."], "old sentences are gone"

    (small_corpus / "alpha.md").unlink()
    fourth = refresh_index(settings, store, embedder)
    assert fourth.removed == ("corpus/alpha.md",)
    assert fourth.chunks_embedded == 0
    assert all(c.source != "corpus/alpha.md" for c in store.chunks())
    assert _sentences_of(store, "corpus/alpha.md") == []
    assert store.count() == first.chunks_total - 1  # alpha was one chunk; beta stayed one


def test_a_passage_reads_only_the_sentences_inside_it(engine: Engine) -> None:
    """Sentences are found by their ids' spans and read by id, not by a metadata filter."""
    store, retriever = engine.store, engine.retriever
    everything = store.sentences(store.sentence_ids(sorted(store.stored_documents())))
    for chunk in store.chunks()[::7]:
        passage = Passage(chunk, 1.0, 1.0, 1, None)
        found = {(c.sentence.source, c.sentence.start) for c in retriever.candidates([passage])}
        inside = {
            (s.source, s.start)
            for s, _ in everything
            if s.source == chunk.source and chunk.start <= s.start < chunk.end
        }
        assert found == inside and inside
    assert retriever.candidates([]) == []


def test_whole_collections_are_read_a_page_at_a_time(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chroma fails on one read of more than about 32,000 entries; pages give the same."""

    def everything(store: ChunkStore) -> tuple[object, ...]:
        sources = sorted(store.stored_documents())
        return store.stored_documents(), store.sentence_ids(sources), store.chunks()

    whole = everything(engine.store)
    assert len(whole[0]) > 2 and len(whole[1]) > 7 and len(whole[2]) > 7
    monkeypatch.setattr(index_records, "READ_PAGE", 2)
    monkeypatch.setattr(index_store, "READ_IDS", 7)
    monkeypatch.setattr(index_store, "SOURCES_PER_CALL", 1)
    # opened again, so that the records are read from the store, not from memory
    assert everything(open_store(engine.settings, engine.embedder)) == whole


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
    store.begin_writing([StoredDocument(vendor.source, vendor.sha256, document_key(vendor), 0)])
    store.add(chunks[:1], embedder.embed_documents([chunks[0].embedding_text()]))
    report = refresh_index(settings, store, embedder)
    assert "corpus/vendor.txt" in report.updated
    assert report.notes == ("finished 1 document(s) left half-written by an interrupted run",)
    assert sorted(c.index for c in store.chunks() if c.source == "corpus/vendor.txt") == list(
        range(len(chunks))
    )


def _consistent(store: ChunkStore, small_corpus: Path) -> None:
    """Every document complete at its current version; each sentence of such a version."""
    documents = scan_corpus(small_corpus).documents
    stored = store.stored_documents()
    assert {d.source: document_key(d) for d in documents} == {
        source: d.key for source, d in stored.items() if d.complete
    }
    keys = {source: d.key for source, d in stored.items()}
    sentences = _sentence_sources(store)
    assert sentences, "the sentences were written"
    assert all(keys.get(source) == sid.rsplit(":", 1)[0] for sid, source in sentences.items())


def test_a_crash_between_sentences_and_chunks_is_repaired(
    tmp_path: Path, small_corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, small_corpus)
    store = open_store(settings, embedder)
    refresh_index(settings, store, embedder)
    (small_corpus / "vendor.txt").write_text("Vendor now sells one plan at $9.\n", "utf-8")
    (small_corpus / "gamma.md").write_text("# Gamma\n\nGamma runs on one GPU.\n", "utf-8")
    real_add = store.add

    def killed(chunks, vectors) -> None:
        monkeypatch.setattr(store, "add", real_add)
        raise KeyboardInterrupt  # as if killed once the first document's sentences are written

    monkeypatch.setattr(store, "add", killed)
    with pytest.raises(KeyboardInterrupt):
        refresh_index(settings, store, embedder)
    report = refresh_index(settings, store, embedder)
    assert {"corpus/gamma.md", "corpus/vendor.txt"} <= {*report.added, *report.updated}
    _consistent(store, small_corpus)


def test_sentences_of_a_removed_file_left_by_a_crash_are_removed(
    indexed, small_corpus: Path, embedder
) -> None:
    settings, store = indexed
    sentences = _sentences_of(store, "corpus/alpha.md")
    assert sentences
    # as if killed after a removed file's chunks were deleted, before its sentences were
    alpha = store.stored_documents()["corpus/alpha.md"]
    store.begin_writing([alpha])
    store._collections.chunks.delete(where={"source": "corpus/alpha.md"})
    (small_corpus / "alpha.md").unlink()
    report = refresh_index(settings, store, embedder)
    assert report.removed == ("corpus/alpha.md",)
    assert report.notes == ("finished 1 document(s) left half-written by an interrupted run",)
    assert _sentences_of(store, "corpus/alpha.md") == []
    assert all(not sid.startswith(alpha.key) for sid in _sentence_sources(store))
    assert "corpus/alpha.md" not in store.stored_documents()
    _consistent(store, small_corpus)


def test_a_file_restored_after_a_killed_removal_is_indexed_again(
    indexed, small_corpus: Path, embedder
) -> None:
    """A record marked "writing" is never taken as complete, whatever its version."""
    settings, store = indexed
    alpha = store.stored_documents()["corpus/alpha.md"]
    text = (small_corpus / "alpha.md").read_text(encoding="utf-8")
    store.begin_writing([alpha])  # as if killed while removing alpha.md's entries
    store._collections.chunks.delete(where={"source": "corpus/alpha.md"})
    (small_corpus / "alpha.md").write_text(text, encoding="utf-8")  # the same bytes again
    report = refresh_index(settings, store, embedder)
    assert report.updated == ("corpus/alpha.md",)
    assert [c.text for c in store.chunks() if c.source == "corpus/alpha.md"]
    _consistent(store, small_corpus)


def test_unchanged_files_are_hashed_not_read_as_documents(
    indexed, small_corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a run reads grows with what changed: an unchanged file is only hashed."""
    settings, store = indexed
    read: list[str] = []
    real = index_documents.read_document

    def counted(path: Path, *args: object) -> Document:
        read.append(path.name)
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(index_documents, "read_document", counted)
    assert refresh_index(settings, store, embedder).chunks_embedded == 0
    assert read == []
    (small_corpus / "beta.txt").write_text("Beta now runs on one GPU.\n", encoding="utf-8")
    report = refresh_index(settings, store, embedder)
    assert read == ["beta.txt"] and report.updated == ("corpus/beta.txt",)
    assert sorted(report.unchanged) == ["corpus/alpha.md", "corpus/vendor.txt"]


class _Opened:
    """Counts the files a scan opens."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        real = index_documents._read_bytes

        def counted(path: Path, relative: str, size: int) -> bytes:
            self.names.append(path.name)
            return real(path, relative, size)

        monkeypatch.setattr(index_documents, "_read_bytes", counted)


def test_files_whose_stamp_is_recorded_are_not_opened(
    tmp_path: Path, small_corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_documents, "RECENT_NS", 0)  # the files were written just now
    settings = _settings(tmp_path, small_corpus)
    store = open_store(settings, embedder)
    refresh_index(settings, store, embedder)
    opened = _Opened(monkeypatch)
    assert refresh_index(settings, store, embedder).chunks_embedded == 0
    assert opened.names == []

    beta = small_corpus / "beta.txt"
    before = beta.stat()
    text = beta.read_text(encoding="utf-8")
    beta.write_text(text.replace("two", "six"), encoding="utf-8")  # same size
    os.utime(beta, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    report = refresh_index(settings, store, embedder)
    assert report.updated == ("corpus/beta.txt",), "the change time gives it away"
    assert opened.names == ["beta.txt"]

    os.utime(small_corpus / "alpha.md")  # touched: new times, same bytes
    report = refresh_index(settings, store, embedder)
    assert report.chunks_embedded == 0 and opened.names[1:] == ["alpha.md"]
    assert refresh_index(settings, store, embedder).chunks_embedded == 0
    assert opened.names[2:] == [], "its new stamp was recorded"


def test_a_file_changed_just_now_is_hashed_again_next_time(
    indexed, small_corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write in the same clock tick as the read would leave the same stamp: a file changed
    within RECENT_NS of the scan is recorded without one."""
    settings, store = indexed
    assert all(record.stamp == "" for record in store.stored_documents().values())
    opened = _Opened(monkeypatch)
    assert refresh_index(settings, store, embedder).chunks_embedded == 0
    assert sorted(opened.names) == ["alpha.md", "beta.txt", "vendor.txt"]


def test_reindexing_reads_the_records_from_memory(
    indexed, small_corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-indexing one document reads no record of the others: this process wrote them last,
    and the retriever's load reads them from memory too."""
    settings, store = indexed
    engine = Engine(settings, store, embedder)
    full_reads: list[int] = []
    real = index_records.DocumentRecords._records

    def counted(records: index_records.DocumentRecords) -> dict[str, StoredDocument]:
        full_reads.append(1)
        return real(records)

    monkeypatch.setattr(index_records.DocumentRecords, "_records", counted)
    (small_corpus / "gamma.md").write_text("# Gamma\n\nGamma costs $5.\n", encoding="utf-8")
    assert engine.reindex().added == ("corpus/gamma.md",)
    (small_corpus / "alpha.md").unlink()
    assert engine.reindex().removed == ("corpus/alpha.md",)
    assert full_reads == []
    assert engine.retriever.keyword_search("Gamma costs", 1)[0].source == "corpus/gamma.md"


def test_a_version_this_store_wrote_is_deleted_by_id(
    indexed, small_corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter on the source costs time that grows with the collection; the ids of what this
    store wrote are known. Another process, which does not know them, filters: same result."""
    settings, store = indexed
    filtered: list[bool] = []
    deleted: list[int] = []
    monkeypatch.setattr(index_store, "READ_IDS", 1)
    real = Collection.delete

    def recorded(collection: Collection, **kwargs: object) -> None:
        filtered.append(kwargs.get("where") is not None)
        deleted.append(len(kwargs.get("ids") or []))  # type: ignore[arg-type]
        real(collection, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Collection, "delete", recorded)
    (small_corpus / "beta.txt").write_text("Beta now runs on one GPU. It is cheap.\n", "utf-8")
    (small_corpus / "alpha.md").unlink()
    report = refresh_index(settings, store, embedder)
    assert (report.updated, report.removed) == (("corpus/beta.txt",), ("corpus/alpha.md",))
    assert filtered and not any(filtered)
    _consistent(store, small_corpus)
    assert max(deleted) == 1, "ids deleted one at a time (READ_IDS), as Chroma's SQLite needs"

    (small_corpus / "beta.txt").write_text("Beta is back on two GPUs.\n", "utf-8")
    assert refresh_index(settings, open_store(settings, embedder), embedder).updated
    assert any(filtered)
    _consistent(store, small_corpus)


def test_a_store_of_an_earlier_layout_is_emptied_and_built_again(
    tmp_path: Path, small_corpus: Path, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tmp_path, small_corpus)
    client = index_chroma.client(settings.store_location)
    old = client.create_collection(  # as procurebot made it before document records
        index_chroma.COLLECTION,
        embedding_function=None,
        metadata={"embedding_model": embedder.name, "dim": embedder.dim},
    )
    old.add(ids=["old:0"], embeddings=[[0.1] * embedder.dim], documents=["Old chunk."])
    engine = Engine.open(settings)
    assert "made by an earlier procurebot" in caplog.text
    assert "old:0" not in {c.id for c in engine.store.chunks()}
    assert sorted(engine.store.stored_documents()) == [
        "corpus/alpha.md",
        "corpus/beta.txt",
        "corpus/vendor.txt",
    ]


def test_an_unreadable_file_keeps_its_last_version(indexed, small_corpus: Path, embedder) -> None:
    settings, store = indexed
    before = store.count()
    (small_corpus / "beta.txt").write_bytes(b"\xff\xfe\x00binary now")
    report = refresh_index(settings, store, embedder)
    assert [source for source, _ in report.skipped] == ["corpus/beta.txt"]
    assert not report.removed
    assert store.count() == before


def test_an_unreadable_file_left_half_written_is_removed(
    indexed, small_corpus: Path, embedder
) -> None:
    """Its last version is not complete and cannot be read again: nothing of it may stay."""
    settings, store = indexed
    beta = store.stored_documents()["corpus/beta.txt"]
    store.begin_writing([beta])  # as if killed while beta.txt was being rewritten
    (small_corpus / "beta.txt").write_bytes(b"\xff\xfe\x00binary now")
    report = refresh_index(settings, store, embedder)
    assert [source for source, _ in report.skipped] == ["corpus/beta.txt"]
    assert report.removed == ("corpus/beta.txt",)
    assert "corpus/beta.txt" not in store.stored_documents()
    chunks = store._collections.chunks.get(include=["metadatas"])["metadatas"] or []
    assert chunks and all(meta["source"] != "corpus/beta.txt" for meta in chunks)
    assert store.sentence_ids(["corpus/beta.txt"]) == []


def test_a_store_built_with_another_model_names_the_rebuild_command(
    tmp_path: Path, small_corpus: Path, embedder
) -> None:
    path = ChromaFolder(tmp_path / "data" / "chroma")
    ChunkStore.open(path, "some-other-model", 384)
    with pytest.raises(EmbeddingModelMismatch, match="procurebot index --rebuild"):
        ChunkStore.open(path, embedder.name, embedder.dim)
    rebuilt = ChunkStore.open(path, embedder.name, embedder.dim, rebuild=True)
    assert rebuilt.embedding_model == embedder.name


def test_a_catalog_edit_relabels_the_document_without_embedding_it_again(
    indexed, small_corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store = indexed
    engine = Engine(settings, store, embedder)
    before = engine.ask("How much does Alpha cost per million input tokens?")
    assert {c.title for c in before.citations} == {"Alpha pricing"}

    index_catalog.write_catalog_entry(
        small_corpus / "catalog.toml",
        "alpha.md",
        {
            "title": "Alpha price sheet 2026",
            "kind": "vendor-docs",
            "date": "2026-02-01",
            "description": "List prices in EUR",
        },
    )
    embedded: list[int] = []
    real = embedder.embed_documents
    monkeypatch.setattr(embedder, "embed_documents", lambda t: embedded.append(len(t)) or real(t))
    report = engine.reindex()
    assert report.relabelled == ("corpus/alpha.md",)
    assert (report.chunks_embedded, embedded) == (0, [])
    assert sorted(report.unchanged) == ["corpus/beta.txt", "corpus/vendor.txt"]
    (record,) = [d for d in engine.documents() if d.source == "corpus/alpha.md"]
    assert (record.title, record.kind, record.date, record.description) == (
        "Alpha price sheet 2026",
        "vendor-docs",
        "2026-02-01",
        "List prices in EUR",
    )
    from ui.documents import document_rows

    assert document_rows([record])[0][0] == "Alpha price sheet 2026 — List prices in EUR"
    after = engine.ask("How much does Alpha cost per million input tokens?")
    assert {(c.title, c.kind, c.date) for c in after.citations} == {
        ("Alpha price sheet 2026", "vendor-docs", "2026-02-01")
    }
    assert refresh_index(settings, store, embedder).relabelled == ()  # once

    (small_corpus / "catalog.toml").unlink()  # back to what the file says of itself
    assert engine.reindex().relabelled == ("corpus/alpha.md",)
    assert {c.title for c in engine.ask("How much does Alpha cost?").citations} == {"Alpha pricing"}


def test_a_catalog_entry_is_written_in_place_keeping_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(
        '# our catalog\n\n[documents.\'a.md\']\ntitle = "A"\nkind = "news"\n\n'
        '# B is the price list\n[documents."b.md"]\ntitle = "B"\nkind = "news"\n',
        encoding="utf-8",
    )
    index_catalog.write_catalog_entry(path, "a.md", {"title": 'A "quoted"', "kind": "other"})
    index_catalog.write_catalog_entry(path, "価格表.md", {"title": "価格表", "kind": "other"})
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# our catalog\n\n") and "# B is the price list\n" in text
    catalog = index_catalog.read_catalog(path)
    assert catalog["a.md"] == {"title": 'A "quoted"', "kind": "other"}
    assert catalog["b.md"] == {"title": "B", "kind": "news"}
    assert catalog["価格表.md"]["title"] == "価格表"
    with pytest.raises(index_catalog.CatalogError):
        index_catalog.write_catalog_entry(path, "a.md", {"title": "A", "kind": "blog"})
    assert path.read_text(encoding="utf-8") == text  # a refused entry changes nothing
