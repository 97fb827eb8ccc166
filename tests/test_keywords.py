"""BM25 through postings scores exactly as rank_bm25's own Okapi, which is the oracle."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from bot.engine import Engine
from bot.keywords import KeywordIndex, query_terms, terms

WORDS = st.sampled_from(["price", "token", "medium", "2312", "eu", "retire", "azure", "3.1"])
CORPORA = st.lists(st.lists(WORDS, max_size=12), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(corpus=CORPORA, query=st.lists(WORDS, max_size=5), k=st.integers(1, 10))
def test_scores_and_ranking_are_rank_bm25s(
    corpus: list[list[str]], query: list[str], k: int
) -> None:
    index = KeywordIndex(corpus)
    if not any(corpus):  # rank_bm25 itself fails on a corpus without a single term
        assert index.top(query, k) == []
        return
    expected = BM25Okapi(corpus).get_scores(query)
    assert np.allclose(index.scores(query), expected)
    ranked = sorted(range(len(corpus)), key=lambda i: -expected[i])  # stable: ties in order
    wanted = [i for i in ranked[:k] if expected[i] > 0]
    got = index.top(query, k)
    # Equal scores may differ in the last bits between the two summations: compare scores.
    assert [round(expected[i], 9) for i in got] == [round(expected[i], 9) for i in wanted]


def test_the_corpus_ranks_as_with_rank_bm25(engine: Engine) -> None:
    chunks = engine.store.chunks()
    tokenized = [terms(chunk.embedding_text()) for chunk in chunks]
    okapi, index = BM25Okapi(tokenized), KeywordIndex(tokenized)
    for question in (
        "What does Mistral Medium 3 cost per million input tokens?",
        "Où les données sont-elles hébergées ?",
        "mistral-medium-2312 deprecation date",
    ):
        query = query_terms(question)
        expected = okapi.get_scores(query)
        assert np.allclose(index.scores(query), expected)
        assert index.top(query, 5) == sorted(range(len(chunks)), key=lambda i: -expected[i])[:5]
        assert index.idf == {term: float(value) for term, value in okapi.idf.items()}
