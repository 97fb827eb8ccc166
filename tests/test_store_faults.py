"""The Chroma store missing, locked, damaged, or written by a run killed halfway.

Each fault is made on a copy of a small index built once with the real model; what a person
sees is checked through `procurebot` itself and through the engine, then the rebuild path,
then that the documents and the saved conversations are untouched. A damaged store may
crash Chroma's native code, so faults are first met in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.settings import Settings
from bot.transcripts.store import TranscriptStore
from bot.transcripts.types import RunInfo
from index.chunking import chunk_document, document_key
from index.documents import scan_corpus
from index.errors import StoreDamaged, StoreLocked
from index.sentences import split_sentences
from index.store_files import DATABASE, forget
from tests.conftest import run_cli
from tests.reliability import Recorder, Snapshot, snapshot

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

QUESTION = "What does Mistral Medium 3 cost per million output tokens?"
REBUILD = "procurebot index --rebuild"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder indexed once by `procurebot index`, with one saved conversation."""
    root = tmp_path_factory.mktemp("pristine")
    corpus = root / "corpus"
    corpus.mkdir()
    from tests.conftest import CORPUS

    for name in ("004_910b252cb6477a8d.txt", "000_40b7060ec07b0b2b.txt", "catalog.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    data = root / "data"
    done = run_cli("index", data_dir=data, env={"PROCUREBOT_CORPUS_DIR": str(corpus)})
    assert done.returncode == 0, done.stderr.decode()
    transcripts = TranscriptStore(data / "transcripts.sqlite")
    conversation = transcripts.start_conversation("ana", "prices")
    transcripts.record_question(
        conversation, "ana", QUESTION, RunInfo("extractive", "m", {}, "f", "0")
    )
    return root


@pytest.fixture
def settings(pristine: Path, tmp_path: Path) -> Settings:
    """A copy of the pristine corpus and data folder that a test may damage."""
    shutil.copytree(pristine, tmp_path, dirs_exist_ok=True)
    return Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus")


def procurebot(settings: Settings, *args: str) -> subprocess.CompletedProcess[bytes]:
    return run_cli(
        *args, data_dir=settings.data_dir, env={"PROCUREBOT_CORPUS_DIR": str(settings.corpus_dir)}
    )


def one_error_line(done: subprocess.CompletedProcess[bytes]) -> str:
    """The single line `procurebot` printed on stderr when it failed with exit code 1."""
    lines = done.stderr.decode().strip().splitlines()
    assert done.returncode == 1, done.stderr.decode()
    assert len(lines) == 1, lines
    assert lines[0].startswith("procurebot: error: The index at "), lines[0]
    return lines[0]


def answers_correctly(settings: Settings) -> None:
    done = procurebot(settings, "ask", QUESTION)
    assert done.returncode == 0, done.stderr.decode()
    assert "$2" in done.stdout.decode()


def rebuild(settings: Settings) -> str:
    """Run `procurebot index --rebuild`; the note on where the damaged store went, if any."""
    done = procurebot(settings, "index", "--rebuild")
    assert done.returncode == 0, done.stderr.decode()
    assert "added" in done.stdout.decode()
    return done.stderr.decode().strip()


def state(settings: Settings) -> Snapshot:
    """The snapshot as a new process sees it (Chroma keeps one open store per path and process,
    which would still read the files as they were before another process replaced them)."""
    forget(settings.chroma_dir)
    taken = snapshot(settings)
    forget(settings.chroma_dir)
    return taken


def damaged_folders(settings: Settings) -> list[Path]:
    return sorted(settings.data_dir.glob("chroma.damaged-*"))


# --- faults in the SQLite database --------------------------------------------------------


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _truncated(path: Path) -> None:
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)


