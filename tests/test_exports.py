"""Conversations exported for review, built from real answers over the shipped corpus."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import docx
import pypdf
import pytest
from markdown_it import MarkdownIt

from bot.answering.answers import Answer
from bot.answering.engine import Engine
from bot.errors import ProcurebotError
from bot.settings import PROJECT_ROOT
from bot.transcripts.docx import write_docx
from bot.transcripts.exports import (
    FORMATS,
    ExportError,
    TranscriptExport,
    export,
    json_schema,
    to_json,
    to_markdown,
)
from bot.transcripts.store import TranscriptStore
from bot.transcripts.types import Conversation, RunInfo
from index.loaders import load_text

PRICE = "What does Mistral Medium 3 cost per million output tokens?"
FOLLOW_UP = "And for 3.1?"
WEIGHTS = "Are the Mistral Medium 3 weights open?"
OFF_TOPIC = "Who won the 2022 FIFA World Cup?"
FAILED = "Is Mistral Medium 3 deprecated?"
PENDING = "Which clouds sell Mistral Medium 3.1?"
NOTE = "The 3.1 price comes from a catalogue page: check it against the vendor's price list."
ERROR = "The Mistral API did not answer within 60 s: check the network or use the offline mode."

HOSTILE = "<script>alert(1)</script> price?"
HOSTILE_ANSWER = "See [click](javascript:alert(1)) and [here](https://evil.example) [1].\n# Done"
HOSTILE_QUOTE = (
    "# Heading\n- item\n1. first\n[x](javascript:alert(1)) [y](https://evil.example)\n"
    "<img src=x onerror=alert(1)> **bold** _it_ `code` &amp;\n---"
)
HOSTILE_NOTE = "<b>Wrong</b> price, see [the list](https://evil.example)"
CONTROL_QUESTION = "What does Mistral Medium 3.1 cost?\x00\x07"
CONTROL_QUOTE = "\x0bfirst line\x1b[31m\nsecond line\x00"


def corpus_fingerprint() -> str:
    files = sorted((PROJECT_ROOT / "corpus").glob("*.txt"))
    return hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()[:16]


def offline_run() -> RunInfo:
    return RunInfo(
        "extractive", "extractive", {"top_k": 8}, corpus_fingerprint(), version("procurebot")
    )


@pytest.fixture(scope="module")
def conversation(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Conversation:
    """Alice's conversation: answered, reviewed, rated, failed and unanswered questions."""
    store = TranscriptStore(tmp_path_factory.mktemp("exports") / "t.sqlite")
    conversation_id = store.start_conversation("alice")
    turns: dict[str, str] = {}
    history: list[str] = []
    for question in (PRICE, FOLLOW_UP, WEIGHTS, OFF_TOPIC):
        turns[question] = store.record_question(conversation_id, "alice", question, offline_run())
        store.record_answer(turns[question], engine.ask(question, history))
        history.append(question)
    store.add_feedback(turns[PRICE], "alice", "up", comment="Matches the vendor page.")
    store.add_review(turns[PRICE], "bob", "approved")
    store.add_feedback(turns[FOLLOW_UP], "alice", "down", "outdated", "Is this still current?")
    store.add_review(turns[FOLLOW_UP], "bob", "approved")
    store.add_review(turns[FOLLOW_UP], "carol", "needs correction", NOTE)
    mistral = RunInfo("mistral", "mistral-medium-latest", {"temperature": 0.2}, "f" * 16, "0.1.0")
    failed = store.record_question(conversation_id, "alice", FAILED, mistral)
    store.record_failure(failed, ERROR)
    store.record_question(conversation_id, "alice", PENDING, offline_run())
    return store.conversation(conversation_id)


