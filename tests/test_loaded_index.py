"""The retriever takes in a re-index one document at a time, and ends as a fresh load would."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.answering.engine import Engine
from bot.answering.retrieval import HybridRetriever, Passage
from bot.settings import Settings
from tests.conftest import CORPUS

QUESTIONS = (
    "What does Mistral Medium 3 cost per million input tokens?",
    "Où les données sont-elles hébergées ?",
    "mistral-medium-2312 deprecation date",
    "Which GPUs does the self-hosted deployment need?",
    "Alpha price per million tokens",
)


def _state(retriever: HybridRetriever, engine: Engine) -> dict[str, object]:
    """What answers depend on, in a form two retrievers can be compared by."""
    chunks = engine.store.chunks()
    return {
        "keywords": {q: [c.id for c in retriever.keyword_search(q, 8)] for q in QUESTIONS},
        "aliases": retriever.aliases,
        "idf": {t: round(retriever.idf(t), 9) for t in ("price", "gpu", "zzzunknown", "medium")},
        "sentences": {
            chunk.id: [
                c.sentence.start for c in retriever.candidates([Passage(chunk, 1, 1, 1, None)])
            ]
            for chunk in chunks
        },
    }


@pytest.mark.slow  # subprocesses or many index runs: not in make test-fast
def test_a_reindex_loads_only_what_changed_and_ends_as_a_fresh_load(
    tmp_path: Path, small_corpus: Path
) -> None:
    for name in ("001_72ad3820649f10bd.txt", "002_f67bddd3a88b2c10.txt"):
        shutil.copy(CORPUS / name, small_corpus / name)
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=small_corpus)
    engine = Engine.open(settings)
    loaded: list[tuple[int, int]] = []
    real_sync = engine.retriever._loaded.sync
    engine.retriever._loaded.sync = lambda store: loaded.append(real_sync(store)) or loaded[-1]

    (small_corpus / "beta.txt").write_text(
        "Beta now runs on one GPU. Mistral Medium 3 is `mistral-medium-2505`.\n", "utf-8"
    )
    (small_corpus / "gamma.md").write_text(
        "# Gamma\n\nGamma costs $7 per million input tokens in the EU.\n", "utf-8"
    )
    (small_corpus / "alpha.md").unlink()
    report = engine.reindex()
    assert (report.added, report.updated, report.removed) == (
        ("corpus/gamma.md",),
        ("corpus/beta.txt",),
        ("corpus/alpha.md",),
    )
    assert loaded == [(2, 2)], "beta and gamma loaded; beta's old version and alpha dropped"

    fresh = HybridRetriever(engine.store, engine.embedder)
    assert _state(engine.retriever, engine) == _state(fresh, engine)
    question = engine.retriever.embed_question(QUESTIONS[0])
    assert np.isclose(
        engine.retriever.domain_similarity(question), fresh.domain_similarity(question)
    )
    assert ("medium", "3") in engine.retriever.aliases, "learnt from the changed document"
    keyword_hits = engine.retriever.keyword_search("Gamma costs $7", 3)
    assert keyword_hits and keyword_hits[0].source == "corpus/gamma.md"
    assert all(c.source != "corpus/alpha.md" for c in engine.retriever.keyword_search("Alpha", 8))

    engine.reindex()
    assert loaded[-1] == (0, 0), "nothing changed: nothing loaded"


def test_a_reindex_by_another_process_is_taken_in(tmp_path: Path, small_corpus: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=small_corpus)
    serving = Engine.open(settings)
    other = Engine.open(settings)  # another process, as far as the store can tell
    (small_corpus / "gamma.md").write_text("# Gamma\n\nGamma runs in Paris.\n", "utf-8")
    other.reindex()
    assert not serving.retriever.keyword_search("Gamma Paris", 3)
    serving.retriever.refresh()
    assert [c.source for c in serving.retriever.keyword_search("Gamma Paris", 3)][:1] == [
        "corpus/gamma.md"
    ]
