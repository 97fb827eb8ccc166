"""The offline answerer: the most relevant sentences of the retrieved passages, verbatim.

Every sentence of the answer is a quote from a source, followed by its marker `[n]`; only the
one framing line above them is procurebot's own. Sentences are ranked by how close their
meaning is to the question (embeddings, which also work across languages) and by how many of
the question's rarer keywords they contain. When even the best passage and sentence are not
close enough, the answer says the documents do not answer the question, and cites nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.answers import Answer, Conflict
from bot.conflicts import find_conflicts, reliability
from bot.costs import estimate, prices, volumes
from bot.entities import families_mentioned, models_named, names_other_model, with_aliases
from bot.grounding import PRICE, Need, about_exactly, about_other_version, answers, needs
from bot.keywords import query_terms, terms
from bot.retrieval import Candidate, HybridRetriever, Retrieval
from bot.sections import (
    FRAMING,
    Citations,
    conflict_section,
    estimate_section,
    not_answered,
    status_section,
)
from bot.timeline import ASKS as ASKS_AVAILABILITY
from bot.timeline import events, replacements
from index.language import guess_language

BACKEND = "extractive"

# Relevance gates, calibrated on questions inside and outside the corpus (see README).
# A question closer than this to the corpus centroid is about the corpus's domain at all
# (off-domain questions measured 0.78-0.815, the least similar answerable one 0.835).
MIN_DOMAIN_SIMILARITY = 0.825
MIN_PASSAGE_SIMILARITY = 0.80
MIN_SENTENCE_SCORE = 0.84
# A sentence joins the answer when it scores within this margin of the best one.
KEEP_MARGIN = 0.05
MAX_SENTENCES = 4
MAX_PER_SOURCE = 2
KEYWORD_WEIGHT = 0.12
# Subtracted from a sentence that names other models than the one the question asks about.
OTHER_MODEL_PENALTY = 0.08

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
ANSWER_TYPE_BONUS = 0.05


@dataclass(frozen=True)
class Supplements:
    """Sections computed from the sources: before the answer (estimate, status) and after it
    (conflicts); `unpriced` says why an estimate asked for cannot be made."""

    lead: tuple[str, ...] = ()
    tail: tuple[str, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    unpriced: str = ""


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float

    @property
    def text(self) -> str:
        return self.candidate.sentence.text


class ExtractiveAnswerer:
    """Answers from retrieved passages by quoting their best sentences."""

    name = BACKEND

    def __init__(self, model: str, retriever: HybridRetriever) -> None:
        self.model = f"extractive ({model})"
        self._retriever = retriever

    def answer(self, retrieval: Retrieval, today: date) -> Answer:
        question = retrieval.question
        language = guess_language(question)
        best_passage = max((p.similarity for p in retrieval.passages), default=0.0)
        ranked = self._rank(question, retrieval.vector, retrieval.candidates)
        relevant = ranked and ranked[0].score >= MIN_SENTENCE_SCORE
        on_domain = self._retriever.domain_similarity(retrieval.vector) >= MIN_DOMAIN_SIMILARITY
        if not on_domain or best_passage < MIN_PASSAGE_SIMILARITY or not relevant:
            return self._not_answered(question, language, ())
        asked = with_aliases(models_named(question), self._retriever.aliases)
        unmet = [
            need
            for need in needs(question)
            if not any(answers(need, s.candidate, asked) for s in ranked)
        ]
        if unmet:
            return self._not_answered(question, language, tuple(_unmet(n, question) for n in unmet))
        for need in needs(question):  # the best sentence that holds what was asked leads
            best = next(s for s in ranked if answers(need, s.candidate, asked))
            ranked = [best, *(s for s in ranked if s is not best)]
        cited = Citations()
        extra = self._supplements(retrieval, today, cited, ranked)
        if extra.unpriced:
            return self._not_answered(question, language, (extra.unpriced,))
        chosen = _choose(ranked, set(query_terms(question)))
        quotes = "\n".join(
            f"- {_unmarked(item.text)} [{cited.add(item.candidate)}]" for item in chosen
        )
        return Answer(
            question=question,
            answer="\n\n".join(
                [FRAMING.get(language, FRAMING["en"]), *extra.lead, quotes, *extra.tail]
            ),
            backend=BACKEND,
            model=self.model,
            grounded=True,
            citations=cited.citations,
            language=language,
            conflicts=extra.conflicts,
        )

    def supplements(self, retrieval: Retrieval, today: date, cited: Citations) -> Supplements:
        """What procurebot computes itself from the cited sources, whoever writes the answer:
        a cost estimate, the availability status as of today, and the sources' conflicts."""
        ranked = self._rank(retrieval.question, retrieval.vector, retrieval.candidates)
        return self._supplements(retrieval, today, cited, ranked)

    def _supplements(
        self, retrieval: Retrieval, today: date, cited: Citations, ranked: list[Scored]
    ) -> Supplements:
        question = retrieval.question
        language = guess_language(question)
        asked = with_aliases(models_named(question), self._retriever.aliases)
        about = [s.candidate for s in ranked if about_exactly(s.candidate, asked)]
        lead: list[str] = []
        wanted = volumes(question)
        if wanted:
            lines = estimate(wanted, prices(sorted(about, key=reliability)))
            if lines is None:
                missing = ", ".join(sorted(wanted))
                return Supplements(
                    unpriced=f"No source gives the {missing} price needed for an estimate "
                    "for the model asked about."
                )
            lead.append(estimate_section(lines, cited, language))
        happened = events(about) if ASKS_AVAILABILITY.search(question) else []
        if happened:
            named_ids = {f"mistral-{f}-{v}" for f, v in asked if v}
            current = replacements(retrieval.candidates, named_ids)
            lead.append(status_section(happened, current, today, cited, language))
        tail, conflicts = [], []
        for found in find_conflicts(question, retrieval.candidates):
            text, conflict = conflict_section(found, cited, language)
            tail.append(text)
            conflicts.append(conflict)
        return Supplements(tuple(lead), tuple(tail), tuple(conflicts))

    def _not_answered(self, question: str, language: str, notices: tuple[str, ...]) -> Answer:
        return not_answered(question, language, BACKEND, self.model, notices)

    def _rank(
        self, question: str, question_vector: list[float], candidates: list[Candidate]
    ) -> list[Scored]:
        asked = with_aliases(models_named(question), self._retriever.aliases)
        asked_families = {family for family, _ in asked}
        weights = {term: self._retriever.idf(term) for term in query_terms(question)}
        value_shapes = [shape for asks, shape in ANSWER_TYPES if asks.search(question)]
        scored = []
        for candidate in candidates:
            text = candidate.sentence.text
            about = families_mentioned(f"{candidate.context} {text}")
            if asked and (not asked_families & about or about_other_version(candidate, asked)):
                continue  # about another model: never quote it for this question
            score = (
                _dot(question_vector, candidate.vector)
                + KEYWORD_WEIGHT * _coverage(weights, f"{candidate.context} {text}")
                + ANSWER_TYPE_BONUS * any(shape.search(text) for shape in value_shapes)
                - OTHER_MODEL_PENALTY * names_other_model(asked, text)
            )
            scored.append(Scored(candidate, score))
        scored.sort(key=lambda s: (-s.score, s.candidate.rank, s.candidate.sentence.start))
        return scored


