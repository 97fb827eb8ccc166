"""The Chat tab's feedback panel: one feedback per person and answer, given by the chat's thumbs
or the form. Both save it, and the form always shows what was saved for the selected answer."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr
from gradio.blocks import Block
from gradio.events import Dependency

from bot.transcripts.store import REASONS
from ui.chat_session import ChatParts, Session, selection_updates
from ui.people import Context, shown_errors
from ui.render import shown

NO_ANSWER = "Ask a question, then rate its answer here or with the thumbs under it."

# What the form shows: about which answer, rating, reason, comment, status line.
Form = tuple[str, str | None, str, str, str]


class FeedbackPanel:
    """The form, and the handlers of its button and of the chat's thumbs."""

    def __init__(self, context: Context, parts: ChatParts) -> None:
        self.context = context
        self.session = parts.session
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
        self.form: list[Block] = [about, rating, reason, comment, status]
        save.click(
            self.send, [parts.session, rating, reason, comment], self.form, api_visibility="private"
        )
        parts.chat.like(
            self.liked, [parts.session], [*parts.selection(), *self.form], api_visibility="private"
        )

    def follow(self, event: Dependency) -> Dependency:
        """After an event that may select another answer (a new answer, a click, a reopened
        conversation), the form shows that answer's: never another answer's rating."""
        return event.then(self.shown_form, [self.session], self.form, api_visibility="private")

    def shown_form(self, session: Session, request: gr.Request, saved: str = "") -> Form:
        """The form for the selected answer, filled with what this person saved for it."""
        if not session.turn_id:
            return NO_ANSWER, None, "", "", ""
        question = session.answer.question if session.answer else ""
        about_text = f"**Answer {session.selected + 1}** — {shown(_short(question))}"
        with shown_errors():
            mine = self.context.workspace.own_feedback(
                self.context.user(request), session.conversation_id, session.turn_id
            )
        if mine is None:
            return about_text, None, "", "", saved
        said = saved or f"You rated this answer on {mine.created_at[:16].replace('T', ' ')} UTC."
        return about_text, mine.rating, mine.reason, mine.comment, said

    def send(
        self, session: Session, value: str | None, why: str, text: str, request: gr.Request
    ) -> Form:
        if not session.turn_id:
            raise gr.Error("Ask a question first, then rate its answer.", print_exception=False)
        if value is None:
            raise gr.Error("Choose Helpful or Not right first.", print_exception=False)
        with shown_errors():
            self.context.workspace.feedback(
                self.context.user(request), session.turn_id, value, why, text
            )
        return self.shown_form(
            session, request, f"Feedback saved for answer {session.selected + 1}."
        )

    def liked(self, session: Session, event: gr.LikeData, request: gr.Request) -> tuple[Any, ...]:
        """A thumb saves the rating at once (a reason and comment already given are kept); the
        same thumb clicked again takes it back."""
        index = event.index if isinstance(event.index, int) else 0
        chosen = replace(session, selected=index // 2)
        if not chosen.turn_id:
            return (*selection_updates(chosen), *self.shown_form(chosen, request))
        user = self.context.user(request)
        workspace = self.context.workspace
        if not isinstance(event.liked, bool):  # "" (or None): the thumb was clicked again
            with shown_errors():
                workspace.withdraw_feedback(user, chosen.turn_id)
            taken = f"Feedback withdrawn for answer {chosen.selected + 1}."
            return (*selection_updates(chosen), *self.shown_form(chosen, request, taken))
        rating = "up" if event.liked else "down"
        with shown_errors():
            mine = workspace.own_feedback(user, chosen.conversation_id, chosen.turn_id)
            reason = mine.reason if mine and rating == "down" else ""
            comment = mine.comment if mine else ""
            workspace.feedback(user, chosen.turn_id, rating, reason, comment)
        saved = f"Feedback saved for answer {chosen.selected + 1}."
        return (*selection_updates(chosen), *self.shown_form(chosen, request, saved))


def _short(text: str, most: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"
