"""Keywords: the terms of a text, and BM25 over the chunks' terms.

Terms are lower case, accent-folded, English-stemmed words without stop words; a question's
French, German, Italian or Spanish words also bring their English keywords. BM25 is
rank_bm25's Okapi (its idf and its formula), scored through postings: a question costs time in
the chunks that contain its terms, not in the whole corpus (at 65,000 chunks rank_bm25's own
`get_scores` walks every chunk's term dictionary for every term, about 0.4 s a question), and
a changed document costs time in its own chunks (rank_bm25 can only be built again whole).
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from array import array
from collections import Counter

import numpy as np
import snowballstemmer

from bot.answering.lexicon import english_for

_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
# An id written with hyphens ("o3-mini", "gpt-4.1", "2024-08-06") is also a term of its own,
# so that keyword search finds the exact id and not every text with its common parts.
_COMPOUND = re.compile(
    r"(?<![\w.-])[a-z0-9]+(?:[-.][a-z0-9]+)*-[a-z0-9]+(?:[-.][a-z0-9]+)*(?![\w-])"
)
STOPWORDS = frozenset(
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
    return [stem(word) for word in words(text) if word not in STOPWORDS]


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """One word's stem; remembered, as answering stems every candidate sentence's words."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


def query_terms(question: str) -> list[str]:
    """A question's terms plus the English keywords of its French/German/Italian/Spanish words."""
    english = " ".join(english_for(words(question)))
    return list(dict.fromkeys(terms(question) + terms(english)))


def words(text: str) -> list[str]:
    """Lower-case, accent-folded words of a text, as keyword terms are made from."""
    folded = unicodedata.normalize("NFKD", text.lower())
    if not folded.isascii():  # no ASCII character is a combining mark
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    found = [word for word in (w.rstrip(".,") for w in _TOKEN.findall(folded)) if word]
    return found + [c for c in _COMPOUND.findall(folded) if any(ch.isdigit() for ch in c)]


