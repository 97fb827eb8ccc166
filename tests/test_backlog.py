"""The transcript database locked by another program, or full: the conversation goes on in
memory, the person is told, and everything is written once the database takes it again."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

import bot.transcripts.backlog
from bot.answering.engine import Engine
from bot.transcripts.store import TranscriptError, TranscriptStore
from bot.workspace.access import User
from bot.workspace.service import Workspace
from tests.reliability import Recorder, snapshot

pytestmark = pytest.mark.reliability

ALICE = User("alice", "user")
NOT_SAVED = "not saved in the transcript yet"
SAVED_LATER = "now saved in the transcript"


class FillingStore(TranscriptStore):
    """A transcript database that can be made full: SQLite's own "database or disk is full"
    (SQLITE_FULL), as on a full disk, by capping each new connection's pages at what the file
    already has."""

    full = False

    def __init__(self, path: Path, busy_timeout: float) -> None:
        super().__init__(path, busy_timeout)
        event.listen(self.engine, "connect", self._cap)

    def _cap(self, db: sqlite3.Connection, _record: object) -> None:
        if self.full:
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {pages}")


@pytest.fixture
def workspace(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setattr(bot.transcripts.backlog, "RETRY_SECONDS", 0.0)  # retry on every write
    store = FillingStore(tmp_path / "transcripts.sqlite", busy_timeout=0.2)
    return Workspace(engine, store)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another program holding the database's write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@contextmanager
def full(store: FillingStore) -> Iterator[None]:
    store.full = True
    try:
        yield
    finally:
        store.full = False


def saved_turns(path: Path) -> list[tuple[str, int, str, str]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT conversation_id, position, question, status FROM turns "
            "ORDER BY rowid"  # the order they were written in
        ).fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("fault", ["locked", "disk full"])
def test_the_conversation_goes_on_in_memory_and_is_saved_later(
    workspace: Workspace, fault: str, reliability: Recorder
) -> None:
    store = workspace.transcripts
    assert isinstance(store, FillingStore)
    settings = workspace.engine.settings.model_copy(
        update={"data_dir": store.path.parent}
    )  # where the snapshot finds the transcripts
    first = workspace.ask(ALICE, "Which clouds offer Mistral Medium 3?")
    assert not first.answer.notices or NOT_SAVED not in " ".join(first.answer.notices)
    before = snapshot(settings)

    with locked(store.path) if fault == "locked" else full(store):
        follow_up = workspace.ask(ALICE, "And for 3.1?", first.conversation_id)
        elsewhere = workspace.ask(ALICE, "What does Mistral Medium 3 cost per million tokens?")
        during = snapshot(settings)
        # The person is told, and the conversation goes on: history, listing, export.
        assert any(NOT_SAVED in n for n in follow_up.answer.notices)
        assert follow_up.answer.rewritten_query != "And for 3.1?"  # read with its history
        kept = workspace.conversation(ALICE, first.conversation_id)
        assert [t.question for t in kept.turns] == ["Which clouds offer Mistral Medium 3?",
                                                    "And for 3.1?"]  # fmt: skip
        listed = [c.id for c in workspace.conversations(ALICE)]
        assert elsewhere.conversation_id in listed and first.conversation_id in listed
        exported = workspace.export(ALICE, first.conversation_id, "json", store.path.parent)
        turns = json.loads(exported.read_text(encoding="utf-8"))["turns"]
        assert [t["question"] for t in turns] == [t.question for t in kept.turns]
        with pytest.raises(TranscriptError, match="not saved yet"):
            workspace.feedback(ALICE, follow_up.turn_id, "up")
        assert workspace.backlog.waiting > 0
    assert before.lost(during).total == 0  # nothing already saved was touched

    later = workspace.ask(ALICE, "Is Mistral Medium 3 multimodal?", elsewhere.conversation_id)
    assert any(SAVED_LATER in n for n in later.answer.notices)
    assert workspace.backlog.waiting == 0
    saved = saved_turns(store.path)
    assert [(c, p, q) for c, p, q, _ in saved] == [
        (first.conversation_id, 1, "Which clouds offer Mistral Medium 3?"),
        (first.conversation_id, 2, "And for 3.1?"),
        (elsewhere.conversation_id, 1, "What does Mistral Medium 3 cost per million tokens?"),
        (elsewhere.conversation_id, 2, "Is Mistral Medium 3 multimodal?"),
    ]
    assert {status for *_, status in saved} == {"answered"}
    reread = workspace.conversation(ALICE, first.conversation_id).turns[1].answer
    assert reread is not None and reread.citations == follow_up.answer.citations
    workspace.feedback(ALICE, follow_up.turn_id, "up")  # saved now, so it can be rated
    after = snapshot(settings)
    lost = before.lost(after)
    assert lost.total == 0
    reliability.record(
        "fault",
        f"transcript database {fault} during two questions",
        "answered with the notice “This answer is not saved in the transcript yet …”; kept in "
        "memory (follow-up, list, export work); written in order once the database was back",
        lost,
    )