@pytest.fixture(scope="module")
def hostile(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Conversation:
    """Markup and control characters in a title, questions, an answer, quotes and a note."""
    store = TranscriptStore(tmp_path_factory.mktemp("hostile") / "t.sqlite")
    conversation_id = store.start_conversation("mallory", title="../../etc/passwd")
    for question, quote in ((HOSTILE, HOSTILE_QUOTE), (CONTROL_QUESTION, CONTROL_QUOTE)):
        turn_id = store.record_question(conversation_id, "mallory", question, offline_run())
        answer = engine.ask(question)
        assert answer.citations, question
        cited = replace(answer.citations[0], quote=quote)
        answer = replace(answer, answer=HOSTILE_ANSWER, citations=(cited, *answer.citations[1:]))
        store.record_answer(turn_id, answer)
    store.add_review(turn_id, "mallory", "needs correction", HOSTILE_NOTE)
    return store.conversation(conversation_id)


def answers(conversation: Conversation) -> list[Answer]:
    return [turn.answer for turn in conversation.turns if turn.answer is not None]


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def seen(markdown: str) -> str:
    """The text a reader of the rendered Markdown sees."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered(markdown)))


def docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([paragraph.text for paragraph in document.paragraphs] + cells)


def _strings(value: object) -> list[str]:
    """Every string in a parsed JSON value, keys and values, depth first."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (key, *_strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [str(value)]


def exported_text(conversation: Conversation, fmt: str, folder: Path) -> str:
    path = export(conversation, fmt, folder)
    if fmt == "md":
        return seen(path.read_text(encoding="utf-8"))
    if fmt == "json":  # its strings as written, not JSON-escaped (a quote may hold '"')
        return "\n".join(_strings(json.loads(path.read_text(encoding="utf-8"))))
    return docx_text(path)


def test_the_conversation_has_what_a_reviewer_must_see(conversation: Conversation) -> None:
    statuses = [turn.status for turn in conversation.turns]
    assert statuses == ["answered"] * 4 + ["failed", "pending"]
    price, follow_up, weights, off_topic = answers(conversation)
    assert price.grounded and price.citations
    assert follow_up.rewritten_query != FOLLOW_UP and "3.1" in follow_up.rewritten_query
    assert weights.conflicts
    assert not off_topic.grounded and not off_topic.citations


def test_every_quote_is_verbatim_in_its_source(conversation: Conversation) -> None:
    citations = [c for answer in answers(conversation) for c in answer.citations]
    assert len(citations) >= 4
    for citation in citations:
        data = (PROJECT_ROOT / citation.source).read_bytes()
        assert hashlib.sha256(data).hexdigest() == citation.sha256
        text = load_text(PROJECT_ROOT / citation.source, data)
        assert text[citation.start : citation.end] == citation.quote


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_citation_is_exported_with_its_quote_source_and_hash(
    conversation: Conversation, fmt: str, tmp_path: Path
) -> None:
    text = exported_text(conversation, fmt, tmp_path)
    for answer in answers(conversation):
        for citation in answer.citations:
            assert citation.quote in text
            assert citation.source in text
            assert citation.sha256 in text
    assert FAILED in text and ERROR in text and PENDING in text
    assert NOTE in text
    assert conversation.turns[0].run.corpus_fingerprint in text


@pytest.mark.parametrize("fmt", ["md", "docx"])
def test_reviews_and_feedback_are_shown(
    conversation: Conversation, fmt: str, tmp_path: Path
) -> None:
    text = exported_text(conversation, fmt, tmp_path)
    price, follow_up = conversation.turns[:2]
    assert f"Approved by bob on {price.reviews[0].reviewed_at}" in text
    assert f"Needs correction by carol on {follow_up.reviews[1].reviewed_at}: {NOTE}" in text
    assert f"Approved by bob on {follow_up.reviews[0].reviewed_at}" in text  # the history
    assert text.count("Not reviewed") >= 4
    assert "👍 alice" in text and "Matches the vendor page." in text
    assert "👎 alice" in text and "outdated: Is this still current?" in text
    assert "The documents don't say" in text
    assert "Pending" in text and f"Failed: {ERROR}" in text


def test_markdown_has_one_section_per_question_and_shows_the_rewritten_query(
    conversation: Conversation,
) -> None:
    markdown = to_markdown(conversation)
    headings = re.findall(r"^## Question (\d+)$", markdown, flags=re.MULTILINE)
    assert headings == [str(turn.position) for turn in conversation.turns]
    assert f"**Rewritten query:** {answers(conversation)[1].rewritten_query}" in markdown
    assert "### Sources" in markdown and "characters " in markdown


def test_markdown_shows_runs_per_question_only_when_they_differ(
    conversation: Conversation, hostile: Conversation
) -> None:
    mixed = to_markdown(conversation)
    assert mixed.count("**Run:**") == len(conversation.turns)
    assert "mistral / mistral-medium-latest" in mixed and "differ between questions" in mixed
    shared = to_markdown(hostile)
    assert "**Run:**" not in shared
    assert shared.count('`{"top_k": 8}`') == 1 and version("procurebot") in shared


def test_markdown_from_questions_answers_and_quotes_stays_inert(hostile: Conversation) -> None:
    markdown = to_markdown(hostile)
    assert "<script>" not in markdown and "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    page = rendered(markdown)
    for markup in ("<script", "<img", "<a ", "<b>", "<strong>bold", "<em>it", "<code>code", "<ol"):
        assert markup not in page, markup
    assert page.count("<h1>") == 1  # the conversation's title, not a quoted "# Heading"
    assert page.count("<hr") == 0
    text = seen(markdown)
    assert HOSTILE in text and HOSTILE_QUOTE in text and HOSTILE_NOTE in text
    assert HOSTILE_ANSWER in text


def test_json_is_valid_documented_and_complete(conversation: Conversation, tmp_path: Path) -> None:
    path = export(conversation, "json", tmp_path)
    raw = path.read_text(encoding="utf-8")
    assert raw.startswith('{\n  "schema_version": "1"') and "—" in raw  # indented, not \u2014
    data = TranscriptExport.model_validate(json.loads(raw)).model_dump(mode="json")
    assert data["conversation"]["id"] == conversation.id and data["conversation"]["user"] == "alice"
    price, follow_up, weights, off_topic, failed, pending = data["turns"]
    assert price["review"]["status"] == "approved" and price["review"]["reviewer"] == "bob"
    assert price["feedback"][0]["rating"] == "up"
    assert follow_up["review"]["status"] == "needs correction"
    assert follow_up["review"]["reviewer"] == "carol" and follow_up["review"]["note"] == NOTE
    assert [r["status"] for r in follow_up["review_history"]] == ["approved"]
    assert follow_up["rewritten_query"] == answers(conversation)[1].rewritten_query
    assert {c["n"] for c in weights["citations"]} >= {
        claim["n"] for conflict in weights["conflicts"] for claim in conflict["claims"]
    }
    assert off_topic["answer"]["grounded"] is False and off_topic["citations"] == []
    assert failed["status"] == "failed" and failed["error"] == ERROR and failed["answer"] is None
    assert failed["run"]["backend"] == "mistral" and failed["run"]["parameters"]["temperature"]
    assert pending["status"] == "pending" and pending["answered_at"] is None
    assert pending["review"]["status"] == "not reviewed"
    exported = [turn["citations"] for turn in data["turns"][:4]]
    assert exported == [[vars(c) for c in answer.citations] for answer in answers(conversation)]


def test_json_keeps_control_characters_that_the_documents_drop(hostile: Conversation) -> None:
    data = to_json(hostile)
    assert data["turns"][1]["question"] == CONTROL_QUESTION
    assert data["turns"][1]["citations"][0]["quote"] == CONTROL_QUOTE


def test_json_schema_describes_every_property() -> None:
    schema = json_schema()
    models = [schema, *schema["$defs"].values()]
    assert len(models) >= 10
    for model in models:
        assert model.get("description"), model["title"]
        for name, prop in model["properties"].items():
            assert prop.get("description"), f"{model['title']}.{name}"
    assert schema["properties"]["schema_version"]["const"] == "1"


def test_docx_holds_the_review_document(conversation: Conversation, tmp_path: Path) -> None:
    path = export(conversation, "docx", tmp_path)
    document = docx.Document(str(path))
    styled = [(p.style.name if p.style else "", p.text) for p in document.paragraphs]
    headings = [text for style, text in styled if style == "Heading 1"]
    assert headings == [f"Question {turn.position}" for turn in conversation.turns]
    metadata = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert metadata["Conversation"] == conversation.id and metadata["User"] == "alice"
    assert metadata["Backend / model"] == "see each question"
    assert len(document.tables) == 1  # sources are blocks a reviewer reads down, not a table
    price = answers(conversation)[0]
    quotes = [text for style, text in styled if style == "Quote"]
    where = [text for style, text in styled if style == "Caption"]
    for citation in price.citations:  # the quote, then title · kind · date · file · span
        assert f"[{citation.n}] {citation.quote}" in quotes
        assert (
            f"{citation.title} · {citation.kind} · {citation.date} · {citation.source} · "
            f"{citation.where} · SHA-256 {citation.sha256}"
        ) in where
    answer_paragraphs = [text for style, text in styled if style.startswith("List Bullet")]
    assert answer_paragraphs and not any(text.startswith("- ") for text in answer_paragraphs)
    text = docx_text(path)
    assert "Approved" in text and "Needs correction" in text and NOTE in text
    assert "Reviewer's sign-off: ☒ Approved" in text


SOFFICE = shutil.which("soffice")


@pytest.mark.skipif(
    SOFFICE is None and os.environ.get("PROCUREBOT_TEST_REQUIRE_OFFICE") != "1",
    reason="Debian's LibreOffice is not installed (make test installs it)",
)
def test_the_reviewer_document_reads_as_pages(conversation: Conversation, tmp_path: Path) -> None:
    """Laid out by LibreOffice, no word of a source is broken across lines (a five-column
    table once gave "documentati on"), and the pages grow with the answers, not faster."""
    assert SOFFICE, "CI requires LibreOffice (make test installs it)"
    path = export(conversation, "docx", tmp_path)
    profile = f"-env:UserInstallation=file://{tmp_path / 'office-profile'}"
    subprocess.run(
        [SOFFICE, profile, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), path],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pages = pypdf.PdfReader(str(path.with_suffix(".pdf"))).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    for answer in answers(conversation):
        for citation in answer.citations:
            assert " ".join(citation.title.split()) in text and citation.source in text
    assert len(pages) <= 2 * len(conversation.turns)


def test_docx_survives_control_characters(hostile: Conversation, tmp_path: Path) -> None:
    path = tmp_path / "hostile.docx"
    write_docx(hostile, path)
    text = docx_text(path)
    assert "What does Mistral Medium 3.1 cost?" in text and HOSTILE in text
    assert "first line[31m\nsecond line" in text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", text)
    assert HOSTILE_NOTE in text and "../../etc/passwd" in text


def test_markdown_drops_control_characters(hostile: Conversation) -> None:
    markdown = to_markdown(hostile)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", markdown)
    assert "first line\\[31m" in markdown


@pytest.mark.parametrize("fmt", ["pdf", "", "../md", "MD"])
def test_an_unknown_format_is_refused(conversation: Conversation, fmt: str, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    with pytest.raises(ExportError) as caught:
        export(conversation, fmt, folder)
    message = str(caught.value)
    assert isinstance(caught.value, ProcurebotError) and "\n" not in message
    assert "md, json, docx" in message and repr(fmt) in message
    assert not folder.exists()


def test_export_file_names_come_from_the_conversation_id(
    conversation: Conversation, hostile: Conversation, tmp_path: Path
) -> None:
    folder = tmp_path / "not" / "yet" / "there"
    for fmt in FORMATS:
        path = export(conversation, fmt, folder)
        assert path == folder / f"procurebot-conversation-{conversation.id[:8]}.{fmt}"
    path = export(hostile, "md", folder)  # titled "../../etc/passwd"
    assert path == folder / f"procurebot-conversation-{hostile.id[:8]}.md"
    path = export(replace(hostile, id="../../../etc/passwd"), "json", folder)
    assert path == folder / "procurebot-conversation-etcpassw.json"
    assert sorted(p.parent for p in folder.rglob("*")) == [folder] * 5
    assert not list(folder.glob("*.part"))


def test_an_unwritable_folder_is_an_export_error(
    conversation: Conversation, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ExportError, match="could not be written"):
        export(conversation, "md", blocker / "exports")
