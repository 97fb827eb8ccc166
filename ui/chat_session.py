"""What the Chat tab keeps per browser session, and the components that show it.

Per browser session the app keeps a `Session`: the open conversation and, for each answer in
the chat, its saved turn and its Answer (assistant message i of the chat is answer i). One
answer is selected: the citation chips, the sources panel, the conflict banner and the
feedback form are about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.blocks import Block

from bot.answering.answers import Answer
from bot.transcripts.store import TranscriptNotFound
from bot.transcripts.types import Conversation
from bot.workspace.access import AccessError
from bot.workspace.service import Exchange
from ui.people import Context
from ui.render import EMPTY_PANEL, chip_label, conflict_banner

RECONNECTED = "The server was restarted while this page was open: the conversation continues."


@dataclass(frozen=True)
class Session:
    conversation_id: str = ""
    turn_ids: tuple[str, ...] = ()
    answers: tuple[Answer | None, ...] = ()
    selected: int = -1  # which answer the chips, sources panel and feedback are about

    @property
    def answer(self) -> Answer | None:
        return self.answers[self.selected] if 0 <= self.selected < len(self.answers) else None

    @property
    def turn_id(self) -> str:
        return self.turn_ids[self.selected] if 0 <= self.selected < len(self.turn_ids) else ""

    def failed(self) -> Session:
        """The session after a question that failed once the chat showed it: a place with no
        answer, so that message i of the chat stays answer i // 2."""
        return Session(self.conversation_id, (*self.turn_ids, ""), (*self.answers, None), -1)

    def added(self, exchange: Exchange) -> Session:
        return Session(
            exchange.conversation_id,
            (*self.turn_ids, exchange.turn_id),
            (*self.answers, exchange.answer),
            len(self.answers),
        )


@dataclass(frozen=True)
class ChatParts:
    """The chat tab's components that its panels' handlers read or update."""

    chat: gr.Chatbot
    box: gr.Textbox
    session: gr.State
    remembered: gr.BrowserState  # the open conversation's id, kept in the browser across reloads
    chips: gr.Radio
    panel: gr.HTML
    banner: gr.HTML

    def selection(self) -> list[Block]:
        """The components `selection_updates` fills, in its order."""
        return [self.session, self.chips, self.panel, self.banner]


def selection_updates(session: Session) -> tuple[Session, gr.Radio, str, str]:
    """The chips, panel and banner for the selected answer."""
    answer = session.answer
    choices = [(chip_label(c), c.n) for c in answer.citations] if answer else []
    label = f"Citations of answer {session.selected + 1}" if answer else "Citations"
    chips = gr.Radio(choices=choices, value=None, label=label)
    return session, chips, EMPTY_PANEL, conflict_banner(answer)


def session_of(conversation: Conversation) -> Session:
    """A saved conversation as the page's session, its last answer selected."""
    return Session(
        conversation.id,
        tuple(t.id for t in conversation.turns),
        tuple(t.answer for t in conversation.turns),
        len(conversation.turns) - 1,
    )


def resumed(
    context: Context,
    session: Session,
    remembered: str,
    history: list[dict[str, Any]],
    request: gr.Request,
) -> Session:
    """The page's session; for a page that outlived the server (a restart: the chat shows a
    conversation the new server has no session for), the conversation the browser remembers,
    so that the next question continues it instead of starting another. Says so once."""
    if session.conversation_id or not remembered or not history:
        return session
    try:
        conversation = context.workspace.conversation(context.user(request), remembered)
    except (TranscriptNotFound, AccessError):  # forgotten or foreign: a new conversation
        return session
    gr.Info(RECONNECTED, duration=8)
    return session_of(conversation)
