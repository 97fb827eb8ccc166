"""Availability reasoned against today's date: deprecation and retirement, and what replaces.

Sources state events ("deprecated the model on November 30, 2024 and retired it from the API
on June 16, 2025"); whether the model can still be called depends on today. The status line
compares each cited event date with today, and lists the model ids the sources name as
current or as the migration target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.answering.compose import cells
from bot.answering.facts.entities import Families, Model, models_named
from bot.answering.retrieval import Candidate
from index.documents import first_date

ASKS = re.compile(
    r"\b(?:available|availability|still|deprecat\w*|retire\w*|sunset|end[- ]of[- ]life|"
    r"lifecycle|callable|discontinu\w*|switched off|shut down|replace\w*|migrat\w*|successor|"
    r"obsol\w+|disponible|d[ée]pr[ée]ci\w*|retir\w*|veraltet|abgek[üu]ndigt|eingestellt|"
    r"abgeschaltet|verf[üu]gbar|dismess\w*|ritirat\w*|disponibil\w*|deprecat\w*)\b",
    re.IGNORECASE,
)
_EVENT = re.compile(
    r"\b(?P<event>deprecat\w*|retire\w*|retirement|discontinu\w*|switched off|shut down|"
    r"sunset|end of life|end-of-life)\b",
    re.IGNORECASE,
)
_MODEL_ID = re.compile(r"`?\b([a-z][a-z0-9]*(?:-[a-z0-9]+)*-(?:latest|\d{4}))\b`?")
_CURRENT = re.compile(r"\b(?:current|latest|most recent|update to|migrat\w*|replace\w*)\b", re.I)
_DEPRECATED_ID = re.compile(r"\b(?:deprecated|retired|previous)\b", re.IGNORECASE)
WINDOW = 60  # characters after an event word in which its date is written


@dataclass(frozen=True)
class Event:
    kind: str  # "deprecated" | "retired"
    on: date
    candidate: Candidate


@dataclass(frozen=True)
class Replacement:
    model_id: str
    candidate: Candidate


def events(candidates: list[Candidate]) -> list[Event]:
    """The dated deprecation and retirement events the candidates state, oldest first.

    In a sentence, an event word takes the first date written after it and before the next
    event word ("deprecated on January 15, 2025 and will be retired on June 30, 2026" gives
    each its own date). In a table row, a cell under a header that names an event ("Retirement
    Date") is read the same way, with the header's event word in front of it.
    """
    found: dict[tuple[str, date], Event] = {}
    for candidate in candidates:
        for text in _event_texts(candidate):
            for kind, on in _dated_events(text):
                found.setdefault((kind, on), Event(kind, on, candidate))
    return sorted(found.values(), key=lambda e: (e.on, e.kind))


def _event_texts(candidate: Candidate) -> list[str]:
    sentence = candidate.sentence
    if sentence.kind != "row" or not sentence.lead:
        return [sentence.text]
    headers = cells(sentence.lead)
    values = cells(sentence.text)
    if len(headers) != len(values):
        return [sentence.text]
    texts = []
    for header, value in zip(headers, values, strict=True):
        event = _EVENT.search(header)
        if event and not _EVENT.search(value):
            texts.append(f"{event.group('event')} {value}")
        else:
            texts.append(value)
    return texts


def _dated_events(text: str) -> list[tuple[str, date]]:
    matches = list(_EVENT.finditer(text))
    dated = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        window = text[match.end() : min(end, match.end() + WINDOW)].split(";")[0]
        written = first_date(window)
        if written:
            word = match.group("event").lower()
            kind = "deprecated" if word.startswith("deprecat") else "retired"
            dated.append((kind, date.fromisoformat(written)))
    return dated


def replacements(
    candidates: list[Candidate], asked: frozenset[Model], known: Families
) -> list[Replacement]:
    """Model ids the sources present as current or as the migration target (not the ids of
    the asked models themselves)."""
    found: dict[str, Replacement] = {}
    for candidate in candidates:
        text = candidate.sentence.text
        if not _CURRENT.search(text):
            continue
        for match in _MODEL_ID.finditer(text):
            model_id = match.group(1)
            tail = text[match.end() : match.end() + 30]
            if models_named(model_id, known) & asked or _DEPRECATED_ID.search(tail):
                continue
            found.setdefault(model_id, Replacement(model_id, candidate))
    return list(found.values())
