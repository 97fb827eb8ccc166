"""Transcripts: every question and answer saved as it happens, in SQLite in the data folder.

A question is written before it is answered (status "pending") and its answer as soon as it
exists, so a server killed mid-answer loses nothing already asked. Feedback and reviews are
stored beside the turns they are about. The schema is in `bot.migrations`.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.answers import Answer, answer_from_json
from bot.errors import ProcurebotError
from bot.migrations import migrate

RATINGS = ("up", "down")
REASONS = ("wrong citation", "outdated", "missing document", "other")
REVIEW_STATUSES = ("approved", "needs correction")
TITLE_CHARS = 80


class TranscriptError(ProcurebotError):
    """The transcript database cannot be read or written."""


class TranscriptNotFound(TranscriptError):
    """No conversation or answer has this id (or it is not the caller's to see)."""


@dataclass(frozen=True)
class RunInfo:
    """What produced an answer: enough to reproduce it or to judge it later."""

    backend: str
    model: str
    parameters: dict[str, Any]
    corpus_fingerprint: str
    app_version: str


@dataclass(frozen=True)
class Feedback:
    user: str
    rating: str  # up | down
    reason: str
    comment: str
    created_at: str


@dataclass(frozen=True)
class Review:
    reviewer: str
    status: str  # approved | needs correction
    note: str
    reviewed_at: str


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and what was answered."""

    id: str
    conversation_id: str
    position: int  # 1, 2, … in the conversation
    user: str
    question: str
    status: str  # pending | answered | failed
    error: str
    run: RunInfo
    asked_at: str
    answered_at: str | None
    answer: Answer | None
    feedback: tuple[Feedback, ...] = ()
    reviews: tuple[Review, ...] = ()  # oldest first; the last one is the current review

    @property
    def review(self) -> Review | None:
        return self.reviews[-1] if self.reviews else None


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    user: str
    title: str
    created_at: str
    updated_at: str
    turns: int
    reviewed: int  # turns with a review


@dataclass(frozen=True)
class Conversation:
    id: str
    user: str
    title: str
    created_at: str
    updated_at: str
    turns: tuple[Turn, ...] = field(default=())


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id() -> str:
    return uuid.uuid4().hex


class TranscriptStore:
    """The transcript database. Every method opens its own connection: safe across threads."""

    def __init__(self, path: Path, busy_timeout: float = 10.0) -> None:
        """`busy_timeout`: how long a write waits for another program's lock before failing."""
        self.path = path
        self.busy_timeout = busy_timeout
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._db() as db:
                db.execute("PRAGMA journal_mode=WAL")
                migrate(db)
        except (OSError, sqlite3.Error) as exc:
            raise TranscriptError(
                f"The transcript database {path} cannot be opened ({exc}): check that the data "
                "folder is writable and has free space."
            ) from exc

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys=ON")
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction; an SQLite failure becomes a TranscriptError that says what to check."""
        try:
            with self._db() as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise TranscriptError(
                f"The transcript could not be saved to {self.path} ({exc}): check the disk "
                "space and that no other program holds the database."
            ) from exc

    def start_conversation(
        self, user: str, title: str = "", *, conversation_id: str = "", at: str = ""
    ) -> str:
        """A new conversation's id (`conversation_id` and `at`: a backlog writing it later)."""
        conversation_id = conversation_id or new_id()
        stamp = at or now()
        with self._write() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                (conversation_id, user, title[:TITLE_CHARS], stamp, stamp),
            )
        return conversation_id

    def record_question(
        self,
        conversation_id: str,
        user: str,
        question: str,
        run: RunInfo,
        *,
        turn_id: str = "",
        at: str = "",
    ) -> str:
        """Save a question before it is answered; returns the turn's id."""
        turn_id = turn_id or new_id()
        stamp = at or now()
        with self._write() as db:
            row = db.execute(
                "SELECT title, (SELECT COALESCE(MAX(position), 0) FROM turns "
                "WHERE conversation_id = ?) FROM conversations WHERE id = ?",
                (conversation_id, conversation_id),
            ).fetchone()
            if row is None:
                raise TranscriptNotFound(f"There is no conversation {conversation_id!r}.")
            title, last = row
            db.execute(
                "INSERT INTO turns (id, conversation_id, position, user, question, status, "
                "backend, model, parameters, corpus_fingerprint, app_version, asked_at) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)",
                (
                    turn_id,
                    conversation_id,
                    last + 1,
                    user,
                    question,
                    run.backend,
                    run.model,
                    json.dumps(run.parameters, sort_keys=True, default=str),
                    run.corpus_fingerprint,
                    run.app_version,
                    stamp,
                ),
            )
            db.execute(
                "UPDATE conversations SET updated_at = ?, title = ? WHERE id = ?",
                (stamp, title or " ".join(question.split())[:TITLE_CHARS], conversation_id),
            )
        return turn_id

    def record_answer(self, turn_id: str, answer: Answer, *, at: str = "") -> None:
        with self._write() as db:
            db.execute(
                "UPDATE turns SET status = 'answered', answer = ?, grounded = ?, "
                "rewritten_query = ?, backend = ?, model = ?, answered_at = ?, answer_json = ? "
                "WHERE id = ?",
                (
                    answer.answer,
                    int(answer.grounded),
                    answer.rewritten_query,
                    answer.backend,
                    answer.model,
                    at or now(),
                    json.dumps(answer.to_json(), ensure_ascii=False),
                    turn_id,
                ),
            )
            db.execute("DELETE FROM citations WHERE turn_id = ?", (turn_id,))
            db.executemany(
                "INSERT INTO citations VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (turn_id, c.n, c.source, c.start, c.end, c.quote, c.sha256)
                    for c in answer.citations
                ],
            )

    def record_failure(self, turn_id: str, message: str, *, at: str = "") -> None:
        with self._write() as db:
            db.execute(
                "UPDATE turns SET status = 'failed', error = ?, answered_at = ? WHERE id = ?",
                (message, at or now(), turn_id),
            )

    def add_feedback(
        self, turn_id: str, user: str, rating: str, reason: str = "", comment: str = ""
    ) -> None:
        """Record (or replace) `user`'s thumbs up or down on one answer."""
        if rating not in RATINGS:
            raise TranscriptError(f"Feedback is 'up' or 'down', not {rating!r}.")
        if reason and reason not in REASONS:
            raise TranscriptError(f"The reason is one of {', '.join(REASONS)}, not {reason!r}.")
        with self._write() as db:
            self._require_turn(db, turn_id)
            db.execute(
                "INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?, ?, ?)",
                (turn_id, user, rating, reason, comment.strip(), now()),
            )

    def add_review(self, turn_id: str, reviewer: str, status: str, note: str = "") -> None:
        """Record a reviewer's verdict on one answer; earlier verdicts are kept as history."""
        if status not in REVIEW_STATUSES:
            raise TranscriptError(
                f"A review is {' or '.join(repr(s) for s in REVIEW_STATUSES)}, not {status!r}."
            )
        if status == "needs correction" and not note.strip():
            raise TranscriptError("Say what needs correcting in the note.")
        with self._write() as db:
            self._require_turn(db, turn_id)
            db.execute(
                "INSERT INTO reviews (turn_id, reviewer, status, note, reviewed_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (turn_id, reviewer, status, note.strip(), now()),
            )

    @staticmethod
    def _require_turn(db: sqlite3.Connection, turn_id: str) -> None:
        if db.execute("SELECT 1 FROM turns WHERE id = ?", (turn_id,)).fetchone() is None:
            raise TranscriptNotFound(f"There is no answer {turn_id!r}.")

    def turn_conversation(self, turn_id: str) -> str:
        with self._read() as db:
            row = db.execute(
                "SELECT conversation_id FROM turns WHERE id = ?", (turn_id,)
            ).fetchone()
        if row is None:
            raise TranscriptNotFound(f"There is no answer {turn_id!r}.")
        return str(row[0])

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db() as db:
                yield db
        except sqlite3.Error as exc:
            raise TranscriptError(
                f"The transcript database {self.path} cannot be read ({exc})."
            ) from exc

    def conversation(self, conversation_id: str) -> Conversation:
        with self._read() as db:
            head = db.execute(
                "SELECT id, user, title, created_at, updated_at FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
            if head is None:
                raise TranscriptNotFound(f"There is no conversation {conversation_id!r}.")
            rows = db.execute(
                "SELECT id, conversation_id, position, user, question, status, error, backend, "
                "model, parameters, corpus_fingerprint, app_version, asked_at, answered_at, "
                "answer_json FROM turns WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
            turns = tuple(_turn(row, *self._notes(db, row[0])) for row in rows)
        conversation_id, user, title, created_at, updated_at = head
        return Conversation(conversation_id, user, title, created_at, updated_at, turns)

    @staticmethod
    def _notes(
        db: sqlite3.Connection, turn_id: str
    ) -> tuple[tuple[Feedback, ...], tuple[Review, ...]]:
        feedback = db.execute(
            "SELECT user, rating, reason, comment, created_at FROM feedback WHERE turn_id = ? "
            "ORDER BY created_at",
            (turn_id,),
        ).fetchall()
        reviews = db.execute(
            "SELECT reviewer, status, note, reviewed_at FROM reviews WHERE turn_id = ? ORDER BY id",
            (turn_id,),
        ).fetchall()
        return tuple(Feedback(*f) for f in feedback), tuple(Review(*r) for r in reviews)

    def conversations(
        self,
        user: str | None = None,
        text: str = "",
        since: date | None = None,
        until: date | None = None,
        limit: int = 200,
    ) -> list[ConversationSummary]:
        """Conversations, newest first; `user` None means everyone's. `text` searches the
        questions, answers and titles; `since`/`until` bound the last activity (inclusive)."""
        where, args = ["1 = 1"], []
        if user is not None:
            where.append("c.user = ?")
            args.append(user)
        if text.strip():
            where.append(
                "(c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM turns t WHERE "
                "t.conversation_id = c.id AND (t.question LIKE ? ESCAPE '\\' "
                "OR t.answer LIKE ? ESCAPE '\\')))"
            )
            pattern = "%" + _escape_like(text.strip()) + "%"
            args += [pattern, pattern, pattern]
        if since is not None:
            where.append("substr(c.updated_at, 1, 10) >= ?")
            args.append(since.isoformat())
        if until is not None:
            where.append("substr(c.created_at, 1, 10) <= ?")
            args.append(until.isoformat())
        query = (
            "SELECT c.id, c.user, c.title, c.created_at, c.updated_at, "
            "(SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id), "
            "(SELECT COUNT(DISTINCT r.turn_id) FROM reviews r JOIN turns t ON t.id = r.turn_id "
            "WHERE t.conversation_id = c.id) "
            f"FROM conversations c WHERE {' AND '.join(where)} "
            "ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ?"
        )
        with self._read() as db:
            rows = db.execute(query, [*args, limit]).fetchall()
        return [ConversationSummary(*row) for row in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _turn(
    row: tuple[Any, ...], feedback: tuple[Feedback, ...], reviews: tuple[Review, ...]
) -> Turn:
    (turn_id, conversation_id, position, user, question, status, error, backend, model) = row[:9]
    parameters, fingerprint, version, asked_at, answered_at, answer_json = row[9:]
    return Turn(
        id=turn_id,
        conversation_id=conversation_id,
        position=position,
        user=user,
        question=question,
        status=status,
        error=error,
        run=RunInfo(backend, model, json.loads(parameters), fingerprint, version),
        asked_at=asked_at,
        answered_at=answered_at,
        answer=answer_from_json(json.loads(answer_json)) if answer_json else None,
        feedback=feedback,
        reviews=reviews,
    )
