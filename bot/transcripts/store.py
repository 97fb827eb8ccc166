"""Transcripts: every question and answer saved as it happens, in SQLite in the data folder,
or in a database server that several app replicas share (`bot.transcripts.database`).

A question is written before it is answered (status "pending") and its answer as soon as it
exists, so a server killed mid-answer loses nothing already asked. Feedback and reviews are
stored beside the turns they are about. The schema is in `bot.transcripts.migrations`; the SQL
here runs on SQLite and PostgreSQL alike ("user" and "end" are quoted: PostgreSQL reserves
them); the values it reads and writes are in `bot.transcripts.types`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from bot.answering.answers import Answer
from bot.transcripts.database import READING, connect, display_name, parse_url, reason, sqlite_file
from bot.transcripts.migrations import migrate
from bot.transcripts.types import (
    Conversation,
    ConversationSummary,
    Feedback,
    InvalidVerdict,
    Review,
    RunInfo,
    TranscriptError,
    TranscriptNotFound,
    new_id,
    now,
    turn_from_row,
)

RATINGS = ("up", "down")
REASONS = ("wrong citation", "outdated", "missing document", "other")
REVIEW_STATUSES = ("approved", "needs correction")
TITLE_CHARS = 80


class TranscriptStore:
    """The transcript database. Safe across threads: every method takes its own connection."""

    def __init__(self, database: Path | str, busy_timeout: float = 10.0) -> None:
        """`database`: an SQLite file, or an SQLAlchemy URL (`sqlite:///…`,
        `postgresql+psycopg://…`). `busy_timeout`: how long an SQLite write waits for another
        program's lock before failing."""
        self.url = parse_url(database)
        self.path = sqlite_file(self.url)  # None for a database server
        self.where = display_name(self.url)  # for messages: never the password
        self.busy_timeout = busy_timeout
        self.engine = connect(self.url, busy_timeout)
        hint = (
            "check that the data folder is writable and has free space"
            if self.url.get_backend_name() == "sqlite"
            else "check the URL, that the server is running and that it accepts this user"
        )
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            migrate(self.engine)
        except (OSError, DBAPIError) as exc:
            self.engine.dispose()
            raise TranscriptError(
                f"The transcript database {self.where} cannot be opened "
                f"({reason(exc, self.url)}): {hint}."
            ) from exc

    def close(self) -> None:
        """Close the pooled connections to a database server (SQLite keeps none open)."""
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction; a database failure becomes a TranscriptError that says what to
        check."""
        try:
            with self.engine.begin() as db:
                yield db
        except DBAPIError as exc:
            check = (
                "check the disk space and that no other program holds the database"
                if self.url.get_backend_name() == "sqlite"
                else "check that the database server is running and reachable"
            )
            raise TranscriptError(
                f"The transcript could not be saved to {self.where} ({reason(exc, self.url)}): "
                f"{check}."
            ) from exc

    def start_conversation(
        self, user: str, title: str = "", *, conversation_id: str = "", at: str = ""
    ) -> str:
        """A new conversation's id (`conversation_id` and `at`: a backlog writing it later)."""
        conversation_id = conversation_id or new_id()
        stamp = at or now()
        with self._write() as db:
            db.execute(
                sql(
                    'INSERT INTO conversations (id, "user", title, created_at, updated_at, seq) '
                    "VALUES (:id, :user, :title, :at, :at, "
                    "(SELECT COALESCE(MAX(seq), 0) + 1 FROM conversations))"
                ),
                {"id": conversation_id, "user": user, "title": title[:TITLE_CHARS], "at": stamp},
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
            # Updating the conversation first locks it (on a server too), so two replicas
            # asking in one conversation at once number their turns one after the other.
            touched = db.execute(
                sql(
                    "UPDATE conversations SET updated_at = :at, title = CASE WHEN title = '' "
                    "THEN :title ELSE title END WHERE id = :id"
                ),
                {"at": stamp, "title": " ".join(question.split())[:TITLE_CHARS],
                 "id": conversation_id},
            )  # fmt: skip
            if touched.rowcount == 0:
                raise TranscriptNotFound(f"There is no conversation {conversation_id!r}.")
            last = db.execute(
                sql("SELECT COALESCE(MAX(position), 0) FROM turns WHERE conversation_id = :id"),
                {"id": conversation_id},
            ).scalar_one()
            pending = {"id": turn_id, "conversation_id": conversation_id, "position": last + 1}
            db.execute(_PENDING_TURN, {**pending, **_asked(user, question, run, stamp)})
        return turn_id

    def record_answer(self, turn_id: str, answer: Answer, *, at: str = "") -> None:
        with self._write() as db:
            db.execute(
                sql(
                    "UPDATE turns SET status = 'answered', answer = :answer, grounded = :grounded, "
                    "rewritten_query = :query, backend = :backend, model = :model, "
                    "answered_at = :at, answer_json = :json WHERE id = :id"
                ),
                {
                    "answer": answer.answer,
                    "grounded": int(answer.grounded),
                    "query": answer.rewritten_query,
                    "backend": answer.backend,
                    "model": answer.model,
                    "at": at or now(),
                    "json": json.dumps(answer.to_json(), ensure_ascii=False),
                    "id": turn_id,
                },
            )
            db.execute(sql("DELETE FROM citations WHERE turn_id = :id"), {"id": turn_id})
            if answer.citations:
                db.execute(
                    sql(
                        'INSERT INTO citations (turn_id, n, source, start, "end", quote, sha256) '
                        "VALUES (:turn_id, :n, :source, :start, :end, :quote, :sha256)"
                    ),
                    [
                        {"turn_id": turn_id, "n": c.n, "source": c.source, "start": c.start,
                         "end": c.end, "quote": c.quote, "sha256": c.sha256}
                        for c in answer.citations
                    ],
                )  # fmt: skip

    def record_failure(self, turn_id: str, message: str, *, at: str = "") -> None:
        with self._write() as db:
            db.execute(
                sql(
                    "UPDATE turns SET status = 'failed', error = :error, answered_at = :at "
                    "WHERE id = :id"
                ),
                {"error": message, "at": at or now(), "id": turn_id},
            )

    def add_feedback(
        self, turn_id: str, user: str, rating: str, reason: str = "", comment: str = ""
    ) -> None:
        """Record (or replace) `user`'s thumbs up or down on one answer."""
        if rating not in RATINGS:
            raise InvalidVerdict(f"Feedback is 'up' or 'down', not {rating!r}.")
        if reason and reason not in REASONS:
            raise InvalidVerdict(f"The reason is one of {', '.join(REASONS)}, not {reason!r}.")
        with self._write() as db:
            self._require_turn(db, turn_id)
            db.execute(
                sql(
                    'INSERT INTO feedback (turn_id, "user", rating, reason, comment, created_at) '
                    "VALUES (:turn_id, :user, :rating, :reason, :comment, :at) "
                    'ON CONFLICT (turn_id, "user") DO UPDATE SET rating = excluded.rating, '
                    "reason = excluded.reason, comment = excluded.comment, "
                    "created_at = excluded.created_at"
                ),
                {"turn_id": turn_id, "user": user, "rating": rating, "reason": reason,
                 "comment": comment.strip(), "at": now()},
            )  # fmt: skip

    def remove_feedback(self, turn_id: str, user: str) -> None:
        """Withdraw `user`'s feedback on one answer (a thumb clicked again); none is no error."""
        with self._write() as db:
            self._require_turn(db, turn_id)
            db.execute(
                sql('DELETE FROM feedback WHERE turn_id = :turn_id AND "user" = :user'),
                {"turn_id": turn_id, "user": user},
            )

    def add_review(self, turn_id: str, reviewer: str, status: str, note: str = "") -> None:
        """Record a reviewer's verdict on one answer; earlier verdicts are kept as history."""
        if status not in REVIEW_STATUSES:
            raise InvalidVerdict(
                f"A review is {' or '.join(repr(s) for s in REVIEW_STATUSES)}, not {status!r}."
            )
        if status == "needs correction" and not note.strip():
            raise InvalidVerdict("Say what needs correcting in the note.")
        with self._write() as db:
            self._require_turn(db, turn_id)
            db.execute(
                sql(
                    "INSERT INTO reviews (turn_id, reviewer, status, note, reviewed_at) "
                    "VALUES (:turn_id, :reviewer, :status, :note, :at)"
                ),
                {"turn_id": turn_id, "reviewer": reviewer, "status": status,
                 "note": note.strip(), "at": now()},
            )  # fmt: skip

    @staticmethod
    def _require_turn(db: Connection, turn_id: str) -> None:
        found = db.execute(sql("SELECT 1 FROM turns WHERE id = :id"), {"id": turn_id})
        if found.first() is None:
            raise TranscriptNotFound(f"There is no answer {turn_id!r}.")

    def turn_conversation(self, turn_id: str) -> str:
        with self._read() as db:
            found = db.execute(
                sql("SELECT conversation_id FROM turns WHERE id = :id"), {"id": turn_id}
            ).scalar_one_or_none()
        if found is None:
            raise TranscriptNotFound(f"There is no answer {turn_id!r}.")
        return str(found)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as db:
                db.execution_options(**READING)
                yield db
        except DBAPIError as exc:
            raise TranscriptError(
                f"The transcript database {self.where} cannot be read ({reason(exc, self.url)})."
            ) from exc

    def conversation(self, conversation_id: str) -> Conversation:
        with self._read() as db:
            head = db.execute(
                sql(
                    'SELECT id, "user", title, created_at, updated_at FROM conversations '
                    "WHERE id = :id"
                ),
                {"id": conversation_id},
            ).first()
            if head is None:
                raise TranscriptNotFound(f"There is no conversation {conversation_id!r}.")
            rows = db.execute(
                sql(
                    'SELECT id, conversation_id, position, "user", question, status, error, '
                    "backend, model, parameters, corpus_fingerprint, app_version, asked_at, "
                    "answered_at, answer_json FROM turns WHERE conversation_id = :id "
                    "ORDER BY position"
                ),
                {"id": conversation_id},
            ).all()
            turns = tuple(turn_from_row(tuple(row), *self._notes(db, row[0])) for row in rows)
        conversation_id, user, title, created_at, updated_at = head
        return Conversation(conversation_id, user, title, created_at, updated_at, turns)

    @staticmethod
    def _notes(db: Connection, turn_id: str) -> tuple[tuple[Feedback, ...], tuple[Review, ...]]:
        feedback = db.execute(
            sql(
                'SELECT "user", rating, reason, comment, created_at FROM feedback '
                "WHERE turn_id = :id ORDER BY created_at"
            ),
            {"id": turn_id},
        ).all()
        reviews = db.execute(
            sql(
                "SELECT reviewer, status, note, reviewed_at FROM reviews WHERE turn_id = :id "
                "ORDER BY id"
            ),
            {"id": turn_id},
        ).all()
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
        where, args = ["1 = 1"], dict[str, object]()
        if user is not None:
            where.append('c."user" = :user')
            args["user"] = user
        if text.strip():
            # lower() on both sides: PostgreSQL's LIKE tells case apart, SQLite's does not.
            where.append(
                "(lower(c.title) LIKE lower(:pattern) ESCAPE '\\' OR EXISTS (SELECT 1 FROM turns t "
                "WHERE t.conversation_id = c.id AND (lower(t.question) LIKE lower(:pattern) "
                "ESCAPE '\\' OR lower(t.answer) LIKE lower(:pattern) ESCAPE '\\')))"
            )
            args["pattern"] = "%" + _escape_like(text.strip()) + "%"
        if since is not None:
            where.append("substr(c.updated_at, 1, 10) >= :since")
            args["since"] = since.isoformat()
        if until is not None:
            where.append("substr(c.created_at, 1, 10) <= :until")
            args["until"] = until.isoformat()
        query = sql(
            'SELECT c.id, c."user", c.title, c.created_at, c.updated_at, '
            "(SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id), "
            "(SELECT COUNT(DISTINCT r.turn_id) FROM reviews r JOIN turns t ON t.id = r.turn_id "
            "WHERE t.conversation_id = c.id) "
            f"FROM conversations c WHERE {' AND '.join(where)} "
            "ORDER BY c.updated_at DESC, c.seq DESC LIMIT :limit"
        )
        with self._read() as db:
            rows = db.execute(query, {**args, "limit": limit}).all()
        return [ConversationSummary(*row) for row in rows]


_PENDING_TURN = sql(
    'INSERT INTO turns (id, conversation_id, position, "user", question, status, '
    "backend, model, parameters, corpus_fingerprint, app_version, asked_at) "
    "VALUES (:id, :conversation_id, :position, :user, :question, 'pending', "
    ":backend, :model, :parameters, :fingerprint, :version, :at)"
)


def _asked(user: str, question: str, run: RunInfo, stamp: str) -> dict[str, str]:
    """The values of a pending turn's row but its id and position."""
    return {
        "user": user,
        "question": question,
        "backend": run.backend,
        "model": run.model,
        "parameters": json.dumps(run.parameters, sort_keys=True, default=str),
        "fingerprint": run.corpus_fingerprint,
        "version": run.app_version,
        "at": stamp,
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
