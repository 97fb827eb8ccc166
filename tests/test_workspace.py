"""The workspace: answers saved as they happen, access rules, sources, documents."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.errors import CatalogError, QuestionError
from bot.settings import PROJECT_ROOT, Settings
from bot.transcripts.store import TranscriptNotFound, TranscriptStore
from bot.workspace.access import LOCAL, NotAllowed, User
from bot.workspace.documents import DocumentDetails
from bot.workspace.service import Workspace
from index.documents import read_catalog
from index.errors import DocumentError
from index.loaders import load_text

ALICE = User("alice", "user")
BOB = User("bob", "user")
RITA = User("rita", "reviewer")


@pytest.fixture
def workspace(engine: Engine, tmp_path: Path) -> Workspace:
    return Workspace(engine, TranscriptStore(tmp_path / "db" / "transcripts.sqlite"))


def test_a_conversation_is_saved_turn_by_turn_with_what_produced_it(workspace: Workspace) -> None:
    first = workspace.ask(ALICE, "Which clouds offer Mistral Medium 3?")
    second = workspace.ask(ALICE, "And for 3.1?", first.conversation_id)
    assert second.conversation_id == first.conversation_id
    assert second.answer.rewritten_query == "Which clouds offer Mistral Medium 3.1?"
    conversation = workspace.conversation(ALICE, first.conversation_id)
    assert [t.question for t in conversation.turns] == [
        "Which clouds offer Mistral Medium 3?",
        "And for 3.1?",
    ]
    turn = conversation.turns[1]
    assert turn.id == second.turn_id
    assert turn.answer is not None and turn.answer.to_json() == second.answer.to_json()
    assert turn.run.corpus_fingerprint == workspace.engine.corpus_fingerprint
    assert len(turn.run.corpus_fingerprint) == 64
    assert turn.run.parameters["top_k"] == workspace.engine.settings.top_k
    assert turn.run.backend == "extractive" and turn.run.app_version == workspace.version


def test_the_stream_ends_with_the_saved_exchange(workspace: Workspace) -> None:
    items = list(workspace.ask_stream(LOCAL, "What does Mistral Medium 3 cost?"))
    exchange = items[-1]
    assert not isinstance(exchange, str)
    saved = workspace.conversation(LOCAL, exchange.conversation_id).turns[0]
    assert saved.answer is not None and saved.answer.citations
    assert saved.answer.to_json() == exchange.answer.to_json()


def test_an_empty_question_saves_nothing(workspace: Workspace) -> None:
    with pytest.raises(QuestionError):
        workspace.ask(ALICE, " \x00\t ")
    assert workspace.conversations(RITA) == []


def test_people_see_their_own_conversations_and_reviewers_everyone(workspace: Workspace) -> None:
    alices = workspace.ask(ALICE, "Is mistral-medium-2312 still available?")
    workspace.ask(BOB, "Which clouds offer Mistral Medium 3?")
    assert [c.user for c in workspace.conversations(ALICE)] == ["alice"]
    assert [c.user for c in workspace.conversations(ALICE, owner="bob")] == ["alice"]
    assert {c.user for c in workspace.conversations(RITA)} == {"alice", "bob"}
    assert [c.user for c in workspace.conversations(RITA, owner="bob")] == ["bob"]
    with pytest.raises(TranscriptNotFound):
        workspace.conversation(BOB, alices.conversation_id)
    with pytest.raises(TranscriptNotFound):
        workspace.export(BOB, alices.conversation_id, "md", Path("/nonexistent"))
    with pytest.raises(TranscriptNotFound):
        workspace.ask(BOB, "And for 3.1?", alices.conversation_id)
    with pytest.raises(NotAllowed):
        workspace.ask(RITA, "And for 3.1?", alices.conversation_id)
    assert workspace.conversation(RITA, alices.conversation_id).user == "alice"


def test_feedback_and_reviews_follow_the_roles(workspace: Workspace, tmp_path: Path) -> None:
    exchange = workspace.ask(ALICE, "Are the weights of Mistral Medium 3 open?")
    workspace.feedback(ALICE, exchange.turn_id, "down", "outdated", "2026 news says otherwise")
    with pytest.raises(TranscriptNotFound):
        workspace.feedback(BOB, exchange.turn_id, "up")
    with pytest.raises(NotAllowed, match="Only a reviewer"):
        workspace.review(ALICE, exchange.turn_id, "approved")
    workspace.review(RITA, exchange.turn_id, "needs correction", "show both sources")
    turn = workspace.conversation(ALICE, exchange.conversation_id).turns[0]
    assert [f.user for f in turn.feedback] == ["alice"]
    assert turn.review is not None and turn.review.reviewer == "rita"
    exported = workspace.export(RITA, exchange.conversation_id, "md", tmp_path / "out")
    text = exported.read_text(encoding="utf-8")
    assert "show both sources" in text and "2026 news says otherwise" in text


def test_the_form_shows_ones_own_last_feedback_on_the_chosen_answer(workspace: Workspace) -> None:
    first = workspace.ask(ALICE, "Are the weights of Mistral Medium 3 open?")
    second = workspace.ask(ALICE, "What does it cost?", first.conversation_id)
    conversation = first.conversation_id
    assert workspace.own_feedback(ALICE, conversation, first.turn_id) is None
    workspace.feedback(ALICE, first.turn_id, "up")  # a thumb
    workspace.feedback(ALICE, first.turn_id, "down", "outdated", "see the 2026 page")  # the form
    mine = workspace.own_feedback(ALICE, conversation, first.turn_id)
    assert mine is not None and (mine.rating, mine.reason, mine.comment) == (
        "down",
        "outdated",
        "see the 2026 page",
    )
    assert workspace.own_feedback(ALICE, conversation, second.turn_id) is None  # not answer 1's
    workspace.feedback(RITA, second.turn_id, "up")  # a reviewer's, not Alice's
    assert workspace.own_feedback(ALICE, conversation, second.turn_id) is None
    with pytest.raises(TranscriptNotFound):  # another person's conversation stays hidden
        workspace.own_feedback(BOB, conversation, first.turn_id)


def test_a_reviewers_mistake_is_one_line_without_a_traceback(
    workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    import gradio as gr

    from bot.transcripts.store import InvalidVerdict
    from ui.people import shown_errors

    exchange = workspace.ask(ALICE, "Are the weights of Mistral Medium 3 open?")
    with pytest.raises(InvalidVerdict) as raised:
        workspace.review(RITA, exchange.turn_id, "needs correction", "  ")
    with pytest.raises(gr.Error, match="Say what needs correcting"), shown_errors():
        raise raised.value
    assert not [r for r in caplog.records if r.exc_info]  # nothing for the server log


def test_an_answer_is_given_with_a_notice_when_the_transcript_cannot_be_written(
    workspace: Workspace,
) -> None:
    shutil.rmtree(workspace.transcripts.path.parent)
    exchange = workspace.ask(ALICE, "What does Mistral Medium 3 cost?")
    assert exchange.answer.citations
    assert any("not saved in the transcript yet" in n for n in exchange.answer.notices)
    kept = workspace.conversation(ALICE, exchange.conversation_id)
    assert [t.answer.citations for t in kept.turns if t.answer] == [exchange.answer.citations]


def test_a_citation_is_shown_verbatim_inside_its_passage(workspace: Workspace) -> None:
    answer = workspace.ask(
        LOCAL, "Can Mistral Medium 3 be self-hosted, and on how many GPUs?"
    ).answer
    assert answer.citations
    for citation in answer.citations:
        view = workspace.source(answer, citation.n)
        assert not view.warning and view.quote == citation.quote
        text = load_text(
            PROJECT_ROOT / citation.source, (PROJECT_ROOT / citation.source).read_bytes()
        )
        start = citation.start - len(view.before)
        assert text[start : citation.end + len(view.after)] == view.before + view.quote + view.after
        assert len(view.before) > 50 or start == 0
    with pytest.raises(TranscriptNotFound):
        workspace.source(answer, 99)


@pytest.fixture
def own_workspace(tmp_path: Path) -> Workspace:
    """A workspace over a corpus of its own, which the test may change."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "alpha.md").write_text(
        "# Alpha pricing\n\nAlpha costs $3 per million input tokens.\n", encoding="utf-8"
    )
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    return Workspace.open(settings)


