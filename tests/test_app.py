"""The web chat, launched for real on 127.0.0.1 and driven through gradio_client."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from gradio_client import Client

from bot.engine import Engine
from bot.errors import ServerError
from ui.app import launch


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[Client]:
    port = _free_port()
    app = launch(engine, "127.0.0.1", port, block=False)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
    finally:
        app.close()


def test_ask_endpoint_answers_with_citations(client: Client) -> None:
    markdown, citations = client.predict(
        "What does Mistral Medium 3 cost per million output tokens?", api_name="/ask"
    )
    assert "**Sources**" in markdown and "[1]" in markdown
    assert citations and {"n", "source", "quote", "start", "end"} <= set(citations[0])
    assert any("$2" in c["quote"] for c in citations)
    for citation in citations:
        assert citation["quote"] in markdown


def test_ask_endpoint_says_when_the_documents_do_not_answer(client: Client) -> None:
    markdown, citations = client.predict("Who won the 2022 FIFA World Cup?", api_name="/ask")
    assert citations == []
    assert "do not answer" in markdown


def test_an_empty_question_is_an_error_message(client: Client) -> None:
    with pytest.raises(Exception, match="The question is empty"):
        client.predict("  \x00 ", api_name="/ask")


def test_only_the_named_endpoint_is_public(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]


def test_a_port_in_use_is_a_clear_error(engine: Engine) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match=f"127.0.0.1:{port}.*--port"):
            launch(engine, "127.0.0.1", port, block=False)


def test_the_chat_streams_and_reads_follow_ups_from_its_history(engine: Engine) -> None:
    """History goes through Gradio's own post- and preprocessing, as between browser turns."""
    from gradio.components.chatbot import Chatbot, ChatbotDataMessages

    from ui.app import build_app

    app = build_app(engine)
    respond = next(f for f in app.fns.values() if f.name == "respond").fn
    chat = Chatbot()
    history: list = []
    for question in ("Which clouds offer Mistral Medium 3?", "And for 3.1?"):
        *_, (box, shown) = list(respond(question, history))
        assert box == ""
        history = chat.preprocess(ChatbotDataMessages.model_validate(chat.postprocess(shown)))
    last = shown[-1]["content"]
    assert "_Read as: Which clouds offer Mistral Medium 3.1?_" in last
    assert "Bedrock" in last and "**Sources**" in last
