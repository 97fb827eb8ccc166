"""Find where the retrieved sources disagree on what a question asks about.

What each unit about the entity the question names (`_about`) claims is read by
`bot.answering.facts.claims`: a date, an amount, yes or no, one of two alternatives, a
restriction, a labelled value.

Two or more different values on one topic make a conflict. Dates that agree as far as both
go and equal amounts are one value. Sides are shown most reliable source first (vendor
documentation, then model directories, news, community posts; newer before older).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.answering.facts.claims import Claim, Topic, claims_of, question_words
from bot.answering.facts.entities import Families, Model, compatible, models_named
from bot.answering.retrieval import Candidate

# How much a kind of source is trusted, best first.
RELIABILITY = ("vendor-docs", "model-directory", "news", "other", "community")
MAX_CONFLICTS = 2  # topics shown for one answer


@dataclass(frozen=True)
class Side:
    label: str  # the value as the most reliable source writes it
    candidates: tuple[Candidate, ...]  # most reliable first


@dataclass(frozen=True)
class FoundConflict:
    topic: Topic
    sides: tuple[Side, ...]  # the side of the most reliable source first


def find_conflicts(
    question: str, candidates: list[Candidate], known: Families
) -> list[FoundConflict]:
    """The topics of the question on which the candidates about the asked entity disagree."""
    asked = models_named(question, known)
    words = question_words(question, known)
    about = [c for c in candidates if _about(c, asked, known)]
    claims = [claim for c in about for claim in claims_of(question, words, asked, c, known)]
    found: list[FoundConflict] = []
    seen: set[frozenset[str]] = set()
    topics = sorted(dict.fromkeys(c.topic for c in claims), key=lambda t: _ORDER.index(t.kind))
    exact = {id(c) for c in about if _names_exactly(c, asked, known)}
    for topic in topics:
        sides = _sides([claim for claim in claims if claim.topic == topic], exact)
        ids = frozenset(c.sentence.text for side in sides for c in side.candidates)
        if len(sides) >= 2 and ids not in seen and _across_sources(topic, sides):
            seen.add(ids)
            found.append(FoundConflict(topic, sides))
    return found[:MAX_CONFLICTS]


# Which topics come first: those the question spells out, then the values read most surely.
_ORDER = ("either", "field", "date", "amount", "only", "yes-no")


def _across_sources(topic: Topic, sides: tuple[Side, ...]) -> bool:
    """A value stated is a claim wherever it stands. A word merely mentioned affirms little,
    so a yes/no disagreement counts only between different documents; so does a labelled
    value, as one table may list an entity in several rows (one per version or region)."""
    sources = [{c.sentence.source for c in side.candidates} for side in sides]
    if topic.kind == "yes-no":
        return any(a != b for a in sources for b in sources)
    if topic.kind == "field":  # a table may list one entity in several rows
        return any(not a & b for a in sources for b in sources)
    return True


def _sides(claims: list[Claim], exact: set[int]) -> tuple[Side, ...]:
    """The claims grouped by value (dates agreeing as far as both go are one), most reliable
    side first; a sentence naming the very version asked (`exact`, ids of candidates) comes
    before one about another version of its line ("3.1" when "3" is asked)."""
    groups: list[list[Claim]] = []
    for claim in sorted(
        claims, key=lambda c: (id(c.candidate) not in exact, reliability(c.candidate))
    ):
        group = next((g for g in groups if _same(g[0].value, claim.value)), None)
        if group is None:
            groups.append([claim])
        elif all(c.candidate is not claim.candidate for c in group):
            group.append(claim)
    # A unit on two sides contradicts itself (a glossary, a comparison): it decides nothing.
    both = {
        id(c.candidate)
        for g in groups
        for c in g
        if sum(c.candidate is d.candidate for h in groups for d in h) > 1
    }
    groups = [[c for c in g if id(c.candidate) not in both] for g in groups]
    return tuple(
        Side(group[0].label, tuple(c.candidate for c in group)) for group in groups if group
    )


def _same(a: str, b: str) -> bool:
    return a == b or (len(a) != len(b) and (a.startswith(b) or b.startswith(a)) and "-" in a)


def _about(candidate: Candidate, asked: frozenset[Model], known: Families) -> bool:
    """The sentence is about the asked model (or the question names none)."""
    if not asked:
        return True
    return any(compatible(a, n) for a in asked for n in _named(candidate, known))


def _names_exactly(candidate: Candidate, asked: frozenset[Model], known: Families) -> bool:
    """The sentence (or, naming none, its page) names a model asked, version for version."""
    return bool(asked & _named(candidate, known))


def _named(candidate: Candidate, known: Families) -> frozenset[Model]:
    """The models the sentence names (versions taken from its page), else its page's."""
    in_context = models_named(candidate.context, known)
    return _resolved(models_named(candidate.sentence.text, known), in_context) or in_context


def _resolved(named: frozenset[Model], context: frozenset[Model]) -> frozenset[Model]:
    """A mention without version ("orca-pro") takes the version its page is about."""
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