def test_documents_are_added_indexed_and_removed(own_workspace: Workspace, tmp_path: Path) -> None:
    engine = own_workspace.engine
    before = engine.corpus_fingerprint
    good = tmp_path / "terms.md"
    good.write_text("# Hosting terms\n\nBeta data is hosted in Frankfurt, Germany.\n")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 not really")
    with pytest.raises(NotAllowed, match="Only an admin"):
        own_workspace.add_documents(RITA, [("terms.md", good)])
    result, report = own_workspace.add_documents(
        LOCAL, [("terms.md", good), ("broken.pdf", broken)]
    )
    assert result.added == ("uploads/terms.md",) and result.refused[0][0] == "broken.pdf"
    assert report is not None and report.added == ("uploads/terms.md",)
    assert [d.source for d in engine.documents()] == ["corpus/alpha.md", "uploads/terms.md"]
    assert all(d.indexed_at for d in engine.documents())
    assert engine.corpus_fingerprint != before and engine.pending_changes() == []
    answer = own_workspace.ask(LOCAL, "Where is Beta data hosted?").answer
    assert any(c.source == "uploads/terms.md" for c in answer.citations)
    with pytest.raises(DocumentError, match="shipped corpus"):
        own_workspace.remove_document(LOCAL, "corpus/alpha.md")
    own_workspace.remove_document(LOCAL, "uploads/terms.md")
    assert [d.source for d in engine.documents()] == ["corpus/alpha.md"]
    assert engine.corpus_fingerprint == before
    assert own_workspace.source(answer, answer.citations[0].n).missing


