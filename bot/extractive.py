"""The offline answerer: the most relevant sentences of the retrieved passages, verbatim.

Every sentence of the answer is a quote from a source, followed by its marker `[n]`; only the
one framing line above them is procurebot's own. Sentences are ranked by how close their
meaning is to the question (embeddings, which also work across languages) and by how many of
the question's rarer keywords they contain. When even the best passage and sentence are not
close enough, the answer says the documents do not answer the question, and cites nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

from bot.answers import Answer, Citation
from bot.entities import families_mentioned, models_named, names_other_model
from bot.retrieval import Passage, terms
from index.chunking import Chunk
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
MIN_SENTENCE_CHARS = 12
MAX_QUOTE_CHARS = 400

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

_LINE = re.compile(r"[^\n]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9\"“(\[$*])")
_LEADER = re.compile(r"^(?:[-*•>|]\s+|\d{1,2}[.)]\s+|#{1,6}\s+)+")
_HEADING_LINE = re.compile(r"^#{1,6}\s+(.+)$")


@dataclass(frozen=True)
class Sentence:
    """A sentence of a chunk, with its span in the document."""

    chunk: Chunk
    start: int
    end: int
    context: str  # the title and nearest heading, embedded with the sentence

    @property
    def text(self) -> str:
        return self.chunk.text[self.start - self.chunk.start : self.end - self.chunk.start]


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    score: float
    passage_rank: int


class ExtractiveAnswerer:
    """Answers from retrieved passages by quoting their best sentences."""

    name = BACKEND

    def __init__(self, embedder: Embeddings, model: str, idf: Callable[[str], float]) -> None:
        self._embedder = embedder
        self._idf = idf
        self.model = f"extractive ({model})"
        self._cache: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def answer(
        self, question: str, question_vector: list[float], passages: list[Passage]
    ) -> Answer:
        language = guess_language(question)
        best_passage = max((p.similarity for p in passages), default=0.0)
        ranked = self._rank(question, question_vector, passages)
        if (
            best_passage < MIN_PASSAGE_SIMILARITY
            or not ranked
            or (ranked[0].score < MIN_SENTENCE_SCORE)
        ):
            return Answer(
                question=question,
                answer=NOT_ANSWERED.get(language, NOT_ANSWERED["en"]),
                backend=BACKEND,
                model=self.model,
                grounded=False,
                language=language,
            )
        chosen = _choose(ranked, set(terms(question)))
        citations = tuple(_citation(n, item.sentence) for n, item in enumerate(chosen, start=1))
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
        self, question: str, question_vector: list[float], passages: list[Passage]
    ) -> list[Scored]:
        candidates: dict[tuple[str, int, int], tuple[Sentence, int]] = {}
        for rank, passage in enumerate(passages, start=1):
            for sentence in split_sentences(passage.chunk):
                key = (sentence.chunk.source, sentence.start, sentence.end)
                candidates.setdefault(key, (sentence, rank))
        if not candidates:
            return []
        asked = models_named(question)
        asked_families = {family for family, _ in asked}
        items = [
            item
            for item in candidates.values()
            if not asked or asked_families & families_mentioned(f"{item[0].context} {item[0].text}")
        ]
        vectors = self._vectors([f"{s.context}: {s.text}" for s, _ in items])
        weights = {term: self._idf(term) for term in terms(question)}
        value_shapes = [shape for asks, shape in ANSWER_TYPES if asks.search(question)]
        scored = [
            Scored(
                sentence,
                _dot(question_vector, vector)
                + KEYWORD_WEIGHT * _coverage(weights, sentence)
                + ANSWER_TYPE_BONUS * any(shape.search(sentence.text) for shape in value_shapes)
                - OTHER_MODEL_PENALTY * names_other_model(asked, sentence.text),
                rank,
            )
            for (sentence, rank), vector in zip(items, vectors, strict=True)
        ]
        scored.sort(key=lambda s: (-s.score, s.passage_rank, s.sentence.start))
        return scored

    def _vectors(self, texts: list[str]) -> list[list[float]]:
        """Sentence vectors, computed once per process for each distinct sentence."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            computed = self._embedder.embed_documents(missing)
            with self._lock:
                self._cache.update(zip(missing, computed, strict=True))
        with self._lock:
            return [self._cache[text] for text in texts]


def split_sentences(chunk: Chunk) -> list[Sentence]:
    """Sentences of a chunk: each line, cut further at sentence ends; bullets left out."""
    sentences: list[Sentence] = []
    heading = chunk.heading
    for line in _LINE.finditer(chunk.text):
        heading_match = _HEADING_LINE.match(line.group())
        if heading_match:
            heading = heading_match.group(1).strip()
            continue
        for begin, end in _sentence_spans(line.group()):
            text = line.group()[begin:end]
            if (
                len(text) >= MIN_SENTENCE_CHARS
                and any(ch.isalpha() for ch in text)
                and _is_claim(text)
            ):
                start = chunk.start + line.start() + begin
                context = f"{chunk.title} — {heading}" if heading else chunk.title
                sentences.append(Sentence(chunk, start, start + len(text), context))
    return sentences


def _sentence_spans(line: str) -> list[tuple[int, int]]:
    spans = []
    begin = 0
    for match in _SENTENCE_END.finditer(line):
        spans.append((begin, match.start()))
        begin = match.end()
    spans.append((begin, len(line)))
    trimmed = []
    for begin, end in spans:
        leader = _LEADER.match(line, begin, end)
        if leader:
            begin = leader.end()
        text = line[begin:end]
        end = begin + len(text.rstrip(" |"))
        if len(text) > MAX_QUOTE_CHARS:
            end = begin + _cut_at_word(line[begin:end], MAX_QUOTE_CHARS)
        if end > begin:
            trimmed.append((begin, end))
    return trimmed


def _cut_at_word(text: str, limit: int) -> int:
    cut = text[:limit]
    return cut.rindex(" ") if " " in cut[limit // 2 :] else limit


def _coverage(weights: dict[str, float], sentence: Sentence) -> float:
    """Share of the question's keyword weight (rarer terms weigh more) found in the sentence."""
    total = sum(weights.values())
    if not total:
        return 0.0
    found = set(terms(f"{sentence.context} {sentence.text}"))
    return sum(weight for term, weight in weights.items() if term in found) / total


def _is_claim(text: str) -> bool:
    """Leaves out questions (FAQ headings) and bare titles, which answer nothing."""
    if text.rstrip().endswith("?"):
        return False
    words = text.split()
    has_value = any(ch.isdigit() for ch in text) or ":" in text or "|" in text
    return len(words) > 6 or has_value


def _choose(ranked: list[Scored], question_terms: set[str]) -> list[Scored]:
    """The best sentence, and those close to it that share a keyword with the question."""
    best = ranked[0].score
    chosen: list[Scored] = []
    per_source: dict[str, int] = {}
    seen: set[str] = set()
    for item in ranked:
        if len(chosen) == MAX_SENTENCES or item.score < best - KEEP_MARGIN:
            break
        normalised = " ".join(item.sentence.text.lower().split())
        source = item.sentence.chunk.source
        if normalised in seen or per_source.get(source, 0) >= MAX_PER_SOURCE:
            continue
        if chosen and not question_terms & set(terms(item.sentence.text)):
            continue
        seen.add(normalised)
        per_source[source] = per_source.get(source, 0) + 1
        chosen.append(item)
    return chosen


def _citation(n: int, sentence: Sentence) -> Citation:
    chunk = sentence.chunk
    return Citation(
        n=n,
        source=chunk.source,
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
