"""The Chat tab: streamed answers, citation chips, the sources panel, conflicts, feedback,
saved conversations and their export.

Per browser session the app keeps a `Session`: the open conversation and, for each answer in
the chat, its saved turn and its Answer (assistant message i of the chat is answer i).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import gradio as gr

from bot.answering.answers import Answer
from bot.transcripts.store import REASONS, TranscriptNotFound
from bot.transcripts.types import Conversation, Turn
from bot.workspace.access import AccessError
from bot.workspace.service import Exchange, Workspace
from ui.people import Context, scratch_folder, shown_errors
from ui.render import (
    EMPTY_PANEL,
    answer_markdown,
    chip_label,
    conflict_banner,
    escape,
    shown,
    source_panel,
)

EXAMPLES = [
    "What does Mistral Medium 3 cost per million output tokens?",
    "Can Mistral Medium 3 be self-hosted, and on how many GPUs?",
    "Which clouds offer Mistral Medium 3.1?",
    "Is mistral-medium-2312 still available?",
    "Are the weights of Mistral Medium 3 open?",
    "Combien coûte Mistral Medium 3 par million de jetons de sortie ?",
]
FORMATS = [("Markdown", "md"), ("JSON", "json"), ("Reviewer document (DOCX)", "docx")]

BADGE_SECONDS = 10  # how often an open page reads the index state again


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


@dataclass
class ChatParts:
    """The chat tab's components that handlers read or update."""

    chat: Any
    box: Any
    session: Any
    remembered: Any  # the open conversation's id, kept in the browser across reloads
    chips: Any
    panel: Any
    banner: Any
    conversations: Any
    extra: dict[str, Any] = field(default_factory=dict)

    def selection(self) -> list[Any]:
        return [self.session, self.chips, self.panel, self.banner]

    def then_feedback(self, event: Any) -> Any:
        """After an event that may select another answer (a new answer, a click, a reopened
        conversation), the feedback form shows that answer's: never another answer's rating."""
        shown_form, form = self.extra["feedback"]
        return event.then(shown_form, [self.session], form, api_visibility="private")


def selection_updates(session: Session) -> tuple[Session, Any, str, str]:
    """The chips, panel and banner for the selected answer."""
    answer = session.answer
    choices = [(chip_label(c), c.n) for c in answer.citations] if answer else []
    label = f"Citations of answer {session.selected + 1}" if answer else "Citations"
    chips = gr.Radio(choices=choices, value=None, label=label)
    return session, chips, EMPTY_PANEL, conflict_banner(answer)


def conversation_choices(context: Context, request: gr.Request) -> Any:
    user = context.user(request)
    listed = context.workspace.conversations(user)
    choices = [
        (f"{c.title or '(no question yet)'} · {c.updated_at[:16].replace('T', ' ')}", c.id)
        for c in listed
    ]
    return gr.Dropdown(choices=choices, value=None)


def build_chat_tab(context: Context) -> ChatParts:
    workspace = context.workspace
    # Read at every page load and every BADGE_SECONDS: the same engine state the Documents tab
    # lists, whichever process or tab changed it.
    badges = gr.HTML("", elem_id="pb-badges")
    gr.Timer(BADGE_SECONDS).tick(
        lambda: _badges(context), None, badges, api_visibility="private", show_progress="hidden"
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
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
        conversations=None,
    )
    with gr.Row(equal_height=False):
        _feedback_panel(context, parts)
        _conversations_panel(context, parts)
    _wire_asking(context, parts, send, retry, new)
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
    parts.extra["badges"] = (lambda: _badges(context), badges)
    return parts


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