def test_changes_on_disk_are_shown_until_re_indexed(own_workspace: Workspace) -> None:
    engine = own_workspace.engine
    corpus = engine.settings.corpus_dir
    (corpus / "alpha.md").write_text("# Alpha pricing\n\nAlpha now costs $4.\n", encoding="utf-8")
    (corpus / "gamma.txt").write_text("Gamma runs on one GPU.\n", encoding="utf-8")
    assert engine.pending_changes() == ["corpus/alpha.md", "corpus/gamma.txt"]
    report = own_workspace.reindex(LOCAL)
    assert report.updated == ("corpus/alpha.md",) and report.added == ("corpus/gamma.txt",)
    assert engine.pending_changes() == []


def test_an_admin_corrects_a_documents_details_without_re_embedding(
    own_workspace: Workspace, tmp_path: Path
) -> None:
    engine = own_workspace.engine
    upload = tmp_path / "価格表.md"
    upload.write_text(
        "# 価格表\n\nGamma costs 4 EUR per hour until 2027-10-31.\n", encoding="utf-8"
    )
    own_workspace.add_documents(LOCAL, [("価格表.md", upload)])
    details = DocumentDetails("Gamma price sheet", "vendor-docs", "2026-10-15")
    with pytest.raises(NotAllowed, match="Only an admin"):
        own_workspace.set_document_details(RITA, "uploads/価格表.md", details)
    for wrong, message in (
        (DocumentDetails("", "news", ""), "title is empty"),
        (DocumentDetails("T", "blog", ""), "Unknown kind"),
        (DocumentDetails("T", "news", "15.10.2026"), "not a date"),
        (DocumentDetails("T", "news", "2026-02-30"), "not a date"),
        (DocumentDetails("T", "news", "２０２６"), "not a date"),  # full-width digits
        (DocumentDetails("T\x00x", "news", ""), "control or invisible"),
    ):
        with pytest.raises(CatalogError, match=message):
            own_workspace.set_document_details(LOCAL, "uploads/価格表.md", wrong)
    uploads = engine.settings.uploads_dir
    assert not (uploads / "catalog.toml").exists()  # a refused correction changes nothing

    guessed = next(d for d in engine.documents() if d.source == "uploads/価格表.md")
    assert (guessed.date, guessed.date_basis[:7]) == ("2027-10-31", "guessed")
    title_only = DocumentDetails("Gamma sheet", "other", "2027-10-31")
    own_workspace.set_document_details(LOCAL, "uploads/価格表.md", title_only)
    kept = next(d for d in engine.documents() if d.source == "uploads/価格表.md")
    assert (kept.title, kept.date, kept.date_basis) == (
        "Gamma sheet",
        guessed.date,
        guessed.date_basis,
    )
    report = own_workspace.set_document_details(LOCAL, "uploads/価格表.md", details)
    assert report.relabelled == ("uploads/価格表.md",) and report.chunks_embedded == 0
    record = next(d for d in engine.documents() if d.source == "uploads/価格表.md")
    assert (record.title, record.kind, record.date) == (
        "Gamma price sheet",
        "vendor-docs",
        "2026-10-15",
    )
    assert "set by local in the Documents tab" in record.date_basis
    assert read_catalog(uploads / "catalog.toml")["価格表.md"]["title"] == "Gamma price sheet"
    answer = own_workspace.ask(LOCAL, "What does Gamma cost per hour?").answer
    assert {(c.title, c.date) for c in answer.citations if c.source.startswith("uploads/")} == {
        ("Gamma price sheet", "2026-10-15")
    }
    own_workspace.set_document_details(
        LOCAL, "corpus/alpha.md", DocumentDetails("Alpha prices", "vendor-docs", "")
    )
    alpha = next(d for d in engine.documents() if d.source == "corpus/alpha.md")
    assert (alpha.title, alpha.date) == ("Alpha prices", None)
    own_workspace.set_document_details(  # the title only: the date keeps how it was found
        LOCAL, "uploads/価格表.md", DocumentDetails("Gamma prices", "vendor-docs", "2026-10-15")
    )
    record = next(d for d in engine.documents() if d.source == "uploads/価格表.md")
    assert record.title == "Gamma prices" and "set by local" in record.date_basis
    assert engine.pending_changes() == []
