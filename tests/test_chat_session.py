"""The chat's own handlers, called as Gradio calls them: which answer a thumb, a click or the
form is about, also after a question that failed once the chat showed it."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from bot.errors import ProcurebotError
from bot.transcripts.store import TranscriptStore
from bot.workspace.access import LOCAL
from bot.workspace.service import Workspace
from tests.conftest import engine_over
from ui.app import build_app
from ui.chat_session import Session
from ui.conversations import saved_chat

PRICES = (
    "# Prices\n\nOrca Pro costs 2 EUR per million output tokens.\n\n"
    "Orca Pro can be self-hosted on four GPUs.\n\nOrca Pro is offered on Azure and Bedrock.\n"
)
REQUEST = types.SimpleNamespace(username=None)


def _last(outputs: Iterator[tuple[Any, ...]]) -> tuple[tuple[Any, ...] | None, str]:
    last, error = None, ""
    try:
        for last in outputs:  # noqa: B007 - the last update is what the page keeps
            pass
    except gr.Error as raised:
        error = str(raised.message)
    return last, error


def test_a_thumb_rates_the_answer_it_is_under_after_a_failed_question(tmp_path: Path) -> None:
    engine = engine_over(tmp_path, {"prices.md": PRICES})
    workspace = Workspace(engine, TranscriptStore(tmp_path / "t.sqlite"))
    real = engine.ask_stream

    def breaking(question: str, history: Any = ()) -> Iterator[Any]:
        if "break" in question:
            yield "Searching the documents"  # the chat shows the question, then it fails
            raise ProcurebotError("the answerer broke mid-answer")
        yield from real(question, history)

    engine.ask_stream = breaking  # type: ignore[method-assign]
    handlers = {f.name: f.fn for f in build_app(workspace).fns.values()}
    history: list[dict[str, Any]] = []
    session, remembered = Session(), ""
    for question in ("What does Orca Pro cost?", "please break", "Can Orca Pro be self-hosted?"):
        out, error = _last(handlers["respond"](question, history, session, remembered, REQUEST))
        assert out is not None
        history, session = out[1], out[2]
        remembered = out[6] if isinstance(out[6], str) else remembered
        assert ("broke mid-answer" in error) == ("break" in question)
    assert len(history) == 6 and "This question failed" in history[3]["content"]

    under = gr.LikeData(None, {"index": 5, "value": history[5]["content"], "liked": False})
    form = handlers["liked"](session, under, REQUEST)
    assert form[4].startswith("**Answer 3** — Can Orca Pro be self-hosted?")
    turns = workspace.conversation(LOCAL, session.conversation_id).turns
    rated = {t.question: [f.rating for f in t.feedback] for t in turns}
    assert rated == {
        "What does Orca Pro cost?": [],
        "please break": [],
        "Can Orca Pro be self-hosted?": ["down"],
    }
    failed = gr.LikeData(None, {"index": 3, "value": history[3]["content"], "liked": True})
    handlers["liked"](session, failed, REQUEST)  # a failed question has nothing to rate
    assert not workspace.conversation(LOCAL, session.conversation_id).turns[1].feedback
    again = gr.LikeData(None, {"index": 5, "value": history[5]["content"], "liked": ""})
    form = handlers["liked"](session, again, REQUEST)  # the same thumb clicked again
    assert form[-1] == "Feedback withdrawn for answer 3." and form[5] is None
    assert not workspace.conversation(LOCAL, session.conversation_id).turns[2].feedback
    up = gr.LikeData(None, {"index": 1, "value": history[1]["content"], "liked": True})
    handlers["liked"](session, up, REQUEST)
    reopened = workspace.conversation(LOCAL, session.conversation_id)
    assert saved_chat(reopened)[1] == ["Like", None, None]  # the thumbs a reload shows


def test_a_page_that_outlived_the_server_continues_its_conversation(tmp_path: Path) -> None:
    """After a restart the server has no session for an open page: the conversation the
    browser remembers is continued, not forked into a new one."""
    engine = engine_over(tmp_path, {"prices.md": PRICES})
    workspace = Workspace(engine, TranscriptStore(tmp_path / "t.sqlite"))
    handlers = {f.name: f.fn for f in build_app(workspace).fns.values()}
    out, _ = _last(handlers["respond"]("What does Orca Pro cost?", [], Session(), "", REQUEST))
    assert out is not None
    history, remembered = out[1], out[6]
    # The restarted server: an empty session, the page's chat and the browser's memory.
    follow_up = handlers["respond"]("Is it self-hosted?", history, Session(), remembered, REQUEST)
    out, _ = _last(follow_up)
    assert out is not None and out[6] == remembered
    (only,) = workspace.transcripts.conversations()
    assert [t.question for t in workspace.conversation(LOCAL, only.id).turns] == [
        "What does Orca Pro cost?",
        "Is it self-hosted?",
    ]
    assert out[2].selected == 1  # answer 2 of the page's chat
