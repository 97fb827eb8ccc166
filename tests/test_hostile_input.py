"""Bad and hostile questions through the web API, and documents carrying HTML and JavaScript:
each question gets an answer or a one-line message, nothing saved is changed, and markup from
people or documents stays text in the chat, the sources panel and every export."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from gradio_client import Client
from markdown_it import MarkdownIt

from bot.errors import QuestionError
from bot.settings import Settings
from bot.transcripts.store import TranscriptStore
from bot.workspace.access import LOCAL
from bot.workspace.service import Workspace
from tests.conftest import hostile_corpus
from tests.reliability import Recorder, snapshot
from tests.servers import app_client
from ui.render import answer_markdown, source_panel

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

HOSTED = "Where is Zephyr data hosted?"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    folder = tmp_path_factory.mktemp("hostile")
    settings = Settings(data_dir=folder / "data", corpus_dir=hostile_corpus(folder / "corpus"))
    return Workspace.open(settings)


@pytest.fixture(scope="module")
def client(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with app_client(workspace, tmp_path_factory.mktemp("downloads")) as client:
        yield client


class Markup(HTMLParser):
    """The elements and attributes of an HTML fragment that a browser would act on."""

    ACTIVE = frozenset({"script", "img", "iframe", "object", "embed", "svg", "style", "a"})

    def __init__(self, html: str) -> None:
        super().__init__()
        self.active: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.ACTIVE:
            self.active.append(tag)
        for name, value in attrs:
            if name.startswith("on") or "javascript:" in (value or "").lower():
                self.active.append(f"{tag}[{name}]")


def rendered(markdown: str) -> list[str]:
    """What a Markdown viewer that allows HTML would make active in `markdown`."""
    return Markup(MarkdownIt("commonmark", {"html": True}).render(markdown)).active


BAD_QUESTIONS = [
    ("empty", "", "The question is empty"),
    ("white space only", " \t\n\u3000 ", "The question is empty"),
    ("control and invisible characters only", "\x00\x01\x1b\x7f\u200b\u202e", "is empty"),
    ("over a million characters", "a " * 600_000, "takes up to 1,000,000"),
    ("a conversation that does not exist", HOSTED, "There is no conversation"),
]


@pytest.mark.parametrize(("case", "question", "message"), BAD_QUESTIONS)
def test_a_bad_question_is_a_one_line_message_and_saves_nothing(
    client: Client,
    workspace: Workspace,
    reliability: Recorder,
    case: str,
    question: str,
    message: str,
) -> None:
    settings = workspace.engine.settings
    before = snapshot(settings)
    conversation = "no-such-conversation" if "exist" in case else ""
    with pytest.raises(Exception, match=message) as raised:
        client.predict(question, conversation, api_name="/ask")
    shown = str(raised.value).strip()
    assert "\n" not in shown and len(shown) < 300
    after = snapshot(settings)
    assert after == before  # nothing saved, nothing indexed, no document touched
    reliability.record("bad input", f"question: {case}", shown, before.lost(after))


HARD_QUESTIONS = [
    ("NUL and escape characters", "Where is\x00 Zephyr data\x1b[0m hosted?", "control"),
    ("100 KB question", f"{HOSTED} " + "Please answer precisely. " * 4200, "characters long"),
    ("right-to-left (Arabic) with a bidi override", "\u202eأين تستضاف بيانات Zephyr؟", ""),
    ("emoji", f"🚀 {HOSTED} 🇪🇺", ""),
    ("HTML and JavaScript", f'<img src=x onerror="alert(1)"><script>alert(2)</script>{HOSTED}', ""),
    ("Markdown link and image", f"[click](javascript:alert(1)) ![x](http://x/y.png) {HOSTED}", ""),
]


@pytest.mark.parametrize(("case", "question", "notice"), HARD_QUESTIONS)
def test_a_hard_question_is_answered_with_nothing_active_and_nothing_lost(
    client: Client,
    workspace: Workspace,
    reliability: Recorder,
    case: str,
    question: str,
    notice: str,
) -> None:
    before = snapshot(workspace.engine.settings)
    markdown, citations, conversation = client.predict(question, "", api_name="/ask")
    assert rendered(markdown) == []
    saved = workspace.conversation(LOCAL, conversation).turns[0]
    assert saved.status == "answered" and saved.answer is not None
    assert saved.answer.citations and all(c["quote"] for c in citations)
    if notice:
        assert any(notice in n for n in saved.answer.notices)
    lost = before.lost(snapshot(workspace.engine.settings))
    assert lost.total == 0
    what = f"answered ({len(citations)} citations)"
    if saved.answer.notices:
        what += f"; notice: {saved.answer.notices[0]}"
    reliability.record("bad input", f"question: {case}", what, lost)


def test_a_lone_surrogate_is_removed_and_the_question_saved(workspace: Workspace) -> None:
    exchange = workspace.ask(LOCAL, f"{HOSTED}\ud800")
    saved = workspace.conversation(LOCAL, exchange.conversation_id).turns[0]
    assert saved.question == f"{HOSTED}?" and exchange.answer.citations


def test_a_huge_question_is_refused_before_anything_is_saved(workspace: Workspace) -> None:
    with pytest.raises(QuestionError, match="1,000,000"):
        workspace.ask(LOCAL, "x" * 1_000_001)


def test_markup_in_documents_stays_text_in_the_chat_panel_and_every_export(
    client: Client, workspace: Workspace, reliability: Recorder
) -> None:
    markdown, citations, conversation = client.predict(HOSTED, "", api_name="/ask")
    quotes = [c["quote"] for c in citations]
    assert any("<img" in q for q in quotes), quotes  # the document's markup is quoted verbatim
    assert rendered(markdown) == []
    answer = workspace.conversation(LOCAL, conversation).turns[0].answer
    assert answer is not None
    for citation in answer.citations:
        assert Markup(source_panel(workspace.source(answer, citation.n))).active == []
    for question in ("How fast does Zephyr support answer?", "How much does Zephyr cost?"):
        more, _, _ = client.predict(question, conversation, api_name="/ask")
        assert rendered(more) == []

    exported = Path(client.predict(conversation, "md", api_name="/export"))
    assert rendered(exported.read_text(encoding="utf-8")) == []
    data = json.loads(Path(client.predict(conversation, "json", api_name="/export")).read_text())
    assert [c["quote"] for c in data["turns"][0]["citations"]] == quotes  # data, byte-exact
    docx = Path(client.predict(conversation, "docx", api_name="/export"))
    with zipfile.ZipFile(docx) as archive:
        body = archive.read("word/document.xml").decode("utf-8")
    assert "<img" not in body and "&lt;img" in body  # text in the document, not markup
    assert rendered(answer_markdown(answer)) == []
    reliability.record(
        "bad input",
        "HTML/JavaScript in documents (img onerror, script, javascript: link, iframe)",
        "quoted verbatim as text in the chat, sources panel, Markdown, JSON and DOCX; no active "
        "element",
    )


def test_the_index_of_hostile_html_holds_no_script(workspace: Workspace) -> None:
    texts = " ".join(chunk.text for chunk in workspace.engine.store.chunks())
    assert "__pwned=4" not in texts  # <script> of an HTML page is not text
    assert "window.__pwned=1" in texts  # a Markdown file's text is its text, quoted as such


def test_a_conversation_with_markup_reopens_as_text(workspace: Workspace) -> None:
    from ui.conversations import saved_chat

    exchange = workspace.ask(LOCAL, '<img src=x onerror="alert(1)"> Where is Zephyr data hosted?')
    messages, _ = saved_chat(workspace.conversation(LOCAL, exchange.conversation_id))
    assert all(rendered(m["content"]) == [] for m in messages)
    other = TranscriptStore(workspace.transcripts.path).conversation(exchange.conversation_id)
    assert other.turns[0].question.startswith("<img")  # saved as asked
