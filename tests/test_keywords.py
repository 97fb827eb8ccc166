"""BM25 through postings scores as rank_bm25's own Okapi, which is the oracle, also after
chunks are added and removed in place."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from bot.answering.engine import Engine
from bot.answering.keywords import KeywordIndex, query_terms, terms

WORDS = st.sampled_from(["price", "token", "medium", "2312", "eu", "retire", "azure", "3.1"])
CORPORA = st.lists(st.lists(WORDS, max_size=12), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(corpus=CORPORA, query=st.lists(WORDS, max_size=5), k=st.integers(1, 10))
def test_scores_and_ranking_are_rank_bm25s(
    corpus: list[list[str]], query: list[str], k: int
) -> None:
    index = KeywordIndex(corpus)
    _assert_ranks_as_rank_bm25(index, list(range(len(corpus))), corpus, query, k)


def _assert_ranks_as_rank_bm25(
    index: KeywordIndex, positions: list[int], corpus: list[list[str]], query: list[str], k: int
) -> None:
    """`index` holds `corpus` at `positions` (and nothing else living)."""
    if not any(corpus):  # rank_bm25 itself fails on a corpus without a single term
        assert index.top(query, k) == []
        return
    expected = BM25Okapi(corpus).get_scores(query)
    scores = index.scores(query)
    assert np.allclose(scores[positions], expected)
    # rank_bm25's idf can be -6e-18 where ours is 0: the same score but for rounding
    assert np.count_nonzero(np.abs(scores) > 1e-12) == np.count_nonzero(np.abs(expected) > 1e-12)
    okapi = BM25Okapi(corpus)
    assert index.idf.keys() == okapi.idf.keys()
    assert np.allclose([index.idf[t] for t in okapi.idf], list(okapi.idf.values()))
    got = index.top(query, k)
    wanted = sorted(-round(e, 9) for e in expected if e > 1e-12)[:k]
    # Equal scores may differ in the last bits between the two summations: compare scores.
    assert [-round(score, 9) for _, score in got][:k] == wanted
    if len(got) > k:  # beyond k, only ties with the k-th
        assert {round(score, 9) for _, score in got[k - 1 :]} == {-wanted[-1]}


@settings(max_examples=200, deadline=None)
@given(
    first=CORPORA,
    second=CORPORA,
    dropped=st.lists(st.integers(0, 59), max_size=40),
    query=st.lists(WORDS, max_size=5),
    k=st.integers(1, 10),
)
def test_chunks_added_and_removed_in_place_rank_as_a_fresh_index(
    first: list[list[str]],
    second: list[list[str]],
    dropped: list[int],
    query: list[str],
    k: int,
) -> None:
    index = KeywordIndex(first)
    positions = [*range(len(first)), *index.add(second)]
    corpus = first + second
    gone = sorted({i for i in dropped if i < len(corpus)})
    index.remove(gone)
    index.remove(gone[:1])  # removing again changes nothing
    living = [i for i in range(len(corpus)) if i not in gone]
    if not living:
        assert index.top(query, k) == [] and index.idf == {}
        return
    _assert_ranks_as_rank_bm25(
        index, [positions[i] for i in living], [corpus[i] for i in living], query, k
    )


def test_postings_of_removed_chunks_are_compacted_without_changing_scores() -> None:
    words = ["price", "token", "medium", "2312", "eu"]
    corpus = [[words[i % 5], words[(i * 3) % 5], "azure"] for i in range(3000)]
    index = KeywordIndex(corpus)
    index.remove(list(range(0, 3000, 3)) + list(range(1, 3000, 3)))  # dead outnumber living
    assert index._dead_postings == 0, "compacted"
    living = list(range(2, 3000, 3))
    _assert_ranks_as_rank_bm25(index, living, [corpus[i] for i in living], ["price", "eu"], 4)


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
        top = [position for position, _ in index.top(query, 5)][:5]
        assert top == sorted(range(len(chunks)), key=lambda i: -expected[i])[:5]
        assert np.allclose([index.idf[t] for t in okapi.idf], list(okapi.idf.values()))
