"""A fact on page 3 of a PDF is cited with page 3 wherever the citation is shown."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest

from bot.answering.answers import Answer, answer_from_json, render_sources
from bot.answering.engine import Engine
from bot.questionnaires.writer import citation_line
from bot.settings import Settings
from bot.transcripts.exports import export, to_markdown
from bot.transcripts.store import TranscriptStore
from bot.transcripts.types import RunInfo
from bot.workspace.sources import SourceView
from index.loaders import load_text
from tests.conftest import text_pdf
from ui.render import source_panel

PAGES = (
    "Orca Cloud offer for the city of Ghent, prepared by the Orca sales team.",
    "Orca Cloud runs in data centres in Frankfurt and Paris for European customers.",
    "The dedicated hosting fee for Orca Cloud is 4,200 EUR per month per instance.",
)
QUESTION = "What is the dedicated hosting fee for Orca Cloud?"


@pytest.fixture(scope="module")
def answer(tmp_path_factory: pytest.TempPathFactory) -> Answer:
    root = tmp_path_factory.mktemp("pages")
    corpus = root / "docs"
    corpus.mkdir()
    (corpus / "offer.pdf").write_bytes(text_pdf(*PAGES))
    settings = Settings(data_dir=root / "data", corpus_dir=corpus, backend="extractive")
    return Engine.open(settings).ask(QUESTION)


def test_the_quote_from_page_3_is_cited_with_page_3(answer: Answer) -> None:
    assert answer.grounded
    fee = next(c for c in answer.citations if "4,200 EUR" in c.quote)
    assert fee.page == 3
    assert fee.where == f"p. 3, characters {fee.start}–{fee.end}"
    others = [c for c in answer.citations if c is not fee]
    assert all(c.page in (1, 2) for c in others)
    assert Path(fee.source).name == "offer.pdf"


def test_the_page_is_in_ask_json_sources_questionnaires_and_every_export(
    answer: Answer, tmp_path: Path
) -> None:
    fee = next(c for c in answer.citations if "4,200 EUR" in c.quote)
    shown = json.loads(json.dumps(answer.to_json()))
    assert {c["quote"]: c["page"] for c in shown["citations"]}[fee.quote] == 3
    assert answer_from_json(shown).citations == answer.citations  # transcripts keep it
    assert f"offer.pdf, p. 3, characters {fee.start}–{fee.end}" in render_sources(answer)
    assert f"p. 3, characters {fee.start}–{fee.end}: “{fee.quote}”" in citation_line(fee)

    store = TranscriptStore(tmp_path / "t.sqlite")
    conversation_id = store.start_conversation("alice")
    run = RunInfo("extractive", "extractive", {"top_k": 8}, "0" * 16, "0")
    store.record_answer(store.record_question(conversation_id, "alice", QUESTION, run), answer)
    conversation = store.conversation(conversation_id)
    assert f"p. 3, characters {fee.start}–{fee.end}" in to_markdown(conversation)
    exported = json.loads(export(conversation, "json", tmp_path).read_text(encoding="utf-8"))
    cited = exported["turns"][0]["citations"]
    assert {c["quote"]: c["page"] for c in cited}[fee.quote] == 3
    paragraphs = docx.Document(str(export(conversation, "docx", tmp_path))).paragraphs
    assert any(f"p. 3, characters {fee.start}–{fee.end} · SHA-256" in p.text for p in paragraphs)


def test_a_text_file_has_no_page(tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "offer.md").write_text(PAGES[2] + "\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, backend="extractive")
    answer = Engine.open(settings).ask(QUESTION)
    (citation,) = answer.citations
    assert citation.page is None and citation.where.startswith("characters")
    assert load_text(corpus / "offer.md", (corpus / "offer.md").read_bytes()) == PAGES[2] + "\n"


def test_the_sources_panel_shows_the_page(answer: Answer) -> None:
    fee = next(c for c in answer.citations if "4,200 EUR" in c.quote)
    panel = source_panel(SourceView(fee, "", fee.quote, "", changed=False, missing=False))
    assert f"p. 3, characters {fee.start}–{fee.end}" in panel
