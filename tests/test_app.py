"""The web app launched for real on 127.0.0.1 and driven through gradio_client."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from docx import Document as Docx
from gradio_client import Client

from bot.answering.engine import Engine
from bot.errors import ServerError
from bot.transcripts.exports import escape as escape_markdown
from bot.transcripts.store import TranscriptStore
from bot.workspace.access import User, hash_password
from bot.workspace.service import Workspace
from tests.servers import app_client, free_port
from ui.app import launch

PRICE = "What does Mistral Medium 3 cost per million output tokens?"


@pytest.fixture(scope="module")
def workspace(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(engine, TranscriptStore(tmp_path_factory.mktemp("db") / "t.sqlite"))


@pytest.fixture(scope="module")
def client(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with app_client(workspace, tmp_path_factory.mktemp("downloads")) as client:
        yield client


def test_ask_answers_with_citations_and_a_conversation_id(client: Client) -> None:
    markdown, citations, conversation_id = client.predict(PRICE, "", api_name="/ask")
    assert "<summary>Sources (" in markdown and "[1]" in markdown
    assert len(conversation_id) == 32
    assert citations and {"n", "source", "quote", "start", "end", "sha256"} <= set(citations[0])
    assert any("$2" in c["quote"] for c in citations)
    for citation in citations:
        assert escape_markdown(citation["quote"]) in markdown  # shown verbatim once rendered


def test_a_follow_up_continues_the_conversation(client: Client, workspace: Workspace) -> None:
    _, _, conversation_id = client.predict("Which clouds offer Mistral Medium 3?", api_name="/ask")
    markdown, citations, same = client.predict("And for 3.1?", conversation_id, api_name="/ask")
    assert same == conversation_id
    assert "Read as: Which clouds offer Mistral Medium 3.1?" in markdown
    assert citations
    saved = workspace.transcripts.conversation(conversation_id)
    assert [t.question for t in saved.turns] == [
        "Which clouds offer Mistral Medium 3?",
        "And for 3.1?",
    ]


def test_ask_says_when_the_documents_do_not_answer(client: Client) -> None:
    markdown, citations, _ = client.predict("Who won the 2022 FIFA World Cup?", api_name="/ask")
    assert citations == []
    assert "pb-not-answered" in markdown  # shown apart, and said once, in the answer's words
    assert markdown.count("The documents do not answer this question.") == 1
    assert "The documents don't say" not in markdown


@pytest.mark.parametrize(
    ("question", "conversation", "message"),
    [
        ("  \x00 ", "", "The question is empty"),
        ("What does it cost?", "no-such-conversation", "There is no conversation"),
    ],
)
def test_bad_input_is_a_one_line_error(
    client: Client, question: str, conversation: str, message: str
) -> None:
    with pytest.raises(Exception, match=message):
        client.predict(question, conversation, api_name="/ask")


def test_export_returns_each_format_with_quotes_and_sources(client: Client) -> None:
    _, citations, conversation_id = client.predict(PRICE, "", api_name="/ask")
    quote, source = citations[0]["quote"], citations[0]["source"]
    markdown = Path(client.predict(conversation_id, "md", api_name="/export"))
    assert markdown.suffix == ".md"
    text = markdown.read_text(encoding="utf-8")
    assert PRICE in text and source in text and citations[0]["sha256"] in text
    assert escape_markdown(quote) in text  # shown verbatim once rendered
    data = json.loads(
        Path(client.predict(conversation_id, "json", api_name="/export")).read_text("utf-8")
    )
    turn = data["turns"][0]
    assert turn["question"] == PRICE
    assert [c["quote"] for c in turn["citations"]] == [c["quote"] for c in citations]
    document = Docx(str(client.predict(conversation_id, "docx", api_name="/export")))
    words = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert quote in words and "Not reviewed" in words


def test_export_refuses_unknown_formats_and_conversations(client: Client) -> None:
    _, _, conversation_id = client.predict(PRICE, "", api_name="/ask")
    with pytest.raises(Exception, match="exe is not in the list of choices"):
        client.predict(conversation_id, "exe", api_name="/export")
    with pytest.raises(Exception, match="There is no conversation"):
        client.predict("../../etc/passwd", "md", api_name="/export")


def test_only_the_named_endpoints_are_public(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert sorted(endpoints) == ["/ask", "/export"]


def test_the_chat_renders_no_maths(client: Client) -> None:
    """A "$2 … $0.4" in a quote once became a LaTeX block that swallowed the answer."""
    config = httpx.get(client.src.rstrip("/") + "/config", timeout=30).json()
    (chat,) = [c for c in config["components"] if c.get("props", {}).get("elem_id") == "pb-chat"]
    assert chat["props"]["latex_delimiters"] == []


def test_a_port_in_use_is_a_clear_error(workspace: Workspace) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match=f"127.0.0.1:{port}.*--port"):
            launch(workspace, "127.0.0.1", port, block=False)


@pytest.fixture(scope="module")
def login_url(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Workspace]]:
    from bot.workspace.access import Directory

    folder = tmp_path_factory.mktemp("login")
    users = folder / "users.toml"
    users.write_text(
        "".join(
            f'[users.{name}]\nrole = "{role}"\npassword = "{hash_password(name + "-pw")}"\n'
            for name, role in (("alice", "user"), ("bob", "user"), ("rita", "reviewer"))
        ),
        encoding="utf-8",
    )
    workspace = Workspace(engine, TranscriptStore(folder / "t.sqlite"))
    port = free_port()
    app = launch(workspace, "127.0.0.1", port, directory=Directory.load(users), block=False)
    try:
        yield f"http://127.0.0.1:{port}/", workspace
    finally:
        app.close()


def test_with_login_each_person_reaches_only_their_own_conversations(
    login_url: tuple[str, Workspace], tmp_path: Path
) -> None:
    url, workspace = login_url
    alice = Client(url, auth=("alice", "alice-pw"), verbose=False, download_files=str(tmp_path))
    bob = Client(url, auth=("bob", "bob-pw"), verbose=False, download_files=str(tmp_path))
    rita = Client(url, auth=("rita", "rita-pw"), verbose=False, download_files=str(tmp_path))
    _, _, alices = alice.predict(PRICE, "", api_name="/ask")
    assert workspace.transcripts.conversation(alices).user == "alice"
    with pytest.raises(Exception, match="There is no conversation"):
        bob.predict(alices, "md", api_name="/export")
    with pytest.raises(Exception, match="There is no conversation"):
        bob.predict("And for 3.1?", alices, api_name="/ask")
    assert PRICE in Path(rita.predict(alices, "md", api_name="/export")).read_text("utf-8")
    assert PRICE in Path(alice.predict(alices, "md", api_name="/export")).read_text("utf-8")


def test_with_login_a_wrong_password_gets_nothing(login_url: tuple[str, Workspace]) -> None:
    url, _ = login_url
    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own kinds
        Client(url, auth=("alice", "bob-pw"), verbose=False)
    with pytest.raises(Exception):  # noqa: B017
        Client(url, verbose=False)


def ui_event(url: str, auth: tuple[str, str], elem_id: str, data: list[object]) -> dict[str, Any]:
    """What the page's own event for a click on `elem_id` returns, sent as the browser sends it
    (the web app's private events are reachable by anyone logged in who crafts the request)."""
    with httpx.Client(base_url=url, timeout=60) as http:
        assert http.post("/login", data={"username": auth[0], "password": auth[1]}).is_success
        config = http.get("/config").json()
        button = next(
            c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id
        )
        event = next(
            d for d in config["dependencies"] if [button, "click"] in map(list, d["targets"])
        )
        session = uuid.uuid4().hex
        body = {"data": data, "fn_index": event["id"], "trigger_id": button}
        body |= {"session_hash": session, "event_data": None}
        assert http.post("/gradio_api/queue/join", json=body).is_success
        with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as s:
            for line in s.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    return dict(message)
    raise AssertionError("the event never completed")


def test_with_login_the_pages_own_events_refuse_another_persons_conversation(
    login_url: tuple[str, Workspace],
) -> None:
    url, workspace = login_url
    alices = workspace.ask(User("alice", "user"), PRICE).conversation_id
    opened = ui_event(url, ("bob", "bob-pw"), "pb-open", [alices])  # the chat's Open button
    assert opened["success"] is False and PRICE not in json.dumps(opened)
    searched = ["", "alice", "", "", None]  # words, user, from, to, the conversation open
    found = ui_event(url, ("bob", "bob-pw"), "pb-r-search", searched)  # Review
    assert alices not in json.dumps(found) and PRICE not in json.dumps(found)
    own = ui_event(url, ("alice", "alice-pw"), "pb-r-search", searched)
    assert alices in json.dumps(own)  # the same search finds it for its owner
