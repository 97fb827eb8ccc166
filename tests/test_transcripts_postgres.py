"""Transcripts in a real PostgreSQL server, as app replicas share them.

The session starts Debian's server (`make postgres` installs it) on 127.0.0.1 and a free port,
with a password, in a temporary folder; each test gets a database of its own. Without the
server programs the tests are skipped, unless PROCUREBOT_TEST_REQUIRE_POSTGRES is set (CI):
then they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, inspect, text

from bot.access import User
from bot.database import database_url, open_engine
from bot.engine import Engine
from bot.migrations import MIGRATIONS, migrate
from bot.transcripts import TranscriptError, TranscriptNotFound, TranscriptStore
from bot.workspace import Workspace
from tests.servers import free_port
from tests.test_transcripts import ANSWER, RUN

pytestmark = pytest.mark.slow

# CI sets this, so that a machine without the server fails instead of skipping the tests (read
# at import: the tests themselves run without the PROCUREBOT_ variables).
REQUIRE = "PROCUREBOT_TEST_REQUIRE_POSTGRES"
REQUIRED = bool(os.environ.get(REQUIRE))


def server_programs() -> Path | None:
    """The folder of initdb and pg_ctl: Debian's newest, or the ones on PATH."""
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3])
    )
    if debian:
        return debian[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


@dataclass(frozen=True)
class Server:
    port: int
    password: str

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql+psycopg://procurebot:{secret}@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    programs = server_programs()
    if programs is None:
        message = "PostgreSQL's server programs are not installed (`make postgres` installs them)"
        if REQUIRED:
            pytest.fail(f"{message}, and {REQUIRE} is set")
        pytest.skip(message)
    # The server refuses to run as root: as root, it runs as the `postgres` user.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="procurebot-postgres-"))
    password = secrets.token_hex(12)
    (folder / "password").write_text(password + "\n", encoding="utf-8")
    if as_user:
        shutil.chown(folder, "postgres")
        shutil.chown(folder / "password", "postgres")
    data, log, port = folder / "data", folder / "server.log", free_port()

    def run(program: str, *args: str) -> None:
        done = subprocess.run(
            [*as_user, str(programs / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            logged = log.read_text(encoding="utf-8") if log.exists() else ""
            pytest.fail(f"{program} failed:\n{done.stdout}{done.stderr}{logged}")

    run(
        "initdb", "--pgdata", str(data), "--username", "procurebot", "--pwfile",
        str(folder / "password"), "--auth", "scram-sha-256", "--encoding", "UTF8",
        "--locale", "C.UTF-8", "--no-sync",
    )  # fmt: skip
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    run("pg_ctl", "start", "--pgdata", str(data), "--log", str(log), "--wait", "-o", options)
    try:
        yield Server(port, password)
    finally:
        run("pg_ctl", "stop", "--pgdata", str(data), "--mode", "immediate", "--wait")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def url(server: Server) -> str:
    """A new, empty database on the server."""
    name = f"transcripts_{secrets.token_hex(6)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return server.url(name)


@pytest.fixture
def store(url: str) -> Iterator[TranscriptStore]:
    store = TranscriptStore(url)
    yield store
    store.close()


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


def test_a_question_is_saved_before_its_answer_and_the_answer_round_trips(
    store: TranscriptStore,
) -> None:
    conversation = store.start_conversation("alice")
    turn = store.record_question(conversation, "alice", "What does it cost?", RUN)
    pending = store.conversation(conversation).turns[0]
    assert (pending.status, pending.answer, pending.position) == ("pending", None, 1)
    store.record_answer(turn, ANSWER)
    saved = store.conversation(conversation)
    assert saved.title == "What does it cost?"
    assert saved.turns[0].answer == ANSWER and saved.turns[0].run == RUN
    second = store.record_question(conversation, "alice", "And for 3.1?", RUN)
    store.record_failure(second, "the index cannot be opened")
    turns = store.conversation(conversation).turns
    assert [t.position for t in turns] == [1, 2]
    assert (turns[1].status, turns[1].error) == ("failed", "the index cannot be opened")
    with store.engine.connect() as db:
        row = db.execute(text('SELECT source, start, "end", quote FROM citations')).one()
    assert tuple(row) == (ANSWER.citations[0].source, 1063, 1096, ANSWER.citations[0].quote)


def test_feedback_is_replaced_and_reviews_kept_as_history(store: TranscriptStore) -> None:
    conversation = store.start_conversation("alice")
    turn = store.record_question(conversation, "alice", "q?", RUN)
    store.add_feedback(turn, "alice", "up")
    store.add_feedback(turn, "alice", "down", "outdated", "  the price changed  ")
    store.add_feedback(turn, "bob", "up")
    store.add_review(turn, "rita", "needs correction", "cite the vendor page")
    store.add_review(turn, "rita", "approved")
    saved = store.conversation(conversation).turns[0]
    assert sorted((f.user, f.rating, f.reason, f.comment) for f in saved.feedback) == [
        ("alice", "down", "outdated", "the price changed"),
        ("bob", "up", "", ""),
    ]
    assert [r.status for r in saved.reviews] == ["needs correction", "approved"]
    with pytest.raises(TranscriptNotFound):
        store.add_review("nope", "rita", "approved")
    summary = store.conversations()[0]
    assert (summary.turns, summary.reviewed) == (1, 1)


def test_search_by_text_user_and_date(store: TranscriptStore) -> None:
    first = store.start_conversation("alice")
    store.record_answer(store.record_question(first, "alice", "What does it cost?", RUN), ANSWER)
    second = store.start_conversation("bob")
    store.record_question(second, "bob", "Which clouds sell 100% of it?", RUN)
    assert [c.id for c in store.conversations()] == [second, first]  # same second: newest first
    assert [c.id for c in store.conversations(user="alice")] == [first]
    assert [c.id for c in store.conversations(text="PER MILLION")] == [first]  # any case
    assert [c.id for c in store.conversations(text="100%")] == [second]  # % is literal
    assert store.conversations(text="1_0") == []
    today = date.today()
    assert len(store.conversations(since=today, until=today)) == 2
    assert store.conversations(until=date(2000, 1, 1)) == []
    assert [c.id for c in store.conversations(limit=1)] == [second]


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