def _wire_asking(context: Context, parts: ChatParts, send: Any, retry: Any, new: Any) -> None:
    workspace = context.workspace

    def respond(
        message: str,
        history: list[dict[str, Any]],
        session: Session,
        remembered: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer into the chat, then show its citations."""
        user = context.user(request)
        session = resumed(context, session, remembered, history, request)
        asked = [*history, {"role": "user", "content": shown(message)}]
        streamed = False
        try:
            with shown_errors():
                for item in workspace.ask_stream(user, message, session.conversation_id):
                    if isinstance(item, Exchange):
                        session = session.added(item)
                        reply = {"role": "assistant", "content": answer_markdown(item.answer)}
                        yield (
                            "",
                            [*asked, reply],
                            *selection_updates(session),
                            session.conversation_id,
                            conversation_choices(context, request),
                        )
                    else:
                        streamed = True
                        reply = {"role": "assistant", "content": f"{shown(item)} …"}
                        yield (gr.skip(), [*asked, reply], *[gr.skip()] * 6)
        except gr.Error as error:
            if streamed:  # the chat shows this question: it keeps its place among the answers
                failed = session.failed()
                said = f"_This question failed: {shown(str(error.message))}_"
                reply = {"role": "assistant", "content": said}
                yield (gr.skip(), [*asked, reply], *selection_updates(failed), *[gr.skip()] * 2)
            raise

    def ask_again(
        history: list[dict[str, Any]], session: Session, remembered: str, request: gr.Request
    ) -> Iterator[tuple[Any, ...]]:
        """The conversation's last question, asked again (as it was typed, from the transcript)."""
        session = resumed(context, session, remembered, history, request)
        if not session.conversation_id:
            raise gr.Error("There is no question to retry yet.", print_exception=False)
        with shown_errors():
            saved = workspace.conversation(context.user(request), session.conversation_id)
        if not saved.turns:
            raise gr.Error("There is no question to retry yet.", print_exception=False)
        yield from respond(saved.turns[-1].question, history, session, remembered, request)

    outputs = [
        parts.box,
        parts.chat,
        *parts.selection(),
        parts.remembered,
        parts.conversations,
    ]
    asked = [parts.box, parts.chat, parts.session, parts.remembered]
    for trigger in (parts.box.submit, send.click):
        parts.then_feedback(trigger(respond, asked, outputs, api_visibility="private"))
    parts.then_feedback(retry.click(ask_again, asked[1:], outputs, api_visibility="private"))

    def start_over() -> tuple[Any, ...]:
        return ([], *selection_updates(Session()), "")

    cleared = [parts.chat, *parts.selection(), parts.remembered]
    parts.then_feedback(new.click(start_over, None, cleared, api_visibility="private"))
    parts.then_feedback(parts.chat.clear(start_over, None, cleared, api_visibility="private"))

    def chosen(session: Session, event: gr.SelectData) -> tuple[Any, ...]:
        """A click on a message selects its answer for the chips, panel and feedback."""
        index = event.index if isinstance(event.index, int) else 0
        return selection_updates(replace(session, selected=index // 2))

    parts.then_feedback(
        parts.chat.select(chosen, [parts.session], parts.selection(), api_visibility="private")
    )


def _feedback_panel(context: Context, parts: ChatParts) -> None:
    """One feedback per person and answer, given by the chat's thumbs or the form: both save
    it, and the form always shows what was saved for the selected answer."""
    with gr.Column(scale=3), gr.Accordion("Feedback on the selected answer", open=True):
        about = gr.Markdown(NO_ANSWER, elem_id="pb-feedback-for")
        rating = gr.Radio(
            [("Helpful", "up"), ("Not right", "down")],
            label="Rating",
            elem_id="pb-rating",
        )
        reason = gr.Dropdown(
            [("(no reason given)", ""), *[(r, r) for r in REASONS]],
            value="",
            label="Reason (when not right)",
            elem_id="pb-reason",
        )
        comment = gr.Textbox(label="Comment", lines=2, max_lines=6, elem_id="pb-comment")
        save = gr.Button("Send feedback", size="sm", elem_id="pb-send-feedback")
        status = gr.Markdown("", elem_id="pb-feedback-status")
    form = [about, rating, reason, comment, status]

    def shown_form(session: Session, request: gr.Request, saved: str = "") -> tuple[Any, ...]:
        """The form for the selected answer, filled with what this person saved for it."""
        if not session.turn_id:
            return NO_ANSWER, None, "", "", ""
        question = session.answer.question if session.answer else ""
        about_text = f"**Answer {session.selected + 1}** — {shown(_short(question))}"
        with shown_errors():
            mine = context.workspace.own_feedback(
                context.user(request), session.conversation_id, session.turn_id
            )
        if mine is None:
            return about_text, None, "", "", saved
        said = saved or f"You rated this answer on {mine.created_at[:16].replace('T', ' ')} UTC."
        return about_text, mine.rating, mine.reason, mine.comment, said

    def send(
        session: Session, value: str | None, why: str, text: str, request: gr.Request
    ) -> tuple[Any, ...]:
        if not session.turn_id:
            raise gr.Error("Ask a question first, then rate its answer.", print_exception=False)
        if value is None:
            raise gr.Error("Choose Helpful or Not right first.", print_exception=False)
        with shown_errors():
            context.workspace.feedback(context.user(request), session.turn_id, value, why, text)
        return shown_form(session, request, f"Feedback saved for answer {session.selected + 1}.")

    def liked(session: Session, event: gr.LikeData, request: gr.Request) -> tuple[Any, ...]:
        """A thumb saves the rating at once (a reason and comment already given are kept); the
        same thumb clicked again takes it back."""
        index = event.index if isinstance(event.index, int) else 0
        chosen = replace(session, selected=index // 2)
        if not chosen.turn_id:
            return (*selection_updates(chosen), *shown_form(chosen, request))
        user = context.user(request)
        if not isinstance(event.liked, bool):  # "" (or None): the thumb was clicked again
            with shown_errors():
                context.workspace.withdraw_feedback(user, chosen.turn_id)
            taken = f"Feedback withdrawn for answer {chosen.selected + 1}."
            return (*selection_updates(chosen), *shown_form(chosen, request, taken))
        rating = "up" if event.liked else "down"
        with shown_errors():
            mine = context.workspace.own_feedback(user, chosen.conversation_id, chosen.turn_id)
            reason = mine.reason if mine and rating == "down" else ""
            comment = mine.comment if mine else ""
            context.workspace.feedback(user, chosen.turn_id, rating, reason, comment)
        saved = f"Feedback saved for answer {chosen.selected + 1}."
        return (*selection_updates(chosen), *shown_form(chosen, request, saved))

    save.click(send, [parts.session, rating, reason, comment], form, api_visibility="private")
    parts.chat.like(liked, [parts.session], [*parts.selection(), *form], api_visibility="private")
    parts.extra["feedback"] = (shown_form, form)


NO_ANSWER = "Ask a question, then rate its answer here or with the thumbs under it."


def _short(text: str, most: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def _conversations_panel(context: Context, parts: ChatParts) -> None:
    workspace = context.workspace
    with gr.Column(scale=2), gr.Accordion("Saved conversations and export", open=True):
        parts.conversations = gr.Dropdown(
            choices=[], label="Your conversations", elem_id="pb-conversations"
        )
        reopen = gr.Button("Open", size="sm", elem_id="pb-open")
        fmt = gr.Radio(FORMATS, value="md", label="Export format", elem_id="pb-format")
        export = gr.Button("Export this conversation", size="sm", elem_id="pb-export")
        file = gr.File(label="Download", interactive=False, elem_id="pb-download")

    def open_saved(conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        if not conversation_id:
            raise gr.Error("Choose a conversation first.", print_exception=False)
        with shown_errors():
            conversation = workspace.conversation(context.user(request), conversation_id)
        return (*restored(conversation), conversation.id)

    def export_open(
        session: Session,
        chosen: str,
        remembered: str,
        history: list[dict[str, Any]],
        request: gr.Request,
    ) -> str:
        session = resumed(context, session, remembered, history, request)
        if not session.conversation_id:
            raise gr.Error("There is no conversation to export yet.", print_exception=False)
        with shown_errors():
            path = workspace.export(
                context.user(request), session.conversation_id, chosen, scratch_folder("export")
            )
        return str(path)

    def restore(conversation_id: str, request: gr.Request) -> tuple[Any, ...]:
        """Reopen the conversation this browser had open (after a reload or a restart)."""
        lists = conversation_choices(context, request)
        try:
            conversation = workspace.conversation(context.user(request), conversation_id or "")
        except (TranscriptNotFound, AccessError):  # forgotten or foreign: start empty
            return ([], *selection_updates(Session()), "", lists)
        return (*restored(conversation), conversation.id, lists)

    restored_outputs = [parts.chat, *parts.selection()]
    parts.then_feedback(
        reopen.click(
            open_saved,
            [parts.conversations],
            [*restored_outputs, parts.remembered],
            api_visibility="private",
        )
    )
    export.click(
        export_open,
        [parts.session, fmt, parts.remembered, parts.chat],
        file,
        api_visibility="private",
    )
    parts.extra["restore"] = (
        restore,
        [parts.remembered],
        [*restored_outputs, parts.remembered, parts.conversations],
    )


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


RECONNECTED = "The server was restarted while this page was open: the conversation continues."


def _saved_reply(turn: Turn) -> str:
    if turn.answer is not None:
        return answer_markdown(turn.answer)
    if turn.status == "failed":
        return f"_This question failed: {shown(turn.error)}_"
    return "_This question was not answered (the server stopped before the answer)._"
