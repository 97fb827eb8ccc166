from __future__ import annotations

import pytest

from bot.answering.engine import Engine
from bot.answering.keywords import terms


def test_terms_fold_case_accents_and_stems() -> None:
    assert terms("Prices of Mistral-Medium-2312, version 3.1!") == [
        "price",
        "mistral",
        "medium",
        "2312",
        "version",
        "3.1",
        "mistral-medium-2312",  # an id written with hyphens is a term of its own too
    ]
    assert terms("Coûté") == ["cout"]  # accents folded, then stemmed


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("mistral-medium-2312 retired", "corpus/001_72ad3820649f10bd.txt"),
        (
            "What are the input and output prices per million tokens?",
            "corpus/004_910b252cb6477a8d.txt",
        ),
        ("KYC in Belgium", "corpus/003_fd62f072a622793a.txt"),
        (
            "Où les données sont-elles traitées sur site chez BNP Paribas ?",
            "corpus/003_fd62f072a622793a.txt",
        ),
    ],
)
def test_hybrid_retrieval_finds_the_passage(engine: Engine, question: str, source: str) -> None:
    passages = engine.retriever.retrieve(question, 5)
    assert source in {p.chunk.source for p in passages}
    sources = [p.chunk.source for p in passages]
    assert max(sources.count(s) for s in sources) <= 2, "no source crowds out the others"
    assert all(-1.0 <= p.similarity <= 1.0 for p in passages)


def test_exact_identifiers_are_found_by_keywords(engine: Engine) -> None:
    (best, *_) = engine.retriever.retrieve("mistral-medium-2505", 5)
    assert best.keyword_rank == 1
    assert "mistral-medium-2505" in best.chunk.text


def test_keyword_terms_are_the_same_when_computed_in_many_threads_at_once() -> None:
    """The web app answers several questions at once (a shared stemmer once mixed words)."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.answering.keywords import terms

    texts = [
        f"Deployments {i} generalization operational availability internationalisation" * 20
        for i in range(200)
    ]
    expected = [terms(text) for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(terms, texts * 5)) == expected * 5
