"""The Chat tab's questions: asked and streamed into the chat, asked again (Retry), started
over (New conversation, the chat's clear button), and a click on a message selecting its answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from bot.workspace.service import Exchange
from ui.chat_session import ChatParts, Session, resumed, selection_updates
from ui.conversations import conversation_choices
from ui.feedback import FeedbackPanel
from ui.people import Context, shown_errors
from ui.render import answer_markdown, shown


@dataclass(frozen=True)
class AskButtons:
    send: gr.Button  # Ask
    retry: gr.Button  # Retry the last question
    new: gr.Button  # New conversation


class Asker:
    """Streams answers into the chat: a question typed, or the last one asked again."""

    def __init__(self, context: Context) -> None:
        self.context = context

    def respond(
        self,
        message: str,
        history: list[dict[str, Any]],
        session: Session,
        remembered: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer into the chat, then show its citations."""
        context = self.context
        user = context.user(request)
        session = resumed(context, session, remembered, history, request)
        asked = [*history, {"role": "user", "content": shown(message)}]
        streamed = False
        try:
            with shown_errors():
                for item in context.workspace.ask_stream(user, message, session.conversation_id):
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
        self,
        history: list[dict[str, Any]],
        session: Session,
        remembered: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """The conversation's last question, asked again (as it was typed, from the transcript)."""
        session = resumed(self.context, session, remembered, history, request)
        if not session.conversation_id:
            raise gr.Error("There is no question to retry yet.", print_exception=False)
        with shown_errors():
            saved = self.context.workspace.conversation(
                self.context.user(request), session.conversation_id
            )
        if not saved.turns:
            raise gr.Error("There is no question to retry yet.", print_exception=False)
        yield from self.respond(saved.turns[-1].question, history, session, remembered, request)


def wire_asking(
    context: Context,
    parts: ChatParts,
    buttons: AskButtons,
    listed: gr.Dropdown,
    feedback: FeedbackPanel,
) -> None:
    """The events that put answers in the chat or select one; after each, the feedback form
    follows the selected answer. `listed` is the saved conversations' list, which a new
    conversation joins."""
    asker = Asker(context)
    outputs = [parts.box, parts.chat, *parts.selection(), parts.remembered, listed]
    asked = [parts.box, parts.chat, parts.session, parts.remembered]
    for trigger in (parts.box.submit, buttons.send.click):
        feedback.follow(trigger(asker.respond, asked, outputs, api_visibility="private"))
    feedback.follow(
        buttons.retry.click(asker.ask_again, asked[1:], outputs, api_visibility="private")
    )
    cleared = [parts.chat, *parts.selection(), parts.remembered]
    feedback.follow(buttons.new.click(start_over, None, cleared, api_visibility="private"))
    feedback.follow(parts.chat.clear(start_over, None, cleared, api_visibility="private"))
    feedback.follow(
        parts.chat.select(chosen, [parts.session], parts.selection(), api_visibility="private")
    )


def start_over() -> tuple[Any, ...]:
    """An empty chat, nothing selected, and no conversation remembered."""
    return ([], *selection_updates(Session()), "")


def chosen(session: Session, event: gr.SelectData) -> tuple[Any, ...]:
    """A click on a message selects its answer for the chips, panel and feedback."""
    index = event.index if isinstance(event.index, int) else 0
    return selection_updates(replace(session, selected=index // 2))
