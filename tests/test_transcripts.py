"""Transcripts in SQLite: migrations, turns saved as they happen, feedback, reviews, search,
and the database chosen by URL. The tests on `each_store` run in PostgreSQL too, where the
test server runs (what only PostgreSQL shows: test_transcripts_postgres.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy import Engine as SqlEngine

from bot.answering.answers import Answer, Citation, Claim, Conflict
from bot.answering.engine import Engine
from bot.settings import Settings
from bot.transcripts.database import database_url, open_engine
from bot.transcripts.migrations import MIGRATIONS, migrate
from bot.transcripts.store import TranscriptError, TranscriptNotFound, TranscriptStore
from bot.transcripts.types import RunInfo
from bot.workspace.access import LOCAL
from bot.workspace.service import Workspace
from tests.conftest import CORPUS, run_cli
from tests.servers import free_port

RUN = RunInfo("extractive", "extractive (e5)", {"top_k": 8}, "f" * 64, "0.1.0")
CITATION = Citation(
    n=1,
    source="corpus/004_910b252cb6477a8d.txt",
    title="Mistral Medium — vendor documentation",
    kind="vendor-docs",
    date="2025-05",
    quote="**Output:** $2 per million tokens",
    start=1063,
    end=1096,
    sha256="a" * 64,
    chunk_id="k:3",
)
ANSWER = Answer(
    question="What does it cost?",
    answer="Output costs $2 per million tokens [1].",
    backend="extractive",
    model="extractive (e5)",
    grounded=True,
    citations=(CITATION,),
    notices=("a notice",),
    rewritten_query="What does Mistral Medium 3 cost?",
    conflicts=(Conflict("weights", (Claim(1, "open"),)),),
    latency_ms=12.5,
)


@pytest.fixture
def store(tmp_path: Path) -> TranscriptStore:
    return TranscriptStore(tmp_path / "transcripts.sqlite")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def each_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TranscriptStore]:
    """The store in SQLite, then in PostgreSQL (a new database on conftest's server, skipped
    where that server cannot run): the same SQL has to behave the same in both."""
    database: Path | str = (
        tmp_path / "transcripts.sqlite"
        if request.param == "sqlite"
        else request.getfixturevalue("url")
    )
    store = TranscriptStore(database)
    yield store
    store.close()


def sqlite_engine(path: Path) -> SqlEngine:
    """The engine the store uses on this SQLite file."""
    return open_engine(database_url(path), busy_timeout=10.0)


def test_all_migrations_run_on_an_empty_database_and_are_recorded(tmp_path: Path) -> None:
    applied = migrate(sqlite_engine(tmp_path / "t.sqlite"))
    assert applied == [m.__name__ for m in MIGRATIONS]
    db = sqlite3.connect(tmp_path / "t.sqlite")
    recorded = [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert recorded == applied
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"conversations", "turns", "citations", "feedback", "reviews"} <= tables
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()
    assert migrate(sqlite_engine(tmp_path / "t.sqlite")) == []


def test_an_older_database_is_upgraded_without_losing_what_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    migrate(sqlite_engine(path), MIGRATIONS[:1])
    db = sqlite3.connect(path, isolation_level=None)
    for n, day in enumerate(["2026-01-02", "2026-01-01", "2026-01-02"], start=1):
        db.execute(f"INSERT INTO conversations VALUES ('c{n}', 'alice', 'old', '{day}', '{day}')")
    db.close()
    store = TranscriptStore(path)
    assert store.conversation("c1").title == "old"
    assert [c.id for c in store.conversations()] == ["c3", "c1", "c2"]  # ties: the latest first
    turn = store.record_question("c1", "alice", "q?", RUN)
    store.add_feedback(turn, "alice", "up")
    newer = store.start_conversation("alice", at="2026-01-02")
    assert [c.id for c in store.conversations()][:2] == ["c1", newer]


def test_a_failing_migration_leaves_nothing_half_done(tmp_path: Path) -> None:
    def broken(db: Connection) -> None:
        db.exec_driver_sql("CREATE TABLE half (x)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        migrate(sqlite_engine(tmp_path / "t.sqlite"), (*MIGRATIONS, broken))
    db = sqlite3.connect(tmp_path / "t.sqlite")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half" not in tables
    assert "broken" not in {row[0] for row in db.execute("SELECT name FROM _migrations")}
    assert len(list(db.execute("SELECT name FROM _migrations"))) == len(MIGRATIONS)
    db.close()


def test_a_question_is_saved_before_its_answer_and_the_answer_round_trips(
    each_store: TranscriptStore,
) -> None:
    store = each_store
    conversation = store.start_conversation("alice")
    turn = store.record_question(conversation, "alice", "What does it cost?", RUN)
    pending = store.conversation(conversation).turns[0]
    assert (pending.status, pending.answer, pending.position) == ("pending", None, 1)
    store.record_answer(turn, ANSWER)
    saved = store.conversation(conversation)
    assert saved.title == "What does it cost?"
    assert saved.turns[0].answer == ANSWER
    assert saved.turns[0].run == RUN
    assert saved.turns[0].status == "answered" and saved.turns[0].answered_at
    second = store.record_question(conversation, "alice", "And for 3.1?", RUN)
    store.record_failure(second, "the index cannot be opened")
    turns = store.conversation(conversation).turns
    assert [t.position for t in turns] == [1, 2]
    assert (turns[1].status, turns[1].error) == ("failed", "the index cannot be opened")


def test_citations_are_kept_in_their_own_table_for_audits(each_store: TranscriptStore) -> None:
    store = each_store
    conversation = store.start_conversation("alice")
    store.record_answer(store.record_question(conversation, "alice", "q?", RUN), ANSWER)
    with store.engine.connect() as db:
        row = db.execute(text('SELECT source, start, "end", quote, sha256 FROM citations')).one()
    assert tuple(row) == (CITATION.source, 1063, 1096, CITATION.quote, "a" * 64)


def test_feedback_is_replaced_and_reviews_kept_as_history(each_store: TranscriptStore) -> None:
    store = each_store
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
    assert saved.review is not None and saved.review.status == "approved"
    with pytest.raises(TranscriptNotFound):
        store.add_review("nope", "rita", "approved")
    summary = store.conversations()[0]
    assert (summary.turns, summary.reviewed) == (1, 1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, t: s.add_feedback(t, "a", "meh"), "'up' or 'down'"),
        (lambda s, t: s.add_feedback(t, "a", "down", "because"), "The reason is one of"),
        (lambda s, t: s.add_review(t, "r", "fine"), "approved"),
        (lambda s, t: s.add_review(t, "r", "needs correction", " "), "Say what needs"),
        (lambda s, t: s.add_review("nope", "r", "approved"), "no answer 'nope'"),
    ],
)
def test_wrong_feedback_and_reviews_are_refused_and_change_nothing(
    store: TranscriptStore, call: object, message: str
) -> None:
    conversation = store.start_conversation("alice")
    turn = store.record_question(conversation, "alice", "q?", RUN)
    with pytest.raises(TranscriptError, match=message):
        call(store, turn)  # type: ignore[operator]
    saved = store.conversation(conversation).turns[0]
    assert saved.feedback == () and saved.reviews == ()


def test_search_by_text_user_and_date(each_store: TranscriptStore) -> None:
    store = each_store
    first = store.start_conversation("alice")
    store.record_answer(store.record_question(first, "alice", "What does it cost?", RUN), ANSWER)
    second = store.start_conversation("bob")
    store.record_question(second, "bob", "Which clouds sell 100% of it?", RUN)
    assert [c.id for c in store.conversations()] == [second, first]  # same second: newest first
    assert [c.id for c in store.conversations(user="alice")] == [first]
    assert [c.id for c in store.conversations(text="per million")] == [first]  # in the answer
    assert [c.id for c in store.conversations(text="PER MILLION")] == [first]  # any case
    assert [c.id for c in store.conversations(text="100%")] == [second]  # % is literal
    assert store.conversations(text="1_0") == []
    today = date.today()
    assert len(store.conversations(since=today, until=today)) == 2
    assert store.conversations(until=date(2000, 1, 1)) == []
    assert [c.id for c in store.conversations(limit=1)] == [second]
    summary = store.conversations(user="alice")[0]
    assert (summary.turns, summary.reviewed) == (1, 0)


def test_unknown_ids_are_clear_errors(store: TranscriptStore) -> None:
    with pytest.raises(TranscriptNotFound, match="no conversation 'x'"):
        store.conversation("x")
    with pytest.raises(TranscriptNotFound):
        store.record_question("x", "alice", "q?", RUN)


def test_a_database_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(TranscriptError, match=r"cannot be opened.*writable"):
        TranscriptStore(path)


def test_conversations_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    first = TranscriptStore(path)
    conversation = first.start_conversation("alice")
    first.record_answer(first.record_question(conversation, "alice", "q?", RUN), ANSWER)
    assert TranscriptStore(path).conversation(conversation).turns[0].answer == ANSWER


def test_a_sqlite_url_is_the_same_database_as_its_path(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "t.sqlite"
    by_url = TranscriptStore(f"sqlite:///{path}")
    assert by_url.path == path and by_url.where == str(path)
    conversation = by_url.start_conversation("alice")
    by_url.record_answer(by_url.record_question(conversation, "alice", "q?", RUN), ANSWER)
    assert TranscriptStore(path).conversation(conversation).turns[0].answer == ANSWER


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url with s3cret-pw", "not a valid SQLAlchemy URL"),
        ("postgresql+psycopg://u:s3cret-pw@h:port/db", "not a valid SQLAlchemy URL"),
        ("mysql://u:s3cret-pw@h/db", "is mysql: procurebot keeps transcripts in SQLite or"),
        ("postgresql+nodriver://u:s3cret-pw@h/db", "driver of the transcript database"),
        ("postgresql+psycopg2://u:s3cret-pw@h/db", "install 'psycopg[binary]'"),
        ("postgresql+psycopg://u:s3cret-pw@127.0.0.1:1/db", "cannot be opened"),
        ("postgresql+psycopg://u@127.0.0.1:1/db?password=s3cret-pw", "u@127.0.0.1:1/db cannot"),
    ],
)
def test_a_bad_url_is_a_one_line_error_without_its_password(url: str, message: str) -> None:
    with pytest.raises(TranscriptError) as refused:
        TranscriptStore(url, busy_timeout=1)
    shown = str(refused.value)
    assert message in shown
    assert "\n" not in shown and "s3cret-pw" not in shown


def test_a_sqlite_file_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(TranscriptError, match=r"cannot be opened.*writable"):
        TranscriptStore(f"sqlite:///{tmp_path / 'file' / 't.sqlite'}")


def test_the_app_and_the_command_line_use_the_transcripts_url(
    engine: Engine, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "shared" / "transcripts.sqlite"
    monkeypatch.setenv("PROCUREBOT_TRANSCRIPTS_URL", f"sqlite:///{elsewhere}")
    settings = Settings(data_dir=data_dir, corpus_dir=CORPUS)
    exchange = Workspace.open(settings).ask(LOCAL, "Which clouds offer Mistral Medium 3?")
    assert TranscriptStore(elsewhere).conversation(exchange.conversation_id).turns
    with pytest.raises(TranscriptNotFound):  # not in the data folder's database
        TranscriptStore(settings.transcripts_path).conversation(exchange.conversation_id)
    env = {"PROCUREBOT_TRANSCRIPTS_URL": f"sqlite:///{elsewhere}"}
    listed = run_cli("conversations", data_dir=data_dir, env=env)
    assert listed.returncode == 0, listed.stderr
    assert exchange.conversation_id in listed.stdout.decode()
    out = tmp_path / "out"
    exported = run_cli(
        "export", exchange.conversation_id, "--out", str(out), data_dir=data_dir, env=env
    )
    assert exported.returncode == 0, exported.stderr
    assert run_cli("export", exchange.conversation_id, data_dir=data_dir).returncode == 1


def test_serving_with_a_refused_transcripts_url_is_one_line_without_the_password(
    tmp_path: Path,
) -> None:
    url = "postgresql+psycopg://procurebot:s3cret-pw@127.0.0.1:1/transcripts"
    env = {"PROCUREBOT_TRANSCRIPTS_URL": url}
    served = run_cli("serve", "--port", str(free_port()), data_dir=tmp_path, env=env, timeout=120)
    assert served.returncode == 1
    shown = served.stderr.decode()
    assert shown.startswith(
        "procurebot: error: The transcript database "
        "postgresql+psycopg://procurebot:***@127.0.0.1:1/transcripts cannot be opened"
    )
    assert shown.count("\n") == 1 and "s3cret-pw" not in shown
    logged = b"".join(p.read_bytes() for p in tmp_path.rglob("*.log"))
    assert logged and b"s3cret-pw" not in logged
