"""Answers follow the corpus: a file changed after indexing is re-indexed before the next
question when that is quick, or the answer says which files are stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.settings import Settings
from tests.conftest import run_cli

OFFER = "# Hosting offer\n\nThe monthly hosting fee for Orca Cloud is {fee} EUR per instance.\n"
OTHER = "# Support\n\nSupport for Orca Cloud is available in English and German.\n"
QUESTION = "What is the monthly hosting fee for Orca Cloud?"


def _engine(root: Path, **settings: object) -> Engine:
    corpus = root / "docs"
    if not corpus.exists():
        corpus.mkdir(parents=True)
        (corpus / "offer.md").write_text(OFFER.format(fee="4,200"), encoding="utf-8")
        (corpus / "support.md").write_text(OTHER, encoding="utf-8")
    options = {"backend": "extractive", **settings}
    return Engine.open(Settings(data_dir=root / "data", corpus_dir=corpus, **options))  # type: ignore[arg-type]


def _quoted(engine: Engine) -> str:
    return " ".join(c.quote for c in engine.ask(QUESTION).citations)


def test_a_fee_edited_after_indexing_is_answered_with_the_new_value(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    assert "4,200 EUR" in _quoted(engine)
    (tmp_path / "docs" / "offer.md").write_text(OFFER.format(fee="4,900"), encoding="utf-8")
    answer = engine.ask(QUESTION)
    assert "4,900 EUR" in " ".join(c.quote for c in answer.citations)
    assert not any("Not indexed yet" in notice for notice in answer.notices)
    assert engine.pending_changes() == []


def test_changes_too_large_to_index_first_are_named_in_a_notice(tmp_path: Path) -> None:
    engine = _engine(tmp_path, fresh_reindex_kb=0)
    (tmp_path / "docs" / "offer.md").write_text(OFFER.format(fee="4,900"), encoding="utf-8")
    (tmp_path / "docs" / "new.md").write_text(OTHER.replace("Support", "Training"), "utf-8")
    answer = engine.ask(QUESTION)
    (notice,) = [n for n in answer.notices if "Not indexed yet" in n]
    assert "docs/new.md, docs/offer.md" in notice and "procurebot index" in notice
    assert "4,200 EUR" in " ".join(c.quote for c in answer.citations)  # the index as it is
    assert engine.pending_changes() == ["docs/new.md", "docs/offer.md"]


def test_a_deleted_file_is_never_quoted_again(tmp_path: Path) -> None:
    engine = _engine(tmp_path, fresh_reindex_kb=0)  # a removal needs no embedding
    (tmp_path / "docs" / "offer.md").unlink()
    answer = engine.ask(QUESTION)
    assert all(c.source != "docs/offer.md" for c in answer.citations)
    assert engine.pending_changes() == []


@pytest.mark.slow  # subprocesses or many index runs: not in make test-fast
def test_a_running_engine_takes_in_another_process_s_re_index(tmp_path: Path) -> None:
    engine = _engine(tmp_path, fresh_reindex_kb=0)  # it does not re-index by itself
    assert "4,200 EUR" in _quoted(engine)
    (tmp_path / "docs" / "offer.md").write_text(OFFER.format(fee="4,900"), encoding="utf-8")
    env = {"PROCUREBOT_CORPUS_DIR": str(tmp_path / "docs")}
    outside = run_cli("index", data_dir=tmp_path / "data", env=env)
    assert outside.returncode == 0, outside.stderr.decode()
    assert "updated     1  docs/offer.md" in outside.stdout.decode()
    answer = engine.ask(QUESTION)
    assert "4,900 EUR" in " ".join(c.quote for c in answer.citations)
    assert not any("Not indexed yet" in notice for notice in answer.notices)


def test_the_chat_badge_counts_what_the_documents_tab_lists(tmp_path: Path) -> None:
    from bot.workspace.access import LOCAL
    from bot.workspace.service import Workspace
    from ui.chat import _badges
    from ui.people import Context

    _engine(tmp_path)  # builds the index of the two documents
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "docs")
    workspace = Workspace.open(settings)
    context = Context(workspace)

    def badge() -> str:
        listed = len(workspace.engine.documents())  # what the Documents tab lists
        assert f"Index up to date · {listed} documents" in _badges(context)
        return _badges(context)

    assert "2 documents" in badge()
    upload = tmp_path / "terms.md"
    upload.write_text("# Terms\n\nOrca Cloud data stays in the EU.\n", encoding="utf-8")
    workspace.add_documents(LOCAL, [("terms.md", upload)])
    assert "3 documents" in badge()
    workspace.remove_document(LOCAL, "uploads/terms.md")
    assert "2 documents" in badge()
    (tmp_path / "docs" / "new.md").write_text(OTHER.replace("Support", "Training"), "utf-8")
    assert "1 document change(s) not indexed yet" in _badges(context)
    env = {"PROCUREBOT_CORPUS_DIR": str(tmp_path / "docs")}
    assert run_cli("index", data_dir=tmp_path / "data", env=env).returncode == 0
    assert "3 documents" in badge()  # another process's index run


@pytest.mark.slow  # subprocesses or many index runs: not in make test-fast
def test_a_rebuild_by_another_process_is_taken_in(tmp_path: Path) -> None:
    engine = _engine(tmp_path, fresh_reindex_kb=0)
    assert "4,200 EUR" in _quoted(engine)
    (tmp_path / "docs" / "offer.md").write_text(OFFER.format(fee="4,900"), encoding="utf-8")
    env = {"PROCUREBOT_CORPUS_DIR": str(tmp_path / "docs")}
    outside = run_cli("index", "--rebuild", data_dir=tmp_path / "data", env=env)
    assert outside.returncode == 0, outside.stderr.decode()
    assert "4,900 EUR" in _quoted(engine)


def test_a_wrong_catalog_or_an_unreadable_file_gives_a_notice_not_a_refusal(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    docs = tmp_path / "docs"
    (docs / "support.md").write_bytes(b"\x00\x01 no longer text")
    answer = engine.ask(QUESTION)
    assert "4,200 EUR" in " ".join(c.quote for c in answer.citations)
    assert any(
        "docs/support.md cannot be read (binary data" in n and "last readable version" in n
        for n in answer.notices
    )
    pending, unreadable = engine.corpus_state()  # what the Documents tab shows
    assert pending == [] and [source for source, _ in unreadable] == ["docs/support.md"]
    (docs / "catalog.toml").write_text('[documents."offer.md"]\ntitle = "x"\nkind = "blog"\n')
    answer = engine.ask(QUESTION)
    assert "4,200 EUR" in " ".join(c.quote for c in answer.citations)
    assert any("could not be checked for changes" in n and "blog" in n for n in answer.notices)
