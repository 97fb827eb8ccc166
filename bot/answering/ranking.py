"""Which quotable units answer a question best: their scores, and the ones an answer quotes.

`rank` scores every candidate unit; `choose` keeps the best within margins of the best;
`rerank` finds the best unit for each part of a question that asks several things. The
weights and margins below are the offline answerer's (`bot.answering.extractive`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.answering.compose import normalised
from bot.answering.facts.entities import (
    Families,
    Model,
    mentions_family,
    models_named,
    names_other_model,
    with_aliases,
)
from bot.answering.facts.grounding import PRICE, about_other_version
from bot.answering.followups import points_back
from bot.answering.keywords import query_terms, terms
from bot.answering.retrieval import Candidate, HybridRetriever

# Ranking. A unit's score is its cosine with the question, scaled to 0..1 over the candidates
# of that question (so that the weights below mean the same for every embedding model), plus
# its passage's cosine scaled the same way (a unit is read in its context), plus the share of
# the question's keyword weight its text holds, plus a bonus when it holds the kind of value
# asked for, less a penalty when it names another model than the one asked.
KEYWORD_WEIGHT = 0.5
PASSAGE_WEIGHT = 0.25
ANSWER_TYPE_BONUS = 0.15
OTHER_MODEL_PENALTY = 0.3
# A unit joins the answer when it scores within SURE_MARGIN of the best one, or within
# KEEP_MARGIN and holds a keyword of the question (the answer is then cut to MAX_ANSWER_CHARS
# from its weakest unit). Measured with `procurebot eval` on the golden set and
# ../shared/corpora: margins 0.3 to 0.5 and 6 to 10 units find the same facts; SURE_MARGIN
# 0.1 to 0.4 too, and the smaller quotes fewer units that share no word with the question.
KEEP_MARGIN = 0.4
SURE_MARGIN = 0.2
MAX_UNITS = 8
PART_UNITS = 30  # the best units overall among which each part of a question finds its own
MIN_FRAGMENT_WORDS = 5  # a sentence shorter than this, with no number, is a fragment

# Questions that ask for a kind of value, in the five languages, and how such a value looks.
# A sentence that holds the kind of value asked for gains ANSWER_TYPE_BONUS.
ANSWER_TYPES = (
    (
        re.compile(
            r"\b(cost|costs|price[sd]?|pricing|fees?|rates?|expensive|cheap|budget|spend|"
            r"co[uû]te?s?|co[uû]ts?|prix|tarifs?|kosten|kostet|preise?|costa|costi|costo|"
            r"prezzi|prezzo|cuesta|cuestan|precios?|coste)\b",
            re.IGNORECASE,
        ),
        PRICE,
    ),
    (
        re.compile(r"\b(when|date|dates|quand|wann|datum|quando|cu[aá]ndo|fecha)\b", re.IGNORECASE),
        re.compile(
            r"\b(?:19|20)\d\d\b.*|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b",
            re.IGNORECASE,
        ),
    ),
)


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float  # the ranking score (see KEYWORD_WEIGHT)
    similarity: float  # the cosine of the unit's and the question's vectors

    @property
    def text(self) -> str:
        return self.candidate.sentence.text


def rank(
    retriever: HybridRetriever,
    question: str,
    question_vector: list[float],
    candidates: list[Candidate],
    parts: tuple[str, ...] = (),
) -> list[Scored]:
    """The candidates scored for the question, best first, without those about another
    model than the one asked (a part of the question that names no model, nor points back
    to one with "it", keeps all)."""
    known = retriever.families
    asked = with_aliases(models_named(question, known), retriever.aliases)
    if any(not models_named(part, known) and not points_back(part) for part in parts):
        asked = frozenset()  # "…, and which endpoints are available?" asks of no model
    weights = {term: retriever.idf(term) for term in query_terms(question)}
    value_shapes = [shape for asks, shape in ANSWER_TYPES if asks.search(question)]
    kept = _quotable(candidates, asked, known)
    if not kept:
        return []
    vectors = np.asarray([c.vector for c in kept], dtype=np.float64)
    similarities = vectors @ np.asarray(question_vector, dtype=np.float64)
    low, high = float(similarities.min()), float(similarities.max())
    spread = (high - low) or 1.0
    around = np.asarray([c.passage.similarity for c in kept], dtype=np.float64)
    p_low, p_spread = float(around.min()), float(around.max() - around.min()) or 1.0
    scored = []
    for candidate, similarity in zip(kept, similarities, strict=True):
        sentence = candidate.sentence
        text = sentence.text
        lead = sentence.lead if sentence.kind == "row" else ""  # a row's header, not a lead-in
        score = (
            (float(similarity) - low) / spread
            + PASSAGE_WEIGHT * (candidate.passage.similarity - p_low) / p_spread
            + KEYWORD_WEIGHT * _coverage(weights, f"{candidate.context} {lead} {text}")
            + ANSWER_TYPE_BONUS * any(shape.search(text) for shape in value_shapes)
            - OTHER_MODEL_PENALTY * names_other_model(asked, text, known)
        )
        scored.append(Scored(candidate, score, float(similarity)))
    scored.sort(key=lambda s: (-s.score, s.candidate.rank, s.candidate.sentence.start))
    return scored


def _quotable(
    candidates: list[Candidate], asked: frozenset[Model], known: Families
) -> list[Candidate]:
    """The candidates that may be quoted for a question about `asked` (all, when it names no
    model): not about another model, not a fragment."""
    families = {family for family, _ in asked}
    kept = []
    for candidate in candidates:
        about = f"{candidate.context} {candidate.sentence.text}"
        if asked and (
            not any(mentions_family(about, family) for family in families)
            or about_other_version(candidate, asked, known)
        ):
            continue  # about another model: never quote it for this question
        if not _fragment(candidate):
            kept.append(candidate)
    return kept


def _coverage(weights: dict[str, float], text: str) -> float:
    """Share of the question's keyword weight (rarer terms weigh more) found in the text."""
    total = sum(weights.values())
    if not total:
        return 0.0
    found = set(terms(text))
    return sum(weight for term, weight in weights.items() if term in found) / total


