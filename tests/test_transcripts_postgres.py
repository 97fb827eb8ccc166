"""Transcripts in a real PostgreSQL server, as app replicas share them.

The server, and a database of its own for each test, come from conftest.py (`server`, `url`).
The store's tests that hold in either database are in test_transcripts.py, run on both.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Connection, inspect, text

from bot.answering.engine import Engine
from bot.transcripts.database import database_url, open_engine
from bot.transcripts.migrations import MIGRATIONS, migrate
from bot.transcripts.store import TranscriptError, TranscriptStore
from bot.workspace.access import User
from bot.workspace.service import Workspace
from tests.conftest import Server
from tests.test_transcripts import ANSWER, RUN

pytestmark = pytest.mark.slow


def test_all_migrations_run_on_an_empty_database_once_even_from_replicas_at_once(
    url: str,
) -> None:
    engines = [open_engine(database_url(url), 10.0) for _ in range(3)]
    applied: list[list[str]] = []
    replicas = [threading.Thread(target=lambda e=e: applied.append(migrate(e))) for e in engines]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join(timeout=60)
    assert sorted(name for names in applied for name in names) == sorted(
        m.__name__ for m in MIGRATIONS
    )
    with engines[0].connect() as db:
        recorded = db.execute(text("SELECT name FROM _migrations ORDER BY name")).scalars().all()
        tables = set(inspect(db).get_table_names())
    assert recorded == sorted(m.__name__ for m in MIGRATIONS)
    assert {"conversations", "turns", "citations", "feedback", "reviews"} <= tables
    assert migrate(engines[0]) == []
    for engine in engines:
        engine.dispose()


def test_a_failing_migration_leaves_nothing_half_done(url: str) -> None:
    def broken(db: Connection) -> None:
        db.exec_driver_sql("CREATE TABLE half (x TEXT)")
        raise RuntimeError("boom")

    engine = open_engine(database_url(url), 10.0)
    with pytest.raises(RuntimeError, match="boom"):
        migrate(engine, (*MIGRATIONS, broken))
    with engine.connect() as db:
        assert "half" not in inspect(db).get_table_names()
        names = db.execute(text("SELECT name FROM _migrations")).scalars().all()
    assert sorted(names) == sorted(m.__name__ for m in MIGRATIONS)
    engine.dispose()


def test_two_stores_on_one_database_see_each_others_writes(url: str) -> None:
    """Two app replicas: what one saves, the other lists and reopens; asking in one
    conversation from both at once numbers the turns one after the other."""
    one, two = TranscriptStore(url), TranscriptStore(url)
    try:
        conversation = one.start_conversation("alice")
        turn = one.record_question(conversation, "alice", "What does it cost?", RUN)
        assert [c.id for c in two.conversations()] == [conversation]
        two.record_answer(turn, ANSWER)
        assert one.conversation(conversation).turns[0].answer == ANSWER

        def ask(store: TranscriptStore, n: int) -> None:
            for i in range(n):
                store.record_question(conversation, "alice", f"q{i}?", RUN)

        replicas = [threading.Thread(target=ask, args=(s, 8)) for s in (one, two)]
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.join(timeout=60)
        positions = [t.position for t in two.conversation(conversation).turns]
        assert positions == list(range(1, 18))
    finally:
        one.close()
        two.close()


def test_answers_asked_in_the_app_are_saved_in_postgresql(engine: Engine, url: str) -> None:
    store = TranscriptStore(url)
    try:
        workspace = Workspace(engine, store)
        exchange = workspace.ask(User("alice", "user"), "Which clouds offer Mistral Medium 3?")
        other = TranscriptStore(url)
        saved = other.conversation(exchange.conversation_id).turns[0]
        other.close()
        assert saved.answer is not None and saved.answer.citations == exchange.answer.citations
    finally:
        store.close()


@pytest.mark.parametrize(
    ("database", "password", "message"),
    [
        ("postgres", "wrong-password", "password authentication failed"),
        ("no_such_database", None, "does not exist"),
    ],
)
def test_a_refused_connection_is_one_line_without_the_password(
    server: Server, database: str, password: str | None, message: str
) -> None:
    with pytest.raises(TranscriptError) as refused:
        TranscriptStore(server.url(database, password))
    shown = str(refused.value)
    assert message in shown and "\n" not in shown
    assert f"postgresql+psycopg://procurebot:***@127.0.0.1:{server.port}/{database}" in shown
    assert server.password not in shown and "wrong-password" not in shown
