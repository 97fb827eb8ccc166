"""The web app (Gradio): Chat, Review, Questionnaires and Documents tabs, and the named API.

Every tab calls `bot.workspace.service.Workspace`; nothing here answers, saves or decides access.
The named endpoints are described in `ui.api`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import gradio as gr

from bot.errors import ServerError
from bot.workspace.access import Directory
from bot.workspace.service import Workspace
from ui.api import add_api
from ui.chat import build_chat_tab
from ui.documents import build_documents_tab
from ui.people import Context
from ui.questionnaire import build_questionnaire_tab
from ui.render import AWAY_JS, CSS
from ui.review import build_review_tab

logger = logging.getLogger(__name__)


def build_app(workspace: Workspace, directory: Directory | None = None) -> gr.Blocks:
    context = Context(workspace, directory)
    with gr.Blocks(title="procurebot") as app:
        gr.Markdown(
            "## procurebot\nAsk about the vendors' models in the documents: deployment, clouds, "
            "EU data, prices, licences, deprecations. Every answer quotes its sources verbatim; "
            "click a citation to see it in its passage."
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat = build_chat_tab(context)
            with gr.Tab("Review", id="review") as review:
                search, searched, found = build_review_tab(context)
            with gr.Tab("Questionnaires", id="questionnaires"):
                waiting, unfinished = build_questionnaire_tab(context)
            with gr.Tab("Documents", id="documents"):
                listing, shown = build_documents_tab(context)
        add_api(context)
        saved = chat.conversations
        restore = app.load(
            saved.restore, saved.restore_inputs, saved.restore_outputs, api_visibility="private"
        )
        chat.feedback.follow(restore)
        app.load(chat.badges, None, chat.badge, api_visibility="private")
        app.load(listing, None, shown, api_visibility="private")
        app.load(waiting, None, unfinished, api_visibility="private")
        # The review list is read when the tab opens, as it is then: no Search needed (and no
        # query on every page load for a tab most people never open).
        review.select(search, searched, found, api_visibility="private")
    return app


def launch(
    workspace: Workspace,
    host: str,
    port: int,
    *,
    directory: Directory | None = None,
    block: bool = True,
) -> gr.Blocks:
    """Start the server; with block=False return at once (tests, embedding in other code)."""
    app = build_app(workspace, directory)
    settings = workspace.engine.settings
    app.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    try:
        _start(app, host, port, block, directory)
    except OSError as exc:
        raise ServerError(
            f"The web chat cannot listen on {host}:{port} (is another program using the port?): "
            "choose another one with --port or PROCUREBOT_PORT."
        ) from exc
    return app


def _start(app: gr.Blocks, host: str, port: int, block: bool, directory: Directory | None) -> None:
    options: dict[str, Any] = {}
    if directory is not None:
        check = directory.authenticate

        async def authenticate(name: str, password: str) -> bool:
            # Gradio calls this on its event loop: a password check (PBKDF2, about 0.4 s) run
            # there would stop every other request meanwhile (the load test saw 20 logins time
            # out), so it runs in a thread.
            return await asyncio.to_thread(check, name, password)

        options["auth"] = authenticate
        options["auth_message"] = "procurebot: log in with the name and password you were given."
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        ssr_mode=False,
        prevent_thread_lock=not block,
        quiet=not block,
        footer_links=["api"],
        css=CSS,
        js=AWAY_JS,
        theme=gr.themes.Default(
            # System fonts: the page loads nothing from outside 127.0.0.1.
            font=[gr.themes.Font(name) for name in ("system-ui", "Segoe UI", "sans-serif")],
            font_mono=[gr.themes.Font(name) for name in ("ui-monospace", "Menlo", "monospace")],
        ),
        **options,
    )