def choose(ranked: list[Scored], wanted: set[str]) -> list[Scored]:
    """The best units: those within SURE_MARGIN of the best one, and those within KEEP_MARGIN
    that hold one of the question's keyword terms (`wanted`), at most MAX_UNITS, without
    duplicates. Several may come from one source: the document that answers often holds the
    whole answer in neighbouring units (measured on the development corpora, a cap per source
    lost facts and citation precision alike)."""
    best = ranked[0].score
    chosen: list[Scored] = []
    seen: set[str] = set()
    for item in ranked:
        if len(chosen) == MAX_UNITS or item.score < best - KEEP_MARGIN:
            break
        text = normalised(item.text)
        sure = item.score >= best - SURE_MARGIN
        if text in seen or not (
            sure or wanted & set(terms(f"{item.candidate.sentence.lead} {item.text}"))
        ):
            continue
        seen.add(text)
        chosen.append(item)
    return chosen


def rerank(
    ranked: list[Scored], part: str, idf: Callable[[str], float], known: Families
) -> list[Scored]:
    """The unit best for one part of a question: its keyword weight counted for that part,
    among the units about the model that part names (when it names one)."""
    weights = {term: idf(term) for term in query_terms(part)}
    named = models_named(part, known)
    about = [s for s in ranked if not named or not names_other_model(named, s.text, known)]
    best = max(
        about[:PART_UNITS],
        key=lambda s: (
            s.score + KEYWORD_WEIGHT * _coverage(weights, f"{s.candidate.sentence.lead} {s.text}")
        ),
        default=None,
    )
    return [best] if best is not None else []


def _fragment(candidate: Candidate) -> bool:
    """A sentence too short to state anything on its own ("See below.", a glossary term)."""
    sentence = candidate.sentence
    if sentence.kind != "sentence":
        return False
    text = sentence.text
    return len(text.split()) < MIN_FRAGMENT_WORDS and not any(ch.isdigit() for ch in text)
