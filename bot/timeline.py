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

from bot.retrieval import Candidate
from index.documents import newest_date

ASKS = re.compile(
    r"\b(?:available|availability|still|deprecat\w*|retire\w*|sunset|end[- ]of[- ]life|"
    r"lifecycle|callable|discontinu\w*|switched off|shut down|replace\w*|migrat\w*|successor|"
    r"obsol\w+|disponible|d[ée]pr[ée]ci\w*|retir\w*|veraltet|abgek[üu]ndigt|eingestellt|"
    r"abgeschaltet|verf[üu]gbar|dismess\w*|ritirat\w*|disponibil\w*|deprecat\w*)\b",
    re.IGNORECASE,
)
_EVENT = re.compile(
    r"\b(?P<event>deprecat\w*|retire\w*|retirement|discontinu\w*|switched off|shut down|"
    r"sunset)\b",
    re.IGNORECASE,
)
_MODEL_ID = re.compile(r"`?\b(mistral-[a-z]+-(?:latest|\d{4}))\b`?")
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
    found: dict[tuple[str, date], Event] = {}
    for candidate in candidates:
        text = candidate.sentence.text
        for match in _EVENT.finditer(text):
            written = newest_date(text[match.end() : match.end() + WINDOW].split(";")[0])
            if not written:
                continue
            word = match.group("event").lower()
            kind = "deprecated" if word.startswith("deprecat") else "retired"
            on = date.fromisoformat(written)
            found.setdefault((kind, on), Event(kind, on, candidate))
    return sorted(found.values(), key=lambda e: (e.on, e.kind))


def replacements(candidates: list[Candidate], retired_ids: set[str]) -> list[Replacement]:
    """Model ids the sources present as current or as the migration target."""
    found: dict[str, Replacement] = {}
    for candidate in candidates:
        text = candidate.sentence.text
        if not _CURRENT.search(text):
            continue
        for match in _MODEL_ID.finditer(text):
            model_id = match.group(1)
            tail = text[match.end() : match.end() + 30]
            if model_id in retired_ids or _DEPRECATED_ID.search(tail):
                continue
            found.setdefault(model_id, Replacement(model_id, candidate))
    return list(found.values())
