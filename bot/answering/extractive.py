"""The offline answerer: the most relevant sentences of the retrieved passages, verbatim.

Every sentence of the answer is a quote from a source, followed by its marker `[n]`; only the
one framing line above them is procurebot's own. Sentences are ranked by how close their
meaning is to the question (embeddings, which also work across languages) and by how many of
the question's rarer keywords they contain. When even the best passage and sentence are not
close enough, the answer says the documents do not answer the question, and cites nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np

from bot.answering.answers import Answer, Conflict
from bot.answering.attributes import asked_but_unmentioned, specific_words
from bot.answering.compose import (
    MAX_ANSWER_CHARS,
    asks_for_list,
    normalised,
    render,
    rows_asked,
    with_antecedents,
    with_siblings,
)
from bot.answering.facts.conflicts import FoundConflict, find_conflicts, reliability
from bot.answering.facts.costs import (
    UnitLine,
    estimate,
    prices,
    quantities,
    surcharge,
    unit_estimate,
    unit_prices,
    volumes,
)
from bot.answering.facts.entities import (
    Families,
    mentions_family,
    models_named,
    names_other_model,
    with_aliases,
)
from bot.answering.facts.grounding import (
    PRICE,
    Need,
    about_exactly,
    about_other_version,
    answers,
    needs,
)
from bot.answering.facts.timeline import ASKS as ASKS_AVAILABILITY
from bot.answering.facts.timeline import events, replacements
from bot.answering.followups import points_back
from bot.answering.keywords import query_terms, stem, terms
from bot.answering.retrieval import Candidate, HybridRetriever, Retrieval
from bot.answering.sections import (
    FRAMING,
    Citations,
    conflict_section,
    estimate_section,
    not_answered,
    status_section,
    unit_estimate_section,
)
from index.language import guess_language

BACKEND = "extractive"

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
EVENT_UNITS = 5  # the best units about the asked model that the availability status reads
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
    score: float  # the ranking score (see KEYWORD_WEIGHT)
    similarity: float  # the cosine of the unit's and the question's vectors

    @property
    def text(self) -> str:
        return self.candidate.sentence.text


class ExtractiveAnswerer:
    """Answers from retrieved passages by quoting their best units (sentences, list items
    under their lead-in, table rows under their header)."""

    name = BACKEND

    def __init__(self, model: str, retriever: HybridRetriever) -> None:
        self.model = f"extractive ({model})"
        self._retriever = retriever

    def answer(self, retrieval: Retrieval, today: date) -> Answer:
        question = retrieval.question
        language = guess_language(question)
        candidates = rows_asked(retrieval.candidates, question)
        ranked = self._rank(question, retrieval.vector, candidates, retrieval.parts)
        if not ranked or self._off_subject(retrieval, ranked):
            return self._not_answered(question, language, ())
        sure = guess_language(question, default="")  # "" when too short to tell
        unmentioned = asked_but_unmentioned(question, sure, self._retriever.term_share)
        if unmentioned:
            return self._not_answered(question, language, (_never_mentioned(unmentioned),))
        known = self._retriever.families
        asked = with_aliases(models_named(question, known), self._retriever.aliases)
        unmet = [
            need
            for need in needs(question)
            if not any(answers(need, s.candidate, asked, known) for s in ranked)
        ]
        if unmet:
            notices = tuple(_unmet(n, question, known) for n in unmet)
            return self._not_answered(question, language, notices)
        for need in needs(question):  # the best unit that holds what was asked leads
            best = next(s for s in ranked if answers(need, s.candidate, asked, known))
            ranked = [best, *(s for s in ranked if s is not best)]
        wanted = {t for t in query_terms(question) if self._retriever.idf(t) > 0}
        chosen = [s.candidate for s in _choose(ranked, wanted)]
        leaders = [
            best
            for part in retrieval.parts
            for best in _rerank(ranked, part, self._retriever.idf, known)
        ]
        first, rest = chosen[:1], chosen[1:]
        ordered = list(
            {id(c): c for c in [*first, *(s.candidate for s in leaders), *rest]}.values()
        )
        units = with_siblings(
            with_antecedents(ordered, retrieval.candidates), retrieval.candidates, question
        )
        if not asks_for_list(question):  # what cannot fit whatever else the answer holds
            while len(units) > 1 and sum(len(u.sentence.text) for u in units) > MAX_ANSWER_CHARS:
                units = units[:-1]
        found = find_conflicts(question, retrieval.candidates, known)  # once: it reads them all
        while True:  # the fewest units dropped for the answer to fit in MAX_ANSWER_CHARS
            cited = Citations()
            extra = self._supplements(retrieval, today, cited, ranked, found)
            if extra.unpriced:
                return self._not_answered(question, language, (extra.unpriced,))
            quotes = render(units, cited.add, _unmarked)
            text = "\n\n".join(
                [FRAMING.get(language, FRAMING["en"]), *extra.lead, quotes, *extra.tail]
            )
            if len(text) <= MAX_ANSWER_CHARS or len(units) == 1 or asks_for_list(question):
                break
            units = units[:-1]
        return Answer(
            question=question,
            answer=text,
            backend=BACKEND,
            model=self.model,
            grounded=True,
            citations=cited.citations,
            language=language,
            conflicts=extra.conflicts,
        )

    def _off_subject(self, retrieval: Retrieval, ranked: list[Scored]) -> bool:
        """Whether the question is no closer to the corpus than questions about something else
        are (the gates of `bot.answering.calibration`, derived for this model and corpus)."""
        gates = self._retriever.gates
        best_passage = max((p.similarity for p in retrieval.passages), default=0.0)
        best_unit = max(s.similarity for s in ranked)
        domain = self._retriever.domain_similarity(retrieval.vector)
        return gates.off_subject(retrieval.vector, domain, best_passage, best_unit)

    def stream(self, retrieval: Retrieval, today: date) -> Iterator[str | Answer]:
        """The answer at once: quoting needs no time to write."""
        yield self.answer(retrieval, today)

    def supplements(self, retrieval: Retrieval, today: date, cited: Citations) -> Supplements:
        """What procurebot computes itself from the cited sources, whoever writes the answer:
        a cost estimate, the availability status as of today, and the sources' conflicts."""
        ranked = self._rank(
            retrieval.question, retrieval.vector, retrieval.candidates, retrieval.parts
        )
        return self._supplements(retrieval, today, cited, ranked)

    def _supplements(
        self,
        retrieval: Retrieval,
        today: date,
        cited: Citations,
        ranked: list[Scored],
        found: list[FoundConflict] | None = None,
    ) -> Supplements:
        question = retrieval.question
        language = guess_language(question)
        known = self._retriever.families
        asked = with_aliases(models_named(question, known), self._retriever.aliases)
        about = [s.candidate for s in ranked if about_exactly(s.candidate, asked, known)]

        def general() -> list[Candidate]:  # only when an estimate is made: a hot path
            """Where a surcharge may stand: it is often written of a kind of deployment, naming
            no model."""
            return [
                c
                for c in retrieval.candidates
                if not names_other_model(asked, c.sentence.text, known)
            ]

        lead: list[str] = []
        wanted = volumes(question, known)
        if wanted:
            lines = estimate(wanted, prices(sorted(about, key=reliability)))
            if lines is None:
                missing = ", ".join(sorted(wanted))
                return Supplements(
                    unpriced=f"No source gives the {missing} price needed for an estimate "
                    "for the model asked about."
                )
            extra = surcharge(
                _conditions(question), general(), [line.price.candidate for line in lines]
            )
            lead.append(estimate_section(lines, cited, language, extra))
        elif any(need.kind == "price" for need in needs(question)):
            line = self._unit_estimate(question, about, known)
            if line:
                extra = surcharge(_conditions(question), general(), [line.price.candidate])
                lead.append(unit_estimate_section(line, cited, language, extra))
        happened = events(about[:EVENT_UNITS]) if ASKS_AVAILABILITY.search(question) else []
        if happened:
            current = replacements(retrieval.candidates, asked, known)
            lead.append(status_section(happened, current, today, cited, language))
        tail, conflicts = [], []
        if found is None:
            found = find_conflicts(question, retrieval.candidates, known)
        for each in found:
            text, conflict = conflict_section(each, cited, language)
            tail.append(text)
            conflicts.append(conflict)
        return Supplements(tuple(lead), tuple(tail), tuple(conflicts))

    @staticmethod
    def _unit_estimate(question: str, about: list[Candidate], known: Families) -> UnitLine | None:
        """An estimate from a price per hour, month, seat… and the question's quantities; the
        prices whose sentence shares the most of the question's words are tried first."""
        wanted = quantities(question, known)
        if not wanted:
            return None
        asked = set(terms(question))
        by_overlap = sorted(
            sorted(about, key=reliability),
            key=lambda c: -len(asked & set(terms(c.sentence.text))),
        )
        return unit_estimate(wanted, unit_prices(by_overlap))

    def _not_answered(self, question: str, language: str, notices: tuple[str, ...]) -> Answer:
        return not_answered(question, language, BACKEND, self.model, notices)

    def _rank(
        self,
        question: str,
        question_vector: list[float],
        candidates: list[Candidate],
        parts: tuple[str, ...] = (),
    ) -> list[Scored]:
        """The candidates scored for the question, best first, without those about another
        model than the one asked (a part of the question that names no model, nor points back
        to one with "it", keeps all)."""
        known = self._retriever.families
        asked = with_aliases(models_named(question, known), self._retriever.aliases)
        if any(not models_named(part, known) and not points_back(part) for part in parts):
            asked = frozenset()  # "…, and which endpoints are available?" asks of no model
        asked_families = {family for family, _ in asked}
        weights = {term: self._retriever.idf(term) for term in query_terms(question)}
        value_shapes = [shape for asks, shape in ANSWER_TYPES if asks.search(question)]
        kept = []
        for candidate in candidates:
            text = candidate.sentence.text
            about = f"{candidate.context} {text}"
            if asked and (
                not any(mentions_family(about, family) for family in asked_families)
                or about_other_version(candidate, asked, known)
            ):
                continue  # about another model: never quote it for this question
            if _fragment(candidate):
                continue
            kept.append(candidate)
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


