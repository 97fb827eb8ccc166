"""The named endpoints for `gradio_client` (and any HTTP client of Gradio's API).

    /ask     (question: str, conversation_id: str = "")
             -> (answer as Markdown: str, citations: list of dicts, conversation_id: str)
             An empty conversation_id starts a new conversation; pass the returned one back to
             ask a follow-up in it. Every question and answer is saved in the transcripts.
    /export  (conversation_id: str, format: "md" | "json" | "docx") -> the file

With login on, the client logs in (`Client(url, auth=(name, password))`) and sees only what
that person may see in the web app.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from bot.transcripts.exports import FORMATS
from ui.people import Context, scratch_folder, shown_errors
from ui.render import answer_markdown


def add_api(context: Context) -> None:
    workspace = context.workspace

    def ask(
        question: str, conversation_id: str = "", request: gr.Request | None = None
    ) -> tuple[str, list[dict[str, Any]], str]:
        """Answer a question (a follow-up when conversation_id is given), with its citations."""
        with shown_errors():
            exchange = workspace.ask(context.user(request), question, conversation_id or "")
        citations = list(exchange.answer.to_json()["citations"])
        return answer_markdown(exchange.answer), citations, exchange.conversation_id

    gr.api(ask, api_name="ask")

    def export(conversation_id: str, fmt: str, request: gr.Request) -> str:
        """A saved conversation as a Markdown, JSON or DOCX file."""
        folder = scratch_folder("export")
        with shown_errors():
            return str(
                workspace.export(context.user(request), conversation_id, fmt or "md", folder)
            )

    with gr.Row(visible=False):
        conversation = gr.Textbox(label="conversation_id")
        fmt = gr.Dropdown(list(FORMATS), value="md", label="format")
        file = gr.File(label="file")
        trigger = gr.Button("export")
    trigger.click(export, [conversation, fmt], file, api_name="export")
