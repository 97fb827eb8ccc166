"""Document records kept in memory stay the store's, whichever store object (process) writes.

Each ChunkStore opened on the same folder has its own writer id and its own kept records, as
separate processes would; the store is a real Chroma folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chromadb.errors import InternalError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index import records as index_records
from index.errors import StoreError
from index.location import ChromaFolder
from index.store import ChunkStore, StoredDocument


def _open(folder: Path) -> ChunkStore:
    return ChunkStore.open(ChromaFolder(folder), "test-model", 3)


def _record(source: str, version: str = "a") -> StoredDocument:
    return StoredDocument(source, version * 64, f"{source}@{version}", 2, title=source)


class _FullReads:
    """Counts each store's full reads of the records."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = index_records.DocumentRecords._records

        def counted(records: index_records.DocumentRecords) -> dict[str, StoredDocument]:
            self.count += 1
            return real(records)

        monkeypatch.setattr(index_records.DocumentRecords, "_records", counted)


def test_records_written_by_another_process_are_seen(tmp_path: Path) -> None:
    mine, other = _open(tmp_path / "chroma"), _open(tmp_path / "chroma")
    mine.finish_writing([_record("corpus/a.md")])
    assert set(mine.stored_documents()) == {"corpus/a.md"}
    other.finish_writing([_record("corpus/b.md")])
    other.begin_writing([_record("corpus/a.md", "b")])
    seen = mine.stored_documents()
    assert set(seen) == {"corpus/a.md", "corpus/b.md"}
    assert not seen["corpus/a.md"].complete and seen["corpus/a.md"].sha256 == "b" * 64
    other.remove_documents([seen["corpus/b.md"]])
    assert set(mine.stored_documents()) == {"corpus/a.md"}


def test_own_writes_are_kept_without_reading_the_records_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _open(tmp_path / "chroma")
    store.finish_writing([_record("corpus/a.md"), _record("corpus/b.md")])
    reads = _FullReads(monkeypatch)
    store.stored_documents()
    assert reads.count == 1
    store.begin_writing([_record("corpus/c.md")])
    store.finish_writing([_record("corpus/c.md")])
    store.restamp([_record("corpus/a.md")])
    store.remove_documents([_record("corpus/b.md")])
    kept = store.stored_documents()
    assert reads.count == 1, "own writes are applied to the kept records"
    assert kept == _open(tmp_path / "chroma").stored_documents()
    assert set(kept) == {"corpus/a.md", "corpus/c.md"}


def test_a_read_that_overlaps_an_own_write_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records read before this process's write, kept after it: counted as before the write,
    so that the next write drops them instead of claiming they include the first one."""
    store = _open(tmp_path / "chroma")
    real = index_records.DocumentRecords._records
    overlapped: list[bool] = []

    def read_then_write(records: index_records.DocumentRecords) -> dict[str, StoredDocument]:
        found = real(records)
        if not overlapped:
            overlapped.append(True)
            store.finish_writing([_record("corpus/x.md")])  # while the read is in flight
        return found

    monkeypatch.setattr(index_records.DocumentRecords, "_records", read_then_write)
    assert "corpus/x.md" not in store.stored_documents()  # read before the write landed
    store.finish_writing([_record("corpus/y.md")])
    assert set(store.stored_documents()) == {"corpus/x.md", "corpus/y.md"}


def test_a_removal_whose_counter_failed_drops_the_kept_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records deleted, then the counter's write fails: the counters read the same as before,
    so only dropping what is kept stops the deleted record from being seen."""
    store = _open(tmp_path / "chroma")
    store.finish_writing([_record("corpus/a.md"), _record("corpus/b.md")])
    store.stored_documents()
    collection = store._records._collection
    real_delete = collection.delete

    def deleted_then_cut_off(**kwargs: object) -> None:
        real_delete(**kwargs)
        monkeypatch.setattr(collection, "upsert", _refused)

    monkeypatch.setattr(collection, "delete", deleted_then_cut_off)
    with pytest.raises(StoreError):
        store._records.delete(["corpus/b.md"])
    monkeypatch.undo()
    assert set(store.stored_documents()) == {"corpus/a.md"}


def _refused(**kwargs: object) -> None:
    raise InternalError("disk I/O error")


def test_stale_writers_are_forgotten_and_no_one_keeps_stale_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "chroma"
    old, reader = _open(folder), _open(folder)
    old.finish_writing([_record("corpus/a.md")])
    reader.stored_documents()
    monkeypatch.setattr(index_records, "STALE_WRITER_SECONDS", -10)  # every counter is stale
    new = _open(folder)
    new.stored_documents()
    reads = _FullReads(monkeypatch)
    new.finish_writing([_record("corpus/b.md")])
    counters = new._records._counters()
    assert list(counters) == [new._records._writer], "old's counter is deleted"
    assert set(new.stored_documents()) == {"corpus/a.md", "corpus/b.md"}
    assert reads.count == 0, "the deleted counters are forgotten by the writer too"
    assert set(reader.stored_documents()) == {"corpus/a.md", "corpus/b.md"}
    old.finish_writing([_record("corpus/a.md", "c")])  # a forgotten writer writes again
    assert reader.stored_documents()["corpus/a.md"].sha256 == "c" * 64
    assert new.stored_documents()["corpus/a.md"].sha256 == "c" * 64


SOURCES = [f"corpus/{name}.md" for name in "abc"]
ACTIONS = st.lists(
    st.tuples(
        st.integers(0, 2),  # which process
        st.sampled_from(["begin", "finish", "restamp", "remove", "read"]),
        st.sampled_from(SOURCES),
        st.sampled_from("xyz"),  # version
    ),
    max_size=25,
)


@pytest.mark.slow  # subprocesses or many index runs: not in make test-fast
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
def test_any_sequence_of_writes_by_three_processes_keeps_every_reader_right(
    tmp_path_factory: pytest.TempPathFactory, actions: list[tuple[int, str, str, str]]
) -> None:
    folder = tmp_path_factory.mktemp("chroma")
    stores = [_open(folder) for _ in range(3)]
    for who, action, source, version in actions:
        store = stores[who]
        record = _record(source, version)
        if action == "begin":
            store.begin_writing([record])
        elif action == "finish":
            store.finish_writing([record])
        elif action == "restamp":
            store.restamp([StoredDocument(**{**record.__dict__, "stamp": version})])
        elif action == "remove":
            store.remove_documents([record])
        truth = stores[0]._records._records()  # read from the store, not from memory
        for each in stores:
            assert _comparable(each.stored_documents()) == _comparable(truth)


def _comparable(records: dict[str, StoredDocument]) -> dict[str, tuple[object, ...]]:
    return {s: (r.sha256, r.key, r.complete, r.stamp, r.indexed_at) for s, r in records.items()}
