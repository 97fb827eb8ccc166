"""Keywords: the terms of a text, and BM25 over the chunks' terms.

Terms are lower case, accent-folded, English-stemmed words without stop words; a question's
French, German, Italian or Spanish words also bring their English keywords. BM25 is
rank_bm25's Okapi (its idf and its formula), scored through postings: a question costs time in
the chunks that contain its terms, not in the whole corpus (at 65,000 chunks rank_bm25's own
`get_scores` walks every chunk's term dictionary for every term, about 0.4 s a question).
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import defaultdict

import numpy as np
import snowballstemmer
from rank_bm25 import BM25Okapi

from bot.lexicon import english_for

_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_STOPWORDS = frozenset(
    (  # noqa: SIM905 -- one word per line would take 75 lines
        "a an the and or of to in on at for with by from as is are was were be been being it its "
        "this that these those what which who whom whose how when where why does do did can could "
        "should would will shall may might must i we you he she they our your their there here "
        "about into than then so if not no yes any all per still also just "
    ).split()
)
# A Snowball stemmer keeps the word it works on in itself: one per thread, never shared
# (the web app answers several questions at once; a shared one mixed their words).
_stemmers = threading.local()


def terms(text: str) -> list[str]:
    """Keyword terms: lower case, accents folded, stop words dropped, English stems."""
    return [_stem(word) for word in _words(text) if word not in _STOPWORDS]


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    """One word's stem; remembered, as answering stems every candidate sentence's words."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


def query_terms(question: str) -> list[str]:
    """A question's terms plus the English keywords of its French/German/Italian/Spanish words."""
    english = " ".join(english_for(_words(question)))
    return list(dict.fromkeys(terms(question) + terms(english)))


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [word for word in (w.rstrip(".,") for w in _TOKEN.findall(folded)) if word]


class KeywordIndex:
    """BM25 over tokenised chunks, searched through each term's postings."""

    def __init__(self, tokenized: list[list[str]]) -> None:
        if not any(tokenized):  # rank_bm25 divides by the number of distinct terms
            tokenized = [*tokenized, ["\0"]]  # a term no query has: every score stays 0
        okapi = BM25Okapi(tokenized)
        self.idf: dict[str, float] = {term: float(v) for term, v in okapi.idf.items()}
        self.highest_idf = max(self.idf.values(), default=1.0)  # of a term no chunk has
        self.size = len(okapi.doc_len)
        self._k1 = float(okapi.k1)
        lengths = np.asarray(okapi.doc_len, dtype=np.float64)
        self._norm = okapi.k1 * (1 - okapi.b + okapi.b * lengths / okapi.avgdl)
        postings: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for position, frequencies in enumerate(okapi.doc_freqs):
            for term, count in frequencies.items():
                ids, counts = postings[term]
                ids.append(position)
                counts.append(count)
        self._postings = {
            term: (np.asarray(ids, dtype=np.int64), np.asarray(counts, dtype=np.float64))
            for term, (ids, counts) in postings.items()
        }

    def scores(self, query: list[str]) -> np.ndarray:
        """Every chunk's BM25 score for the query terms (rank_bm25's `get_scores`)."""
        scores = np.zeros(self.size)
        for term in query:
            if term not in self._postings:
                continue
            ids, counts = self._postings[term]
            scores[ids] += self.idf.get(term, 0.0) * (
                counts * (self._k1 + 1) / (counts + self._norm[ids])
            )
        return scores

    def top(self, query: list[str], k: int) -> list[int]:
        """Positions of the `k` best-scoring chunks with a score above 0, best first; ties in
        corpus order."""
        scores = self.scores(query)
        matched = np.flatnonzero(scores > 0)
        order = matched[np.lexsort((matched, -scores[matched]))]
        return [int(i) for i in order[:k]]
