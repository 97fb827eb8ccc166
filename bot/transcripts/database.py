"""The transcript database's connection: an SQLite file in the data folder, or a server that
several app replicas share, given by an SQLAlchemy URL (`postgresql+psycopg://…`).

On SQLite every connection has foreign keys on, the file in WAL mode (readers never wait for
a writer) and waits `busy_timeout` seconds for another program's lock; every transaction
begins IMMEDIATE (it takes the write lock at once, so two writers never deadlock upgrading a
read), except those of connections with the `READING` option, which begin deferred. SQLite
connections are opened per use and closed after it, as the sqlite3 module would. Server
connections are pooled and checked before use, so a restarted server costs no failed write.

Nothing here imports a database driver: SQLAlchemy loads the one a URL names when the engine
is made (ImportError: it is not installed).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from bot.transcripts.types import TranscriptError

# Execution options of a connection whose transactions only read (SQLite: BEGIN DEFERRED).
READING = {"procurebot_reading": True}
DIALECTS = ("sqlite", "postgresql")


def database_url(database: Path | str) -> URL:
    """The URL of an SQLite file, or of an SQLAlchemy URL string (ArgumentError, ValueError:
    it is not one)."""
    if isinstance(database, Path):
        return URL.create("sqlite", database=str(database))
    return make_url(database)


def sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite URL; None for a server or an in-memory database."""
    name = url.database or ""
    if url.get_backend_name() != "sqlite" or name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name)


def display_name(url: URL) -> str:
    """How messages name the database: the SQLite file, or the URL without its password and
    query (where libpq also takes one)."""
    path = sqlite_file(url)
    return str(path) if path is not None else url.set(query={}).render_as_string(True)


def reason(exc: BaseException, url: URL) -> str:
    """The driver's own message on one line, without the URL's password."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = " ".join(str(cause).split()) or type(cause).__name__
    in_query = url.query.get("password") or ()  # libpq takes one there too
    for secret in (url.password, *((in_query,) if isinstance(in_query, str) else in_query)):
        if secret:
            text = text.replace(str(secret), "***")
    return text


def open_engine(url: URL, busy_timeout: float) -> Engine:
    """An engine for `url` (ImportError: its driver is missing; ArgumentError: no such
    dialect)."""
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": busy_timeout})
    event.listen(engine, "connect", _sqlite_connected)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connected(db: sqlite3.Connection, _record: Any) -> None:
    # SQLAlchemy's recipe: sqlite3 emits no BEGIN of its own; `_sqlite_begin` does.
    db.isolation_level = None
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")


def _sqlite_begin(db: Connection) -> None:
    reading = db.get_execution_options().get("procurebot_reading", False)
    db.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def parse_url(database: Path | str) -> URL:
    """`database_url`, its failure a TranscriptError that never quotes the URL."""
    try:
        return database_url(database)
    except (ArgumentError, ValueError) as exc:  # the message may quote the URL: not shown
        raise TranscriptError(
            "The transcript database URL is not a valid SQLAlchemy URL: write it as "
            "dialect+driver://user:password@host:port/database (PROCUREBOT_TRANSCRIPTS_URL)."
        ) from exc


def connect(url: URL, busy_timeout: float) -> Engine:
    """`open_engine` for SQLite or PostgreSQL only; TranscriptError when the dialect is another
    or its driver is not installed."""
    where, dialect = display_name(url), url.get_backend_name()
    if dialect not in DIALECTS:
        raise TranscriptError(
            f"The transcript database {where} is {dialect}: procurebot keeps transcripts in "
            "SQLite or PostgreSQL (PROCUREBOT_TRANSCRIPTS_URL)."
        )
    try:
        return open_engine(url, busy_timeout)
    except (ImportError, ArgumentError) as exc:  # a driver not installed, or unknown
        raise TranscriptError(
            f"The driver of the transcript database {where} cannot be loaded "
            f"({reason(exc, url)}): for postgresql+psycopg://… install 'psycopg[binary]'."
        ) from exc