class KeywordIndex:
    """BM25 over tokenised chunks, searched through each term's postings; chunks are added and
    removed in place, so that re-indexing one document costs time in that document.

    A chunk keeps its position for good: a removed one is only marked dead (its postings are
    dropped once the dead outnumber the living). Scores and idf are rank_bm25's Okapi over
    the living chunks.
    """

    def __init__(self, tokenized: list[list[str]] | None = None) -> None:
        self._k1, self._b, self._epsilon = 1.5, 0.75, 0.25  # rank_bm25's defaults
        self._term_ids: dict[str, int] = {}
        self._df: list[int] = []  # living chunks holding each term
        self._postings: list[tuple[array[int], array[float]]] = []  # positions, counts
        self._arrays: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # postings as numpy
        self._chunk_terms: list[array[int]] = []  # each position's distinct term ids
        self._lengths = array("d")  # each position's number of terms
        self._alive = bytearray()
        self._living = 0
        self._total_length = 0.0
        self._dead_postings = 0
        self._derived: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None
        if tokenized:
            self.add(tokenized)

    @property
    def size(self) -> int:
        """Positions ever given (the living and the dead)."""
        return len(self._lengths)

    def add(self, tokenized: list[list[str]]) -> list[int]:
        """Index chunks given as their terms; their positions, in order."""
        positions = list(range(self.size, self.size + len(tokenized)))
        for position, words in zip(positions, tokenized, strict=True):
            frequencies = Counter(words)
            ids = array("q")
            for term, count in frequencies.items():
                term_id = self._term_ids.get(term)
                if term_id is None:
                    term_id = self._term_ids[term] = len(self._df)
                    self._df.append(0)
                    self._postings.append((array("q"), array("d")))
                self._df[term_id] += 1
                self._postings[term_id][0].append(position)
                self._postings[term_id][1].append(count)
                self._arrays.pop(term_id, None)
                ids.append(term_id)
            self._chunk_terms.append(ids)
            self._lengths.append(len(words))
            self._alive.append(1)
            self._living += 1
            self._total_length += len(words)
        self._derived = None
        return positions

    def remove(self, positions: list[int]) -> None:
        """Forget the chunks at these positions (a position already dead is ignored)."""
        for position in positions:
            if not self._alive[position]:
                continue
            self._alive[position] = 0
            self._living -= 1
            self._total_length -= self._lengths[position]
            for term_id in self._chunk_terms[position]:
                self._df[term_id] -= 1
            self._dead_postings += len(self._chunk_terms[position])
            self._chunk_terms[position] = array("q")
        self._derived = None
        if self._dead_postings > 1000 and self._dead_postings > sum(self._df):
            self._compact()

    def _compact(self) -> None:
        """Drop the dead chunks' postings."""
        alive = np.frombuffer(bytes(self._alive), dtype=np.uint8).astype(bool)
        for term_id, (ids, counts) in enumerate(self._postings):
            positions = np.asarray(ids, dtype=np.int64)
            keep = alive[positions] if positions.size else positions.astype(bool)
            if not keep.all():
                self._postings[term_id] = (
                    array("q", positions[keep].tolist()),
                    array("d", np.asarray(counts)[keep].tolist()),
                )
                self._arrays.pop(term_id, None)
        self._dead_postings = 0

    def _derive(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """(idf by term id, length normalisation by position, living mask, highest idf), as
        rank_bm25 computes them over the living chunks."""
        if self._derived is None:
            df = np.asarray(self._df, dtype=np.float64)
            present = df > 0
            idf = np.zeros(len(df))
            idf[present] = np.log(self._living - df[present] + 0.5) - np.log(df[present] + 0.5)
            if present.any():
                floor = self._epsilon * float(idf[present].sum()) / int(present.sum())
                idf[present & (idf < 0)] = floor
            alive = np.frombuffer(bytes(self._alive), dtype=np.uint8).astype(bool)
            average = self._total_length / self._living if self._living else 0.0
            lengths = np.asarray(self._lengths, dtype=np.float64)
            norm = self._k1 * (1 - self._b + self._b * lengths / (average or 1.0))
            highest = float(idf[present].max()) if present.any() else 1.0
            self._derived = (idf, norm, alive, highest)
        return self._derived

    @property
    def idf(self) -> dict[str, float]:
        """rank_bm25's idf of every term a living chunk holds."""
        idf = self._derive()[0]
        return {term: float(idf[i]) for term, i in self._term_ids.items() if self._df[i] > 0}

    def idf_of(self, term: str) -> float:
        """A term's idf; a term no chunk holds weighs as much as the rarest there is."""
        idf, _, _, highest = self._derive()
        term_id = self._term_ids.get(term)
        if term_id is not None and self._df[term_id] > 0:
            return float(idf[term_id])
        return highest

    def share(self, term: str) -> float:
        """The share of the living chunks that hold the term (0 for a term none holds)."""
        term_id = self._term_ids.get(term)
        if term_id is None or not self._living:
            return 0.0
        return self._df[term_id] / self._living

    def scores(self, query: list[str]) -> np.ndarray:
        """Every position's BM25 score for the query terms (rank_bm25's `get_scores` over
        the living chunks; 0 for the dead)."""
        idf, norm, alive, _ = self._derive()
        scores = np.zeros(self.size)
        for term in query:
            term_id = self._term_ids.get(term)
            if term_id is None or self._df[term_id] == 0:
                continue
            ids, counts = self._postings_of(term_id)
            scores[ids] += idf[term_id] * (counts * (self._k1 + 1) / (counts + norm[ids]))
        scores[~alive] = 0.0
        return scores

    def _postings_of(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        if term_id not in self._arrays:
            ids, counts = self._postings[term_id]
            self._arrays[term_id] = (
                np.frombuffer(ids, dtype=np.int64).copy() if ids else np.zeros(0, np.int64),
                np.frombuffer(counts, dtype=np.float64).copy() if counts else np.zeros(0),
            )
        return self._arrays[term_id]

    def top(self, query: list[str], k: int) -> list[tuple[int, float]]:
        """The `k` best (position, score) with a score above 0, best first, and every other
        position tied with the last of them (the caller orders ties). A score within rounding
        of 0 (an idf floor of about 1e-17) is 0."""
        scores = self.scores(query)
        matched = np.flatnonzero(scores > 1e-12)
        if matched.size > k:
            cutoff = np.partition(scores[matched], matched.size - k)[matched.size - k]
            matched = matched[scores[matched] >= cutoff]
        order = matched[np.lexsort((matched, -scores[matched]))]
        return [(int(i), float(scores[i])) for i in order]
