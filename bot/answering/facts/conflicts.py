"""Find where the retrieved sources disagree on the fact a question asks about.

A topic is a fact procurement asks about and sources state in recognisable words: whether
weights are open or closed, whether a model is multimodal or text-only, its context window,
its release date. For each sentence about the asked model, a topic reads which side the
sentence takes (or which value it states). When two or more sides appear, that is a
conflict: every side is shown with its citations, the most reliable source first (vendor
documentation, then model directories, news, community posts; newer before older).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.answering.facts.entities import Families, Model, compatible, models_named
from bot.answering.retrieval import Candidate
from index.documents import newest_date

# How much a kind of source is trusted, best first.
RELIABILITY = ("vendor-docs", "model-directory", "news", "other", "community")

Reader = Callable[[str, frozenset[Model]], str | None]  # (sentence, asked models) -> side


@dataclass(frozen=True)
class Topic:
    key: str
    name: str  # "whether the weights are open or closed"
    asks: re.Pattern[str]  # a question about this topic
    side_of: Reader


@dataclass(frozen=True)
class Side:
    label: str
    candidates: tuple[Candidate, ...]  # most reliable first


@dataclass(frozen=True)
class FoundConflict:
    topic: Topic
    sides: tuple[Side, ...]  # the side of the most reliable source first


def _first_match(*sides: tuple[str, str]) -> Reader:
    compiled = [(label, re.compile(pattern, re.IGNORECASE)) for label, pattern in sides]

    def read(sentence: str, asked: frozenset[Model]) -> str | None:
        return next((label for label, pattern in compiled if pattern.search(sentence)), None)

    return read


_CONTEXT = re.compile(r"\b(\d{2,4})\s?K\b[- ]?(?:-?token)?\s*context", re.IGNORECASE)


def _context_window(sentence: str, asked: frozenset[Model]) -> str | None:
    match = _CONTEXT.search(sentence)
    return f"{match.group(1)}K tokens" if match else None


def _release_date(sentence: str, asked: frozenset[Model]) -> str | None:
    """The date a sentence gives right after naming an asked version."""
    for _, version in asked:
        if not version:
            continue
        for mention in re.finditer(rf"(?<![\d.]){re.escape(version)}(?![\d.]*\d)", sentence):
            date = newest_date(sentence[mention.end() : mention.end() + 40])
            if date:
                return date
    return None


TOPICS = (
    Topic(
        "weights-open-or-closed",
        "whether the weights are open or closed",
        re.compile(
            r"weights?|open[- ]?(?:weight|source)|closed|proprietary|licen[cs]|download|"
            r"poids|gewichte|pesi|pesos|lizenz|licenza|licencia",
            re.IGNORECASE,
        ),
        _first_match(
            (
                "closed weights (proprietary)",
                r"closed[- ]weight|\bis closed\b|no published weights|weights are never released"
                r"|don't get the weights|weights don't leave|\bproprietary\b"
                r"|never (?:been )?open[- ]sourced|not open[- ]weights?|no open[- ]source",
            ),
            ("open weights", r"\bopen[- ]weights?\b|\bopen-sourced\b"),
        ),
    ),
    Topic(
        "multimodal-or-text-only",
        "whether the model is multimodal or text-only",
        re.compile(
            r"multi-?modal|text[- ]only|images?|vision|modalit|bilder|immagini|im[aá]genes",
            re.IGNORECASE,
        ),
        _first_match(
            ("text-only", r"text[- ]only|no multimodal|text-in, text-out"),
            ("multimodal", r"\bmultimodal\b"),
        ),
    ),
    Topic(
        "context-window",
        "the context window",
        re.compile(r"context|fen[eê]tre|kontext|contesto|contexto", re.IGNORECASE),
        _context_window,
    ),
    Topic(
        "release-date",
        "the release date",
        re.compile(
            r"released?|release date|when was|launch|sorti|publi|ver[oö]ffentlicht|rilasciat|"
            r"lanzad|lanzamiento",
            re.IGNORECASE,
        ),
        _release_date,
    ),
)


def find_conflicts(
    question: str, candidates: list[Candidate], known: Families
) -> list[FoundConflict]:
    """The topics of the question on which the candidates about the asked model disagree."""
    asked = models_named(question, known)
    about = [c for c in candidates if _about(c, asked, known)]
    found = []
    for topic in TOPICS:
        if not topic.asks.search(question):
            continue
        sides: dict[str, list[Candidate]] = {}
        for candidate in about:
            label = topic.side_of(candidate.sentence.text, asked)
            if label:
                sides.setdefault(label, []).append(candidate)
        if len(sides) >= 2:
            ordered = sorted(
                (Side(label, tuple(sorted(cs, key=reliability))) for label, cs in sides.items()),
                key=lambda side: reliability(side.candidates[0]),
            )
            found.append(FoundConflict(_keyed(topic, asked), tuple(ordered)))
    return found


def _keyed(topic: Topic, asked: frozenset[Model]) -> Topic:
    """Release dates are per version: "release-date-3.1"."""
    versions = sorted(version for _, version in asked if version)
    if topic.key != "release-date" or not versions:
        return topic
    return Topic(f"{topic.key}-{versions[0]}", topic.name, topic.asks, topic.side_of)


def _about(candidate: Candidate, asked: frozenset[Model], known: Families) -> bool:
    """The sentence is about the asked model (or the question names none)."""
    if not asked:
        return True
    in_context = models_named(candidate.context, known)
    named = _resolved(models_named(candidate.sentence.text, known), in_context) or in_context
    return any(compatible(a, n) for a in asked for n in named)


def _resolved(named: frozenset[Model], context: frozenset[Model]) -> frozenset[Model]:
    """A mention without version ("mistral-medium") takes the version its page is about."""
    resolved: set[Model] = set()
    for family, version in named:
        page = {m for m in context if m[0] == family and m[1]}
        resolved |= page if version is None and page else {(family, version)}
    return frozenset(resolved)


def reliability(candidate: Candidate) -> tuple[int, int]:
    """Sort key: more reliable kind first, then newer date first (undated last)."""
    chunk = candidate.passage.chunk
    kind = RELIABILITY.index(chunk.kind) if chunk.kind in RELIABILITY else len(RELIABILITY)
    date = int((chunk.date or "0").replace("-", "").ljust(8, "0"))
    return kind, -date