_RULED_OUT = re.compile(
    r"\b(?:without|no|not|excluding|except|minus|sans|ohne|senza|sin)(?:\s+\w+){1,3}",
    re.IGNORECASE,
)


def _conditions(question: str) -> set[str]:
    """The keyword terms of the question's specific words: what may bring in a surcharge;
    not the words of a condition the question rules out ("without weekend coverage")."""
    ruled_out = {
        stem(word.lower())
        for match in _RULED_OUT.finditer(question)
        for word in re.findall(r"\w+", match.group())[1:]
    }
    return {stem(word) for word in specific_words(question)} - ruled_out


def _unmet(need: Need, question: str, known: Families) -> str:
    models = ", ".join(
        f"{family} {version}".strip() if version else family
        for family, version in sorted(models_named(question, known), key=str)
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


def _choose(ranked: list[Scored], wanted: set[str]) -> list[Scored]:
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


def _rerank(
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


def _never_mentioned(words: list[str]) -> str:
    listed = ", ".join(f"“{w}”" for w in words)
    return f"The documents never mention {listed}: they do not state what the question asks."


_OWN_MARKER = re.compile(r"\[(\d{1,3})\]")


def _unmarked(quote: str) -> str:
    """A quote as written in the answer: on one line (a sentence hard-wrapped in its file is
    one line of the answer), and its own bracketed numbers (a document's footnotes, or forged
    markers) become ⟦n⟧, so that every [n] of an answer is one of its citations. The
    citation keeps the quote exactly as the document has it."""
    return _OWN_MARKER.sub(r"⟦\1⟧", " ".join(quote.split()))
