"""The web chat (Gradio). It asks `bot.engine.Engine` and shows what it answers; no answering here.

Named API endpoint for `gradio_client`:
    /ask  (question: str) -> (answer as Markdown: str, citations: list of dicts)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bot.answers import Answer
from bot.errors import ProcurebotError, QuestionError, ServerError

if TYPE_CHECKING:
    import gradio as gr

    from bot.engine import Engine

logger = logging.getLogger(__name__)

EXAMPLES = [
    "What does Mistral Medium 3 cost per million output tokens?",
    "Can Mistral Medium 3 be self-hosted, and on how many GPUs?",
    "Which clouds offer Mistral Medium 3.1?",
    "Is mistral-medium-2312 still available?",
    "Combien coûte Mistral Medium 3 par million de jetons de sortie ?",
]
# Concurrent answers; embedding is CPU-bound and serialised, so more would only queue inside.
CONCURRENCY = 4


def _gradio() -> Any:
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio

    return gradio


def answer_markdown(answer: Answer) -> str:
    """An answer as shown in the chat: notices, the answer, then its numbered sources."""
    parts = [f"_Note: {notice}_" for notice in answer.notices]
    if answer.rewritten_query and answer.rewritten_query != answer.question:
        parts.append(f"_Read as: {answer.rewritten_query}_")
    parts.append(answer.answer if answer.grounded else f"_{answer.answer}_")
    if answer.citations:
        sources = ["**Sources**"]
        for c in answer.citations:
            sources.append(
                f"**[{c.n}]** {c.title} · {c.kind} · {c.date or 'undated'} · "
                f"`{c.source}` characters {c.start}–{c.end}\n> {c.quote}"
            )
        parts.append("\n\n".join(sources))
    parts.append(f"<sub>{answer.backend} · {answer.model} · {answer.latency_ms:.0f} ms</sub>")
    return "\n\n".join(parts)


def _text_of(content: Any) -> str:
    """A chat message's text: Gradio gives a string or a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, list):
        return " ".join(_text_of(block) for block in content)
    return ""


def citations_json(answer: Answer) -> list[dict[str, Any]]:
    return list(answer.to_json()["citations"])


def build_app(engine: Engine) -> gr.Blocks:
    gr = _gradio()

    def ask(question: str) -> tuple[str, list[dict[str, Any]]]:
        """Answer one question: the answer as Markdown and its citations."""
        answer = _answer_or_error(engine, question)
        return answer_markdown(answer), citations_json(answer)

    def respond(
        message: str, history: list[dict[str, Any]]
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Stream the answer into the chat; earlier questions make follow-ups standalone."""
        earlier = [_text_of(m["content"]) for m in history if m["role"] == "user"]
        user = {"role": "user", "content": message}
        try:
            for item in engine.ask_stream(message, earlier):
                text = answer_markdown(item) if isinstance(item, Answer) else f"{item} …"
                yield "", [*history, user, {"role": "assistant", "content": text}]
        except QuestionError as exc:
            gr.Warning(str(exc))
            yield message, history
        except ProcurebotError as exc:
            logger.exception("answering failed")
            raise gr.Error(str(exc)) from exc

    with gr.Blocks(title="procurebot") as app:
        gr.Markdown(
            "## procurebot\nAsk about the Mistral Medium models: deployment, clouds, EU data, "
            "prices, licences, deprecations. Every answer quotes its sources verbatim."
        )
        chat = gr.Chatbot(label="Conversation", height=520, buttons=["copy"])
        with gr.Row():
            box = gr.Textbox(
                placeholder="Ask a question about the documents…",
                show_label=False,
                scale=8,
                max_lines=6,
            )
            send = gr.Button("Ask", variant="primary", scale=1)
        gr.ClearButton([box, chat], value="Clear")
        gr.Examples(EXAMPLES, inputs=box)
        for trigger in (box.submit, send.click):
            trigger(respond, [box, chat], [box, chat], api_visibility="private")
        gr.api(ask, api_name="ask")
    return app


def _answer_or_error(engine: Engine, question: str) -> Answer:
    gr = _gradio()
    try:
        return engine.ask(question)
    except QuestionError as exc:
        raise gr.Error(str(exc), print_exception=False) from exc
    except ProcurebotError as exc:
        logger.exception("answering failed")
        raise gr.Error(str(exc)) from exc


def launch(engine: Engine, host: str, port: int, *, block: bool = True) -> gr.Blocks:
    """Start the server; with block=False return at once (tests, embedding in other code)."""
    gr = _gradio()
    app = build_app(engine)
    app.queue(default_concurrency_limit=CONCURRENCY)
    try:
        _start(gr, app, host, port, block)
    except OSError as exc:
        raise ServerError(
            f"The web chat cannot listen on {host}:{port} (is another program using the port?): "
            "choose another one with --port or PROCUREBOT_PORT."
        ) from exc
    return app


def _start(gr: Any, app: gr.Blocks, host: str, port: int, block: bool) -> None:
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        ssr_mode=False,
        prevent_thread_lock=not block,
        quiet=not block,
        footer_links=["api"],
        theme=gr.themes.Default(
            font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
            font_mono=["ui-monospace", "Menlo", "monospace"],
        ),
    )


def serve(engine: Engine, host: str, port: int) -> None:
    launch(engine, host, port, block=True)
