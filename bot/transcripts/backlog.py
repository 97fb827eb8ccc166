"""Transcript writes the database refused (locked by another program, disk full), kept in
memory in their order and written as soon as the database takes them again.

Every question, answer and failure is written through the backlog. It first retries what is
waiting, then writes; when the database refuses, the write waits in memory, and so does the
turn it is about, so the conversation goes on — its history, its follow-ups, its export — and
nothing asked is lost while the server runs. What is already in the database is never touched
again except by these same writes, replayed in order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from bot.answering.answers import Answer
from bot.transcripts.store import TranscriptError, TranscriptNotFound, TranscriptStore
from bot.transcripts.types import Conversation, ConversationSummary, RunInfo, Turn, new_id, now

logger = logging.getLogger(__name__)

# After a refused write, new writes wait in memory without trying the database for this long,
# so that a locked database costs one lock timeout, not one per question.
RETRY_SECONDS = 5.0


@dataclass
class Saving:
    """What happened to the writes of one request, for the notice shown with the answer."""

    problems: list[str] = field(default_factory=list)  # why a write had to wait
    saved_later: int = 0  # turns kept in memory earlier that are now in the database


@dataclass(frozen=True)
class _Write:
    turn_id: str  # the turn the write is about ("" when it starts a conversation)
    run: Callable[[], object]
    conversation_id: str = ""  # the conversation it starts


@dataclass(frozen=True)
class _Head:
    user: str
    title: str
    created_at: str


class Backlog:
    """The transcript store's writes, with the ones it refused waiting in memory."""

    def __init__(self, store: TranscriptStore) -> None:
        self.store = store
        self._waiting: list[_Write] = []
        self._turns: dict[str, Turn] = {}  # turns being asked or waiting, by id
        self._heads: dict[str, _Head] = {}  # conversations not in the database yet
        self._refused_at = 0.0
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """How many writes wait in memory."""
        return len(self._waiting)

    def start_conversation(self, user: str, title: str, saving: Saving) -> str:
        conversation_id, at = new_id(), now()
        write = partial(self.store.start_conversation, user, conversation_id=conversation_id, at=at)
        with self._lock:
            if not self._submit(_Write("", write, conversation_id), saving):
                self._heads[conversation_id] = _Head(user, title, at)
        return conversation_id

    def record_question(
        self,
        conversation_id: str,
        position: int,
        user: str,
        question: str,
        run: RunInfo,
        saving: Saving,
    ) -> str:
        turn = Turn(
            id=new_id(),
            conversation_id=conversation_id,
            position=position,
            user=user,
            question=question,
            status="pending",
            error="",
            run=run,
            asked_at=now(),
            answered_at=None,
            answer=None,
        )
        write = partial(
            self.store.record_question,
            conversation_id,
            user,
            question,
            run,
            turn_id=turn.id,
            at=turn.asked_at,
        )
        with self._lock:
            self._turns[turn.id] = turn
            self._submit(_Write(turn.id, write), saving)
        return turn.id

    def record_answer(self, turn_id: str, answer: Answer, saving: Saving) -> None:
        at = now()
        write = partial(self.store.record_answer, turn_id, answer, at=at)
        self._finish(turn_id, write, saving, status="answered", answered_at=at, answer=answer)

    def record_failure(self, turn_id: str, message: str, saving: Saving) -> None:
        at = now()
        write = partial(self.store.record_failure, turn_id, message, at=at)
        self._finish(turn_id, write, saving, status="failed", answered_at=at, error=message)

    def _finish(
        self, turn_id: str, write: Callable[[], object], saving: Saving, **changes: object
    ) -> None:
        with self._lock:
            if turn_id in self._turns:
                self._turns[turn_id] = replace(self._turns[turn_id], **changes)  # type: ignore[arg-type]
            self._submit(_Write(turn_id, write), saving)
            self._forget_saved()

    def _submit(self, write: _Write, saving: Saving) -> bool:
        """Write now if nothing waits (or all that waited is now written); else wait. Whether
        it was written."""
        self._flush(saving, force=False)
        if not self._waiting:
            try:
                write.run()
                return True
            except TranscriptError as exc:
                logger.exception("the transcript database refused a write; kept in memory")
                self._refused_at = time.monotonic()
                saving.problems.append(str(exc))
        elif not saving.problems:
            saving.problems.append("the transcript database is still unavailable")
        self._waiting.append(write)
        return False

    def flush(self) -> Saving:
        """Try to write what waits now; what was written is in the result."""
        saving = Saving()
        with self._lock:
            self._flush(saving, force=True)
            self._forget_saved()
        return saving

    def _flush(self, saving: Saving, *, force: bool) -> None:
        if not self._waiting:
            return
        if not force and time.monotonic() - self._refused_at < RETRY_SECONDS:
            return
        written: set[str] = set()
        while self._waiting:
            write = self._waiting[0]
            try:
                write.run()
            except TranscriptNotFound:  # cannot ever succeed: never block the others on it
                logger.exception("a waiting transcript write was dropped")
            except TranscriptError:
                waiting = len(self._waiting)
                logger.warning("the transcript database still refuses %d write(s)", waiting)
                self._refused_at = time.monotonic()
                break
            self._waiting.pop(0)
            written.add(write.turn_id)
            self._heads.pop(write.conversation_id, None)
        saving.saved_later += len(written - {""})

    def _forget_saved(self) -> None:
        """Drop the turns that are whole in the database."""
        waiting = {w.turn_id for w in self._waiting}
        for turn_id, turn in list(self._turns.items()):
            if turn.status != "pending" and turn_id not in waiting:
                del self._turns[turn_id]

    def holds(self, turn_id: str) -> bool:
        """Whether the turn has writes waiting in memory."""
        with self._lock:
            return any(w.turn_id == turn_id for w in self._waiting)

    def merged(self, conversation_id: str) -> Conversation:
        """The conversation as saved, with its turns that wait in memory as they stand."""
        with self._lock:
            head = self._heads.get(conversation_id)
            waiting = {w.turn_id for w in self._waiting}
            kept = [
                t
                for t in self._turns.values()
                if t.conversation_id == conversation_id and t.id in waiting
            ]
        if head is not None:
            saved = Conversation(conversation_id, head.user, head.title, head.created_at, "")
        else:
            saved = self.store.conversation(conversation_id)
        turns = {t.id: t for t in saved.turns} | {t.id: t for t in kept}
        ordered = tuple(sorted(turns.values(), key=lambda t: t.position))
        updated = max([saved.updated_at, *(t.asked_at for t in ordered)])
        return replace(saved, turns=ordered, updated_at=updated)

    def unsaved_conversations(self, user: str | None) -> list[ConversationSummary]:
        """Conversations that exist only in memory, for the lists of conversations."""
        with self._lock:
            heads = dict(self._heads)
            counts = {c: sum(t.conversation_id == c for t in self._turns.values()) for c in heads}
        return [
            ConversationSummary(cid, h.user, h.title, h.created_at, h.created_at, counts[cid], 0)
            for cid, h in heads.items()
            if user is None or h.user == user
        ]
