"""The Chat tab: streamed answers, citation chips, the sources panel, conflicts, feedback,
saved conversations and their export.

This module lays the tab out and shows the badges and the sources panel; the other parts have
their own modules: the session and the components the panels share (`ui.chat_session`),
asking (`ui.asking`), feedback (`ui.feedback`) and saved conversations (`ui.conversations`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from bot.workspace.service import Workspace
from ui.asking import AskButtons, wire_asking
from ui.chat_session import ChatParts, Session
from ui.conversations import ConversationsPanel
from ui.feedback import FeedbackPanel
from ui.people import Context
from ui.render import EMPTY_PANEL, escape, source_panel

EXAMPLES = [
    "What does Mistral Medium 3 cost per million output tokens?",
    "Can Mistral Medium 3 be self-hosted, and on how many GPUs?",
    "Which clouds offer Mistral Medium 3.1?",
    "Is mistral-medium-2312 still available?",
    "Are the weights of Mistral Medium 3 open?",
    "Combien coûte Mistral Medium 3 par million de jetons de sortie ?",
]

BADGE_SECONDS = 10  # how often an open page reads the index state again


@dataclass(frozen=True)
class ChatTab:
    """What the page wires when it loads: the open conversation's restore (with its feedback
    form after it), and the badges."""

    feedback: FeedbackPanel
    conversations: ConversationsPanel
    badges: Callable[[], str]
    badge: gr.HTML


def build_chat_tab(context: Context) -> ChatTab:
    workspace = context.workspace
    # Read at every page load and every BADGE_SECONDS: the same engine state the Documents tab
    # lists, whichever process or tab changed it.
    badges = gr.HTML("", elem_id="pb-badges")
    gr.Timer(BADGE_SECONDS).tick(
        lambda: _badges(context), None, badges, api_visibility="private", show_progress="hidden"
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chat, banner, box, buttons = _conversation_column()
        with gr.Column(scale=2):
            chips = gr.Radio(choices=[], label="Citations", elem_id="pb-chips")
            panel = gr.HTML(EMPTY_PANEL, elem_id="pb-source", label="Source")
    parts = ChatParts(
        chat=chat,
        box=box,
        session=gr.State(Session()),
        remembered=gr.BrowserState(
            "", storage_key="procurebot-conversation", secret=_browser_secret(workspace)
        ),
        chips=chips,
        panel=panel,
        banner=banner,
    )
    with gr.Row(equal_height=False):
        feedback = FeedbackPanel(context, parts)
        conversations = ConversationsPanel(context, parts, feedback)
    wire_asking(context, parts, buttons, conversations.listed, feedback)
    chips.select(
        lambda session, n: (
            source_panel(workspace.source(session.answer, int(n)))
            if session.answer and n is not None
            else EMPTY_PANEL
        ),
        [parts.session, chips],
        panel,
        api_visibility="private",
    )
    return ChatTab(feedback, conversations, lambda: _badges(context), badges)


def _conversation_column() -> tuple[gr.Chatbot, gr.HTML, gr.Textbox, AskButtons]:
    """The chat, the conflict banner under it, the question box and its buttons."""
    chat = gr.Chatbot(
        label="Conversation",
        show_label=False,  # the label sat over the first line of the chat
        height=520,
        latex_delimiters=[],  # a "$" or "$$" in a quote is text, never maths
        buttons=["copy"],
        feedback_options=("Like", "Dislike"),
        elem_id="pb-chat",
    )
    banner = gr.HTML("", elem_id="pb-conflict")
    with gr.Row():
        box = gr.Textbox(
            placeholder="Ask a question about the documents…",
            show_label=False,
            scale=8,
            max_lines=6,
            elem_id="pb-question",
        )
        send = gr.Button("Ask", variant="primary", scale=1, elem_id="pb-ask")
    with gr.Row():
        retry = gr.Button("Retry the last question", size="sm", elem_id="pb-retry")
        new = gr.Button("New conversation", size="sm", elem_id="pb-new")
    gr.Examples(EXAMPLES, inputs=box, label="Example questions")
    return chat, banner, box, AskButtons(send, retry, new)


def _browser_secret(workspace: Workspace) -> str:
    """The key the browser's copy of the open conversation is sealed with. Kept in the data
    folder, so that a restarted server can still read what browsers remember."""
    path = workspace.engine.settings.data_dir / "browser-state.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _badges(context: Context) -> str:
    engine = context.workspace.engine
    documents = engine.documents()
    pending = engine.pending_changes()
    freshness = (
        f'<span class="pb-badge pb-stale">{len(pending)} document change(s) not indexed yet '
        "(Documents tab)</span>"
        if pending
        else f'<span class="pb-badge">Index up to date · {len(documents)} documents</span>'
    )
    return (
        f'<span class="pb-badge" id="pb-backend">Answers: {escape(context.workspace.badge)}</span>'
        f"{freshness}"
    )
