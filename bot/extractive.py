"""The offline answerer: the most relevant sentences of the retrieved passages, verbatim.

Every sentence of the answer is a quote from a source, followed by its marker `[n]`; only the
one framing line above them is procurebot's own. Sentences are ranked by how close their
meaning is to the question (embeddings, which also work across languages) and by how many of
the question's rarer keywords they contain. When even the best passage and sentence are not
close enough, the answer says the documents do not answer the question, and cites nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.answers import Answer, Citation
from bot.entities import families_mentioned, models_named, names_other_model
from bot.retrieval import Candidate, Retrieval, terms
from index.language import guess_language

BACKEND = "extractive"

# Relevance gates, calibrated on questions inside and outside the corpus (see README).
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
        re.compile(r"[$€£]\s?\d|\d\s?(?:€|EUR|USD|GBP|dollars?|euros?)\b", re.IGNORECASE),
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

FRAMING = {
    "en": "The documents say:",
    "fr": "Selon les documents :",
    "de": "Laut den Dokumenten:",
    "it": "Secondo i documenti:",
    "es": "Según los documentos:",
}
NOT_ANSWERED = {
    "en": "The documents do not answer this question.",
    "fr": "Les documents ne répondent pas à cette question.",
    "de": "Die Dokumente beantworten diese Frage nicht.",
    "it": "I documenti non rispondono a questa domanda.",
    "es": "Los documentos no responden a esta pregunta.",
}


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

    def __init__(self, model: str, idf: Callable[[str], float]) -> None:
        self.model = f"extractive ({model})"
        self._idf = idf

    def answer(self, retrieval: Retrieval) -> Answer:
        question = retrieval.question
        language = guess_language(question)
        best_passage = max((p.similarity for p in retrieval.passages), default=0.0)
        ranked = self._rank(question, retrieval.vector, retrieval.candidates)
        relevant = ranked and ranked[0].score >= MIN_SENTENCE_SCORE
        if best_passage < MIN_PASSAGE_SIMILARITY or not relevant:
            return Answer(
                question=question,
                answer=NOT_ANSWERED.get(language, NOT_ANSWERED["en"]),
                backend=BACKEND,
                model=self.model,
                grounded=False,
                language=language,
            )
        chosen = _choose(ranked, set(terms(question)))
        citations = tuple(_citation(n, item.candidate) for n, item in enumerate(chosen, start=1))
        body = "\n".join(f"- {c.quote} [{c.n}]" for c in citations)
        return Answer(
            question=question,
            answer=f"{FRAMING.get(language, FRAMING['en'])}\n\n{body}",
            backend=BACKEND,
            model=self.model,
            grounded=True,
            citations=citations,
            language=language,
        )

    def _rank(
        self, question: str, question_vector: list[float], candidates: list[Candidate]
    ) -> list[Scored]:
        asked = models_named(question)
        asked_families = {family for family, _ in asked}
        weights = {term: self._idf(term) for term in terms(question)}
        value_shapes = [shape for asks, shape in ANSWER_TYPES if asks.search(question)]
        scored = []
        for candidate in candidates:
            text = candidate.sentence.text
            about = families_mentioned(f"{candidate.context} {text}")
            if asked and not asked_families & about:
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


def _citation(n: int, candidate: Candidate) -> Citation:
    chunk, sentence = candidate.passage.chunk, candidate.sentence
    return Citation(
        n=n,
        source=sentence.source,
        title=chunk.title,
        kind=chunk.kind,
        date=chunk.date,
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
        sha256=chunk.sha256,
        chunk_id=chunk.id,
    )


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))
