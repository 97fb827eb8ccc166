"""The Chat tab's saved conversations: the panel that lists, reopens and exports them, the
reopening of the one a browser had open (after a reload or a restart), and a saved conversation
as the chat shows it."""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.blocks import Block

from bot.transcripts.store import TranscriptNotFound
from bot.transcripts.types import Conversation, Turn
from bot.workspace.access import AccessError
from ui.chat_session import ChatParts, Session, resumed, selection_updates, session_of
from ui.feedback import FeedbackPanel
from ui.people import Context, scratch_folder, shown_errors
from ui.render import answer_markdown, shown

FORMATS = [("Markdown", "md"), ("JSON", "json"), ("Reviewer document (DOCX)", "docx")]


class ConversationsPanel:
    """The list of this person's conversations, Open, and the export of the open one."""

    def __init__(self, context: Context, parts: ChatParts, feedback: FeedbackPanel) -> None:
        self.context = context
        with gr.Column(scale=2), gr.Accordion("Saved conversations and export", open=True):
            self.listed = gr.Dropdown(
                choices=[], label="Your conversations", elem_id="pb-conversations"
            )
            reopen = gr.Button("Open", size="sm", elem_id="pb-open")
            fmt = gr.Radio(FORMATS, value="md", label="Export format", elem_id="pb-format")
            export = gr.Button("Export this conversation", size="sm", elem_id="pb-export")
            file = gr.File(label="Download", interactive=False, elem_id="pb-download")
        restored_outputs = [parts.chat, *parts.selection()]
        feedback.follow(
            reopen.click(
                self.open_saved,
                [self.listed],
                [*restored_outputs, parts.remembered],
                api_visibility="private",
            )
        )
        export.click(
            self.export_open,
            [parts.session, fmt, parts.remembered, parts.chat],
            file,
            api_visibility="private",
        )
        # What the page runs on load: `restore`, from these inputs to these outputs.
        self.restore_inputs: list[Block] = [parts.remembered]
        self.restore_outputs: list[Block] = [*restored_outputs, parts.remembered, self.listed]

    def open_saved(self, conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        if not conversation_id:
            raise gr.Error("Choose a conversation first.", print_exception=False)
        with shown_errors():
            conversation = self.context.workspace.conversation(
                self.context.user(request), conversation_id
            )
        return (*restored(conversation), conversation.id)

    def export_open(
        self,
        session: Session,
        chosen: str,
        remembered: str,
        history: list[dict[str, Any]],
        request: gr.Request,
    ) -> str:
        session = resumed(self.context, session, remembered, history, request)
        if not session.conversation_id:
            raise gr.Error("There is no conversation to export yet.", print_exception=False)
        with shown_errors():
            path = self.context.workspace.export(
                self.context.user(request),
                session.conversation_id,
                chosen,
                scratch_folder("export"),
            )
        return str(path)

    def restore(self, conversation_id: str, request: gr.Request) -> tuple[Any, ...]:
        """Reopen the conversation this browser had open (after a reload or a restart)."""
        lists = conversation_choices(self.context, request)
        try:
            conversation = self.context.workspace.conversation(
                self.context.user(request), conversation_id or ""
            )
        except (TranscriptNotFound, AccessError):  # forgotten or foreign: start empty
            return ([], *selection_updates(Session()), "", lists)
        return (*restored(conversation), conversation.id, lists)


def conversation_choices(context: Context, request: gr.Request) -> gr.Dropdown:
    """The list of this person's conversations, newest first, none chosen."""
    user = context.user(request)
    listed = context.workspace.conversations(user)
    choices = [
        (f"{c.title or '(no question yet)'} · {c.updated_at[:16].replace('T', ' ')}", c.id)
        for c in listed
    ]
    return gr.Dropdown(choices=choices, value=None)


def restored(conversation: Conversation) -> tuple[Any, ...]:
    """The chat and selection of a saved conversation."""
    messages, thumbs = saved_chat(conversation)
    chat = gr.Chatbot(value=messages, feedback_value=thumbs)
    return (chat, *selection_updates(session_of(conversation)))


def saved_chat(conversation: Conversation) -> tuple[list[Any], list[str | None]]:
    """A saved conversation's chat messages, and its thumbs: the feedback its owner saved on
    each answer (by thumb or form)."""
    messages: list[Any] = []
    thumbs: list[str | None] = []
    for turn in conversation.turns:
        messages.append({"role": "user", "content": shown(turn.question)})
        messages.append({"role": "assistant", "content": _saved_reply(turn)})
        own = [f.rating for f in turn.feedback if f.user == conversation.user]
        thumbs.append({"up": "Like", "down": "Dislike"}.get(own[-1]) if own else None)
    return messages, thumbs


def _saved_reply(turn: Turn) -> str:
    if turn.answer is not None:
        return answer_markdown(turn.answer)
    if turn.status == "failed":
        return f"_This question failed: {shown(turn.error)}_"
    return "_This question was not answered (the server stopped before the answer)._"
