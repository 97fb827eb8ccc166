"""The offline answerer: the most relevant sentences of the retrieved passages, verbatim.

Every sentence of the answer is a quote from a source, followed by its marker `[n]`; only the
one framing line above them is procurebot's own. Sentences are ranked by how close their
meaning is to the question (embeddings, which also work across languages) and by how many of
the question's rarer keywords they contain. When even the best passage and sentence are not
close enough, the answer says the documents do not answer the question, and cites nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from bot.answering.answers import Answer, Conflict
from bot.answering.attributes import asked_but_unmentioned, specific_words
from bot.answering.compose import (
    MAX_ANSWER_CHARS,
    asks_for_list,
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
    Model,
    models_named,
    names_other_model,
    with_aliases,
)
from bot.answering.facts.grounding import (
    Need,
    about_exactly,
    answers,
    needs,
)
from bot.answering.facts.timeline import ASKS as ASKS_AVAILABILITY
from bot.answering.facts.timeline import events, replacements
from bot.answering.keywords import query_terms, stem, terms
from bot.answering.own_text import (
    FRAMING,
    Citations,
    conflict_section,
    estimate_section,
    not_answered,
    status_section,
    unit_estimate_section,
)
from bot.answering.ranking import Scored, choose, rank, rerank
from bot.answering.retrieval import Candidate, HybridRetriever, Retrieval
from index.language import guess_language

BACKEND = "extractive"

EVENT_UNITS = 5  # the best units about the asked model that the availability status reads


@dataclass(frozen=True)
class Supplements:
    """Sections computed from the sources: before the answer (estimate, status) and after it
    (conflicts); `unpriced` says why an estimate asked for cannot be made."""

    lead: tuple[str, ...] = ()
    tail: tuple[str, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    unpriced: str = ""


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
        ranked = rank(self._retriever, question, retrieval.vector, candidates, retrieval.parts)
        known = self._retriever.families
        asked = with_aliases(models_named(question, known), self._retriever.aliases)
        refused = self._refusal(retrieval, ranked, asked, language)
        if refused is not None:
            return refused
        for need in needs(question):  # the best unit that holds what was asked leads
            best = next(s for s in ranked if answers(need, s.candidate, asked, known))
            ranked = [best, *(s for s in ranked if s is not best)]
        units = self._units(retrieval, ranked)
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

    def _refusal(
        self, retrieval: Retrieval, ranked: list[Scored], asked: frozenset[Model], language: str
    ) -> Answer | None:
        """The documents-do-not-answer reply, when they do not: nothing near enough the
        question, a word of it no document mentions, or no unit holding the kind of value
        asked for (a price, a date…). None when the answer can be quoted."""
        question, known = retrieval.question, self._retriever.families
        if not ranked or self._off_subject(retrieval, ranked):
            return self._not_answered(question, language, ())
        sure = guess_language(question, default="")  # "" when too short to tell
        unmentioned = asked_but_unmentioned(question, sure, self._retriever.term_share)
        if unmentioned:
            return self._not_answered(question, language, (_never_mentioned(unmentioned),))
        unmet = [
            need
            for need in needs(question)
            if not any(answers(need, s.candidate, asked, known) for s in ranked)
        ]
        if unmet:
            notices = tuple(_unmet(n, question, known) for n in unmet)
            return self._not_answered(question, language, notices)
        return None

    def _units(self, retrieval: Retrieval, ranked: list[Scored]) -> list[Candidate]:
        """What the answer quotes, in order: the best unit, the best for each part of the
        question, the rest chosen; each with the lead-in or sibling items it needs to read
        right, cut to MAX_ANSWER_CHARS unless a list was asked for."""
        question, idf = retrieval.question, self._retriever.idf
        wanted = {t for t in query_terms(question) if idf(t) > 0}
        chosen = [s.candidate for s in choose(ranked, wanted)]
        known = self._retriever.families
        leaders = [best for part in retrieval.parts for best in rerank(ranked, part, idf, known)]
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
        return units

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
        ranked = rank(
            self._retriever,
            retrieval.question,
            retrieval.vector,
            retrieval.candidates,
            retrieval.parts,
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

        estimated = self._estimate(retrieval, cited, about, asked, language)
        if estimated.unpriced:
            return estimated
        lead = list(estimated.lead)
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

    def _estimate(
        self,
        retrieval: Retrieval,
        cited: Citations,
        about: list[Candidate],
        asked: frozenset[Model],
        language: str,
    ) -> Supplements:
        """The cost estimate as the lead section (for volumes, or for hours, seats… at a unit
        price); nothing when none is asked for or possible; `unpriced` when one asked for
        cannot be made."""
        question, known = retrieval.question, self._retriever.families

        def general() -> list[Candidate]:  # only when an estimate is made: a hot path
            """Where a surcharge may stand: it is often written of a kind of deployment, naming
            no model."""
            return [
                c
                for c in retrieval.candidates
                if not names_other_model(asked, c.sentence.text, known)
            ]

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
            return Supplements(lead=(estimate_section(lines, cited, language, extra),))
        if any(need.kind == "price" for need in needs(question)):
            line = self._unit_estimate(question, about, known)
            if line:
                extra = surcharge(_conditions(question), general(), [line.price.candidate])
                return Supplements(lead=(unit_estimate_section(line, cited, language, extra),))
        return Supplements()

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