def _garbled_pages(path: Path) -> None:  # the header intact, pages in the middle overwritten
    pages = path.stat().st_size // 4096
    with path.open("r+b") as file:
        file.seek(4096 * (pages // 3))
        file.write(os.urandom(4096 * max(1, pages // 3)))


@pytest.mark.parametrize(
    ("case", "damage"),
    [
        ("chroma.sqlite3 overwritten with random bytes", _garbage),
        ("chroma.sqlite3 truncated to half", _truncated),
        ("chroma.sqlite3 with pages overwritten", _garbled_pages),
    ],
)
def test_a_corrupt_database_names_the_rebuild_command(
    settings: Settings, reliability: Recorder, case: str, damage
) -> None:
    before = state(settings)
    damage(settings.chroma_dir / DATABASE)

    shown = one_error_line(procurebot(settings, "ask", QUESTION))
    assert "is damaged" in shown and REBUILD in shown
    assert REBUILD in one_error_line(procurebot(settings, "index"))
    with pytest.raises(StoreDamaged, match="procurebot index --rebuild"):
        Engine.open(settings).ask(QUESTION)

    note = rebuild(settings)
    [aside] = damaged_folders(settings)
    assert str(aside) in note and (aside / DATABASE).exists(), "moved aside, not deleted"
    answers_correctly(settings)
    lost = before.lost(state(settings))
    assert lost.total == 0, lost
    reliability.record(
        "fault", case, f"{shown}; `index --rebuild` moved it aside and rebuilt it", lost
    )


def test_a_missing_store_is_built_on_first_use(settings: Settings, reliability: Recorder) -> None:
    before = state(settings)
    shutil.rmtree(settings.chroma_dir)
    answers_correctly(settings)  # `ask` builds the index from the documents first
    lost = before.lost(state(settings))
    assert lost.total == 0, lost
    reliability.record(
        "fault", "data/chroma deleted", "`procurebot ask` rebuilt the index and answered", lost
    )


def test_a_store_deleted_while_open_says_so(settings: Settings, reliability: Recorder) -> None:
    before = state(settings)
    engine = Engine.open(settings)
    assert "$2" in engine.ask(QUESTION).answer
    shutil.rmtree(settings.chroma_dir)
    with pytest.raises(StoreDamaged, match="removed while procurebot was running") as raised:
        engine.ask(QUESTION)
    with pytest.raises(StoreDamaged, match="removed while procurebot was running"):
        engine.reindex()
    answers_correctly(settings)  # a new process builds it again
    lost = before.lost(state(settings))
    assert lost.total == 0, lost
    reliability.record("fault", "data/chroma deleted while the app runs", str(raised.value), lost)


# --- faults in the vector index files -------------------------------------------------------

FILLER = """
import random, sys
from pathlib import Path
from index.location import ChromaFolder
from index.chroma import SENTENCES, client
from index.store import ChunkStore, StoredSentence
path = ChromaFolder(Path(sys.argv[1]))
meta = client(path).get_collection(SENTENCES).metadata
store = ChunkStore.open(path, meta["embedding_model"], meta["dim"])
rng = random.Random(7)
sentences = [StoredSentence("corpus/filler.md", i, i + 1, "", "filler") for i in range(1200)]
vectors = [[rng.uniform(-1, 1) for _ in range(meta["dim"])] for _ in sentences]
store.add_sentences([("filler", s) for s in sentences], vectors)
"""


def _vector_folder(settings: Settings) -> Path:
    """The HNSW folder of a collection grown past what Chroma keeps in its log only (~1000
    entries; below that the files on disk hold no vector and damaging them changes nothing)."""
    done = subprocess.run(
        [sys.executable, "-c", FILLER, str(settings.chroma_dir)], capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    folders = sorted(
        settings.chroma_dir.glob("*/data_level0.bin"), key=lambda path: path.stat().st_size
    )
    return folders[-1].parent


@pytest.mark.parametrize(
    ("case", "damage"),
    [
        ("HNSW data_level0.bin overwritten with random bytes", "data_level0.bin"),
        ("HNSW header.bin overwritten with random bytes", "header.bin"),
        ("HNSW link_lists.bin deleted", "-link_lists.bin"),
        ("HNSW segment folder deleted", "-"),
    ],
)
def test_a_corrupt_vector_index_names_the_rebuild_command(
    settings: Settings, reliability: Recorder, case: str, damage: str
) -> None:
    before = state(settings)
    folder = _vector_folder(settings)
    if damage == "-":
        shutil.rmtree(folder)
    elif damage.startswith("-"):
        (folder / damage[1:]).unlink()
    else:
        _garbage(folder / damage)

    shown = one_error_line(procurebot(settings, "ask", QUESTION))  # a crash would not be one line
    assert "is damaged" in shown and REBUILD in shown
    assert REBUILD in one_error_line(procurebot(settings, "index"))
    with pytest.raises(StoreDamaged, match="procurebot index --rebuild"):
        Engine.open(settings).ask(QUESTION)

    rebuild(settings)
    answers_correctly(settings)
    lost = before.lost(state(settings))
    assert lost.total == 0, lost
    reliability.record(
        "fault", case, f"{shown}; `index --rebuild` moved it aside and rebuilt it", lost
    )


# --- another program holding the database ---------------------------------------------------


def test_a_locked_store_says_so_and_works_once_released(
    settings: Settings, reliability: Recorder
) -> None:
    before = state(settings)
    holder = sqlite3.connect(settings.chroma_dir / DATABASE, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        # Chroma alone waits forever: run_cli's timeout fails the test if procurebot does too.
        shown = one_error_line(procurebot(settings, "ask", QUESTION))
        assert "locked by another program" in shown and "try again" in shown
        assert "locked by another program" in one_error_line(procurebot(settings, "index"))
        with pytest.raises(StoreLocked, match="try again"):
            Engine.open(settings)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    answers_correctly(settings)
    lost = before.lost(state(settings))
    assert lost.total == 0, lost
    reliability.record("fault", "chroma.sqlite3 locked by another program", shown, lost)


def test_a_lock_taken_while_open_is_reported(settings: Settings) -> None:
    engine = Engine.open(settings)
    holder = sqlite3.connect(settings.chroma_dir / DATABASE, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreLocked, match="locked by another program"):
            engine.ask(QUESTION)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "$2" in engine.ask(QUESTION).answer


# --- indexing killed halfway ----------------------------------------------------------------


def _chunks_written(database: Path) -> int:
    if not database.exists():
        return 0
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)
    try:
        return int(
            db.execute(
                "SELECT COUNT(*) FROM embeddings e JOIN segments s ON e.segment_id = s.id "
                "JOIN collections c ON s.collection = c.id WHERE c.name = 'procurebot_chunks'"
            ).fetchone()[0]
        )
    except sqlite3.OperationalError:  # being created or written: look again
        return 0
    finally:
        db.close()


def _generate_documents(corpus: Path, count: int) -> None:
    for n in range(count):
        paragraphs = [
            f"## Section {s}\n\n"
            + " ".join(
                f"Vendor {n} offers plan {s}-{i} at ${n + s + i} per seat and month, "
                f"with support answered within {i + 2} hours."
                for i in range(6)
            )
            for s in range(5)
        ]
        (corpus / f"generated_{n:02}.md").write_text(
            f"# Generated offer {n}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )


# `procurebot index`, parked for its kill where it hurts most: the second batch's records are
# marked "writing" and its sentences written, its chunks not yet. Deterministic: the test kills
# the run once it says it is there, with no race against the indexer.
_STOPS_HALFWAY = """
import sys, threading
from index.store import ChunkStore
add, calls = ChunkStore.add, []
def add_then_park(self, chunks, vectors):
    calls.append(len(chunks))
    if len(calls) == 2:
        print("halfway", flush=True)
        threading.Event().wait()  # until killed
    add(self, chunks, vectors)
ChunkStore.add = add_then_park
from bot.cli import main
sys.argv = ["procurebot", "index"]
main()
"""


def test_indexing_killed_halfway_is_repaired_by_the_next_run(
    tmp_path: Path, small_corpus: Path, reliability: Recorder
) -> None:
    _generate_documents(small_corpus, 6)
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=small_corpus)
    documents = scan_corpus(small_corpus).documents
    chunks = {c.id: c for d in documents for c in chunk_document(d)}
    sentences = {
        f"{document_key(d)}:s{s.start}-{s.end}": d.source
        for d in documents
        for s in split_sentences(d)
    }
    environment = {**os.environ, "PROCUREBOT_DATA_DIR": str(settings.data_dir)}
    environment["PROCUREBOT_CORPUS_DIR"] = str(small_corpus)
    environment["PROCUREBOT_INDEX_BATCH_TEXTS"] = "4"  # several writes to land a kill between
    with subprocess.Popen(
        [sys.executable, "-c", _STOPS_HALFWAY],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as run:
        watchdog = threading.Timer(300, run.kill)  # a hang fails the test, not the whole run
        watchdog.start()
        try:
            assert run.stdout is not None
            halfway = run.stdout.readline()  # blocks until the run is parked mid-write
            run.send_signal(signal.SIGKILL)
        finally:
            watchdog.cancel()
    assert halfway == b"halfway\n", "the run ended before its second batch"
    assert run.returncode == -signal.SIGKILL
    written = _chunks_written(settings.chroma_dir / DATABASE)
    assert 0 < written < len(chunks)

    done = run_cli(
        "index", data_dir=settings.data_dir, env={"PROCUREBOT_CORPUS_DIR": str(small_corpus)}
    )
    assert done.returncode == 0, done.stderr.decode()

    stored = _stored_entries(settings)
    chunk_ids = [chunk_id for chunk_id, _ in stored["chunks"]]
    assert len(chunk_ids) == len(set(chunk_ids)), "no duplicate chunk ids"
    spans = Counter(span for _, span in stored["chunks"])
    assert max(spans.values()) == 1, "no duplicate (source, start, end) chunk spans"
    assert set(chunk_ids) == set(chunks), "the chunks of a fresh build, no more, no less"
    assert {i: span[0] for i, span in stored["sentences"]} == sentences, "as a fresh build"
    keys = {
        kind: {(span[0], entry.rsplit(":", 1)[0]) for entry, span in stored[kind]}
        for kind in ("chunks", "sentences")
    }
    assert keys["chunks"] == keys["sentences"], "per source, sentences and chunks of one version"
    reliability.record(
        "fault",
        "`procurebot index` killed (SIGKILL) halfway",
        f"killed with {written} of {len(chunks)} chunks written; the next `procurebot index` "
        "finished it: every document complete, no duplicate or orphan entry",
    )


def _stored_entries(settings: Settings) -> dict[str, list[tuple[str, tuple[str, int, int]]]]:
    """Each collection's ids with their (source, start, end)."""
    from index.chroma import COLLECTION, SENTENCES, client

    chroma = client(settings.store_location)
    entries: dict[str, list[tuple[str, tuple[str, int, int]]]] = {}
    for kind, name in (("chunks", COLLECTION), ("sentences", SENTENCES)):
        got = chroma.get_collection(name).get(include=["metadatas"])
        entries[kind] = [
            (entry_id, (str(meta["source"]), int(meta["start"]), int(meta["end"])))
            for entry_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
        ]
    return entries
