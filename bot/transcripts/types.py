"""The values a transcript is made of (conversations, their turns, feedback and reviews) and
the errors of the transcript database.

Kept apart from the store (`bot.transcripts.store`), which reads and writes them, so that code
that only uses the values (the exports, for one) does not load the database code with them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.answering.answers import Answer, answer_from_json
from bot.errors import ProcurebotError


class TranscriptError(ProcurebotError):
    """The transcript database cannot be read or written."""


class InvalidVerdict(TranscriptError):
    """A review or feedback its author can correct (no verdict, no note for a correction)."""


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


def turn_from_row(
    row: tuple[Any, ...], feedback: tuple[Feedback, ...], reviews: tuple[Review, ...]
) -> Turn:
    """A turn from its row of the `turns` table (the columns in the store's SELECT order)."""
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
