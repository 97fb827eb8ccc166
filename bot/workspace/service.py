"""The workspace: answering with transcripts, access rules, feedback, reviews and exports.

The web app and its API call this, never the engine or the transcript store directly, so the
rules hold the same everywhere: a question is saved before it is answered; a person sees their
own conversations, a reviewer everyone's; only an admin changes the documents.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bot.answering.answers import Answer
from bot.answering.engine import Engine
from bot.answering.questions import clean_question
from bot.errors import CatalogError, ProcurebotError
from bot.settings import Settings
from bot.transcripts.backlog import Backlog, Saving
from bot.transcripts.store import TranscriptError, TranscriptNotFound, TranscriptStore
from bot.transcripts.types import Conversation, ConversationSummary, Feedback, RunInfo
from bot.workspace.access import NotAllowed, User
from bot.workspace.documents import DocumentDetails, save_details
from bot.workspace.sources import SourceView, source_view
from bot.workspace.uploads import UploadResult, add_uploads, remove_upload
from index.indexing import IndexReport, Progress

logger = logging.getLogger(__name__)


def app_version() -> str:
    try:
        return version("procurebot")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Exchange:
    """A question answered within a conversation."""

    conversation_id: str
    turn_id: str
    answer: Answer


def _with_saving(answer: Answer, saving: Saving) -> Answer:
    """The answer with a notice of what its transcript writes did, when not simply saved."""
    notices: list[str] = []
    if saving.problems:
        notices.append(
            f"This answer is not saved in the transcript yet ({saving.problems[0]}). The "
            "conversation is kept in memory and will be saved as soon as the database can be "
            "written; export it to keep a copy now."
        )
    if saving.saved_later:
        notices.append(
            f"{saving.saved_later} earlier question(s) kept in memory are now saved in the "
            "transcript."
        )
    return replace(answer, notices=(*answer.notices, *notices)) if notices else answer


class Workspace:
    def __init__(self, engine: Engine, transcripts: TranscriptStore) -> None:
        self.engine = engine
        self.transcripts = transcripts
        self.backlog = Backlog(transcripts)
        self.version = app_version()

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None) -> Workspace:
        """The engine (building the index on first use) and the transcript database."""
        transcripts = TranscriptStore(settings.transcripts_database_url)
        return cls(Engine.open(settings, progress), transcripts)

    @property
    def badge(self) -> str:
        """Who answers: shown beside the chat."""
        answerer = self.engine.answerer
        if answerer is self.engine.offline:
            return "offline, extractive"
        return f"{answerer.name} · {answerer.model}"

    def run_info(self) -> RunInfo:
        answerer = self.engine.answerer
        return RunInfo(
            backend=answerer.name,
            model=answerer.model,
            parameters=self.engine.parameters(),
            corpus_fingerprint=self.engine.corpus_fingerprint,
            app_version=self.version,
        )

    def ask(self, user: User, question: str, conversation_id: str = "") -> Exchange:
        *_, last = self.ask_stream(user, question, conversation_id)
        assert isinstance(last, Exchange)
        return last

    def ask_stream(
        self, user: User, question: str, conversation_id: str = ""
    ) -> Iterator[str | Exchange]:
        """Yield the answer's text as it is written, then the saved Exchange.

        The question is checked first (QuestionError: nothing saved), then saved, then answered.
        When the transcript database refuses a write (locked, disk full) the turn is kept in
        memory until it can be written, and the answer says so.
        """
        cleaned = clean_question(question, self.engine.settings.max_question_chars)
        question = question.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates
        history: list[str] = []
        position = 1
        if conversation_id:
            conversation = self.conversation(user, conversation_id)
            if conversation.user != user.name:
                raise NotAllowed("Only the person who started a conversation can ask in it.")
            history = [t.question for t in conversation.turns if t.status == "answered"]
            position = len(conversation.turns) + 1
        saving = Saving()
        if not conversation_id:
            conversation_id = self.backlog.start_conversation(user.name, cleaned.text, saving)
        turn_id = self.backlog.record_question(
            conversation_id, position, user.name, question, self.run_info(), saving
        )
        try:
            for item in self.engine.ask_stream(question, history):
                if isinstance(item, Answer):
                    self.backlog.record_answer(turn_id, item, saving)
                    yield Exchange(conversation_id, turn_id, _with_saving(item, saving))
                else:
                    yield item
        except ProcurebotError as exc:
            self.backlog.record_failure(turn_id, str(exc), saving)
            raise

    def conversation(self, user: User, conversation_id: str) -> Conversation:
        """A conversation the person may read; someone else's is reported as not found.

        Turns the database has not taken yet are included, from memory."""
        conversation = self.backlog.merged(conversation_id)
        if conversation.user != user.name and not user.sees_everyone:
            raise TranscriptNotFound(f"There is no conversation {conversation_id!r}.")
        return conversation

    def conversations(
        self,
        user: User,
        text: str = "",
        owner: str = "",
        since: date | None = None,
        until: date | None = None,
    ) -> list[ConversationSummary]:
        """The conversations the person may read, newest first, filtered."""
        if not user.sees_everyone:
            owner = user.name
        unsaved = [
            c
            for c in self.backlog.unsaved_conversations(owner or None)
            if text.casefold() in c.title.casefold()
        ]
        return unsaved + self.transcripts.conversations(owner or None, text, since, until)

    def feedback(
        self, user: User, turn_id: str, rating: str, reason: str = "", comment: str = ""
    ) -> None:
        """Thumbs up or down on an answer of one's own conversation (reviewers: any)."""
        self._require_saved(turn_id)
        self.conversation(user, self.transcripts.turn_conversation(turn_id))
        self.transcripts.add_feedback(turn_id, user.name, rating, reason, comment)

    def withdraw_feedback(self, user: User, turn_id: str) -> None:
        """Take back one's own thumbs up or down on an answer."""
        self._require_saved(turn_id)
        self.conversation(user, self.transcripts.turn_conversation(turn_id))
        self.transcripts.remove_feedback(turn_id, user.name)

    def own_feedback(self, user: User, conversation_id: str, turn_id: str) -> Feedback | None:
        """What `user` last said of one answer of a conversation they may read (None: nothing)."""
        turns = self.conversation(user, conversation_id).turns
        said = [f for t in turns if t.id == turn_id for f in t.feedback if f.user == user.name]
        return said[-1] if said else None

    def review(self, user: User, turn_id: str, status: str, note: str = "") -> None:
        if not user.reviews:
            raise NotAllowed("Only a reviewer can review answers.")
        self._require_saved(turn_id)
        self.conversation(user, self.transcripts.turn_conversation(turn_id))
        self.transcripts.add_review(turn_id, user.name, status, note)

    def _require_saved(self, turn_id: str) -> None:
        if self.backlog.holds(turn_id):
            self.backlog.flush()
        if self.backlog.holds(turn_id):
            raise TranscriptError(
                "This answer is not saved yet (the transcript database is unavailable): "
                "try again once it is."
            )

    def export(self, user: User, conversation_id: str, fmt: str, folder: Path) -> Path:
        """Write the conversation for review as `fmt` (md, json, docx) into `folder`."""
        from bot.transcripts.exports import export

        return export(self.conversation(user, conversation_id), fmt, folder)

    def add_documents(
        self, user: User, files: list[tuple[str, Path]], progress: Progress | None = None
    ) -> tuple[UploadResult, IndexReport | None]:
        """Keep the uploads that read as documents, then index them (None: nothing kept)."""
        self._require_admin(user)
        settings = self.engine.settings
        result = add_uploads(settings.uploads_dir, files, settings.max_upload_mb * 2**20)
        report = self.engine.reindex(progress) if result.added else None
        return result, report

    def set_document_details(
        self, user: User, source: str, details: DocumentDetails, progress: Progress | None = None
    ) -> IndexReport:
        """Correct an indexed document's title, kind and date (kept in its folder's catalog),
        then re-index: metadata only. CatalogError when a detail is wrong: nothing changes."""
        self._require_admin(user)
        records = {d.source: d for d in self.engine.documents()}
        if source not in records:
            raise CatalogError(f"{source} is not an indexed document.")
        today = self.engine.settings.today or date.today()
        save_details(self.engine.settings, records[source], details, user.name, today)
        return self.engine.reindex(progress)

    def remove_document(
        self, user: User, source: str, progress: Progress | None = None
    ) -> IndexReport:
        self._require_admin(user)
        remove_upload(self.engine.settings.uploads_dir, source)
        return self.engine.reindex(progress)

    def reindex(self, user: User, progress: Progress | None = None) -> IndexReport:
        self._require_admin(user)
        return self.engine.reindex(progress)

    @staticmethod
    def _require_admin(user: User) -> None:
        if not user.manages_documents:
            raise NotAllowed("Only an admin can change the documents.")

    def source(self, answer: Answer, n: int) -> SourceView:
        """Citation `n` of an answer, in its passage."""
        for citation in answer.citations:
            if citation.n == n:
                settings = self.engine.settings
                folders = {
                    settings.corpus_dir.name: settings.corpus_dir,
                    settings.uploads_dir.name: settings.uploads_dir,
                }
                return source_view(folders, citation)
        raise TranscriptNotFound(f"The answer has no citation [{n}].")