def _unmet(need: Need, question: str) -> str:
    models = ", ".join(
        f"{family} {version}".strip() if version else family
        for family, version in sorted(models_named(question), key=str)
    )
    about = f" for {models}" if models else ""
    what = f"{need.kind} ({need.focus})" if need.focus else need.kind
    return f"No source gives the {what}{about}."


def _coverage(weights: dict[str, float], text: str) -> float:
    """Share of the question's keyword weight (rarer terms weigh more) found in the text."""
    total = sum(weights.values())
    if not total:
        return 0.0
    found = set(terms(text))
    return sum(weight for term, weight in weights.items() if term in found) / total


def _choose(ranked: list[Scored], question_terms: set[str]) -> list[Scored]:
    """The best sentence, and those close to it that share a keyword with the question."""
    best = ranked[0].score
    chosen: list[Scored] = []
    per_source: dict[str, int] = {}
    seen: set[str] = set()
    for item in ranked:
        if len(chosen) == MAX_SENTENCES or item.score < best - KEEP_MARGIN:
            break
        normalised = " ".join(item.text.lower().split())
        source = item.candidate.sentence.source
        if normalised in seen or per_source.get(source, 0) >= MAX_PER_SOURCE:
            continue
        if chosen and not question_terms & set(terms(item.text)):
            continue
        seen.add(normalised)
        per_source[source] = per_source.get(source, 0) + 1
        chosen.append(item)
    return chosen


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


_OWN_MARKER = re.compile(r"\[(\d{1,3})\]")


def _unmarked(quote: str) -> str:
    """A quote as written in the answer: its own bracketed numbers (a document's footnotes, or
    forged markers) become ⟦n⟧, so that every [n] of an answer is one of its citations. The
    citation keeps the quote exactly as the document has it."""
    return _OWN_MARKER.sub(r"⟦\1⟧", quote)
