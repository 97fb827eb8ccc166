"""The Review tab: find saved conversations, read one, mark each answer approved or needing
correction with a note, export it. People who are not reviewers see only their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import gradio as gr
from gradio.blocks import Block

from bot.transcripts.store import REVIEW_STATUSES
from bot.transcripts.types import Conversation
from ui.conversations import FORMATS
from ui.people import ERROR_SECONDS, Context, scratch_folder, shown_errors
from ui.render import answer_markdown, shown

HEADERS = ["Conversation", "Question(s)", "User", "Started", "Last activity", "Answers", "Reviewed"]


Found = tuple[list[list[Any]], gr.Dropdown]


class _Reviews:
    """The tab's handlers: find conversations, show one, save a verdict, export."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.workspace = context.workspace

    def find(
        self,
        words: str | None,
        who: str | None,
        start: str | None,
        end: str | None,
        kept: str | None,
        request: gr.Request,
    ) -> Found:
        """The conversations found; the open one stays open while it is among them."""
        with shown_errors():  # on page load the boxes are None
            found = self.workspace.conversations(
                self.context.user(request),
                words or "",
                (who or "").strip(),
                _day(start or ""),
                _day(end or ""),
            )
        rows = [
            [
                c.id[:8],
                c.title,
                c.user,
                _when(c.created_at),
                _when(c.updated_at),
                c.turns,
                c.reviewed,
            ]
            for c in found
        ]
        choices = [(f"{c.id[:8]} · {c.user} · {c.title}", c.id) for c in found]
        value = kept if kept in {c.id for c in found} else None
        return rows, gr.Dropdown(choices=choices, value=value)

    def show(
        self, conversation_id: str | None, request: gr.Request
    ) -> tuple[str, gr.Dropdown, str]:
        if not conversation_id:
            return "", gr.Dropdown(choices=[], value=None), ""
        with shown_errors():
            conversation = self.workspace.conversation(self.context.user(request), conversation_id)
        numbered = [(f"Answer {t.position}: {t.question}", t.id) for t in conversation.turns]
        first = conversation.turns[0].id if len(conversation.turns) == 1 else None
        return _transcript(conversation), gr.Dropdown(choices=numbered, value=first), ""

    def review(
        self,
        conversation_id: str | None,
        turn_id: str | None,
        verdict: str | None,
        text: str,
        request: gr.Request,
    ) -> tuple[str, str]:
        if not conversation_id or not turn_id or not verdict:
            raise gr.Error(
                "Choose a conversation, an answer and a verdict.",
                duration=ERROR_SECONDS,
                print_exception=False,
            )
        user = self.context.user(request)
        with shown_errors():
            self.workspace.review(user, turn_id, verdict, text)
            conversation = self.workspace.conversation(user, conversation_id)
        (position,) = [t.position for t in conversation.turns if t.id == turn_id]
        done = f"Saved: answer {position} marked **{verdict}** by {shown(user.name)}."
        return _transcript(conversation), done

    def export_chosen(self, conversation_id: str | None, chosen: str, request: gr.Request) -> str:
        if not conversation_id:
            raise gr.Error("Open a conversation first.", print_exception=False)
        folder = scratch_folder("export")
        with shown_errors():
            return str(
                self.workspace.export(self.context.user(request), conversation_id, chosen, folder)
            )


def build_review_tab(
    context: Context,
) -> tuple[Callable[..., Found], list[Block], list[Block]]:
    """The tab; returns the search, its inputs and outputs, run when the tab opens (the list
    is there without pressing Search)."""
    reviews = _Reviews(context)
    with gr.Row():
        text = gr.Textbox(label="Search questions and answers", scale=3, elem_id="pb-r-text")
        owner = gr.Textbox(label="User", scale=1, elem_id="pb-r-user")
        since = gr.Textbox(label="From (YYYY-MM-DD)", scale=1, elem_id="pb-r-since")
        until = gr.Textbox(label="To (YYYY-MM-DD)", scale=1, elem_id="pb-r-until")
        search = gr.Button("Search", variant="primary", scale=1, elem_id="pb-r-search")
    table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True, elem_id="pb-r-table")
    chosen = gr.Dropdown(choices=[], label="Open a conversation", elem_id="pb-r-open")
    # The verdict sits above the transcript: a long transcript scrolls in its own box.
    with gr.Row(equal_height=False):
        answer = gr.Dropdown(choices=[], label="Answer", scale=3, elem_id="pb-r-answer")
        status = gr.Radio(list(REVIEW_STATUSES), label="Verdict", scale=2, elem_id="pb-r-status")
    with gr.Row(equal_height=False):
        note = gr.Textbox(label="Note (required for corrections)", scale=4, elem_id="pb-r-note")
        save = gr.Button("Save review", variant="primary", scale=1, elem_id="pb-r-save")
    saved = gr.Markdown("", elem_id="pb-r-saved")
    transcript = gr.Markdown("", max_height=640, elem_id="pb-r-transcript")
    with gr.Row():
        fmt = gr.Radio(FORMATS, value="docx", label="Export format", elem_id="pb-r-format")
        export = gr.Button("Export", elem_id="pb-r-export")
        file = gr.File(label="Download", interactive=False, elem_id="pb-r-download")
    searched: list[Block] = [text, owner, since, until, chosen]
    listed: list[Block] = [table, chosen]
    for trigger in (search.click, text.submit):
        trigger(reviews.find, searched, listed, api_visibility="private")
    chosen.change(reviews.show, [chosen], [transcript, answer, saved], api_visibility="private")
    save.click(
        reviews.review,
        [chosen, answer, status, note],
        [transcript, saved],
        api_visibility="private",
    ).success(reviews.find, searched, listed, api_visibility="private")  # its "Reviewed" count
    export.click(reviews.export_chosen, [chosen, fmt], file, api_visibility="private")
    return reviews.find, searched, listed


def _day(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise gr.Error(f"{text.strip()!r} is not a date: write it as YYYY-MM-DD.") from exc


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ")


def _transcript(conversation: Conversation) -> str:
    """A conversation as the reviewer reads it: each answer with its review and feedback."""
    parts = [
        f"### {shown(conversation.title)}\n_{shown(conversation.user)}, started "
        f"{_when(conversation.created_at)} UTC · id {conversation.id}_"
    ]
    for turn in conversation.turns:
        parts.append(f"#### Answer {turn.position}: {shown(turn.question)}")
        if turn.answer is not None:
            parts.append(answer_markdown(turn.answer))
        else:
            parts.append(f"_{shown(turn.status)}: {shown(turn.error) or 'no answer saved'}_")
        review = turn.review
        parts.append(
            f"**Review:** {shown(review.status)} by {shown(review.reviewer)}"
            + (f": {shown(review.note)}" if review.note else "")
            if review
            else "**Review:** not reviewed"
        )
        for feedback in turn.feedback:
            thumb = "👍" if feedback.rating == "up" else "👎"
            details = ", ".join(x for x in (feedback.reason, feedback.comment) if x)
            parts.append(
                f"{thumb} {shown(feedback.user)}" + (f": {shown(details)}" if details else "")
            )
    return "\n\n".join(parts)
