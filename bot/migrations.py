"""The transcript database's schema, as numbered migrations recorded in the database itself.

Each migration runs once, in order, in its own transaction; its name goes into `_migrations`
with the time it ran. A database made by an older procurebot is brought up to date on open,
and nothing already saved is touched. Add a change as a new function at the end: never edit
one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

Migration = Callable[[sqlite3.Connection], None]


def m001_conversations_and_turns(db: sqlite3.Connection) -> None:
    _run(
        db,
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            title TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX conversations_by_user ON conversations (user, updated_at);
        CREATE TABLE turns (
            id TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations (id),
            position INTEGER NOT NULL,
            user TEXT NOT NULL,
            question TEXT NOT NULL,
            rewritten_query TEXT NOT NULL DEFAULT '',
            answer TEXT NOT NULL DEFAULT '',
            grounded INTEGER,
            status TEXT NOT NULL,  -- pending | answered | failed
            error TEXT NOT NULL DEFAULT '',
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            parameters TEXT NOT NULL,  -- JSON
            corpus_fingerprint TEXT NOT NULL,
            app_version TEXT NOT NULL,
            asked_at TEXT NOT NULL,
            answered_at TEXT,
            answer_json TEXT,  -- the whole Answer, as `procurebot ask --json` prints it
            UNIQUE (conversation_id, position)
        );
        CREATE TABLE citations (
            turn_id TEXT NOT NULL REFERENCES turns (id),
            n INTEGER NOT NULL,
            source TEXT NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            quote TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            PRIMARY KEY (turn_id, n)
        );
        """,
    )


def m002_feedback(db: sqlite3.Connection) -> None:
    _run(
        db,
        """
        CREATE TABLE feedback (
            turn_id TEXT NOT NULL REFERENCES turns (id),
            user TEXT NOT NULL,
            rating TEXT NOT NULL,  -- up | down
            reason TEXT NOT NULL DEFAULT '',
            comment TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            PRIMARY KEY (turn_id, user)
        );
        """,
    )


def m003_reviews(db: sqlite3.Connection) -> None:
    _run(
        db,
        """
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            turn_id TEXT NOT NULL REFERENCES turns (id),
            reviewer TEXT NOT NULL,
            status TEXT NOT NULL,  -- approved | needs correction
            note TEXT NOT NULL DEFAULT '',
            reviewed_at TEXT NOT NULL
        );
        CREATE INDEX reviews_by_turn ON reviews (turn_id, id);
        """,
    )


def _run(db: sqlite3.Connection, script: str) -> None:
    """Execute a script statement by statement, inside the caller's transaction.

    (`executescript` would commit first, and a failed migration could leave half a schema.)
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


MIGRATIONS: tuple[Migration, ...] = (
    m001_conversations_and_turns,
    m002_feedback,
    m003_reviews,
)


def migrate(db: sqlite3.Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[str]:
    """Apply the migrations `db` has not had yet; returns the names of those applied now."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for migration in migrations:
        name = migration.__name__
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            migration(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        applied.append(name)
    return applied
