"""Does a sentence hold what the question asks for, about the model it asks about?

Many procurement questions ask for one kind of value about one model: a price, a context
size, a model id, a count, a person. A sentence that is merely on topic does not answer
them: "What does Mistral Large 3 cost?" is not answered by Medium 3's price list. A question
of such a kind is answered only by a sentence about that exact model version that holds a
value of that kind; otherwise the documents do not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answering.facts.entities import Families, Model, models_named
from bot.answering.keywords import terms
from bot.answering.retrieval import Candidate

# An amount of money, the currency before or after it: "$0.40", "EUR 4,200", "2 €", "8 USD".
PRICE = re.compile(
    r"[$€£]\s?\d|\b(?:EUR|USD|GBP|CHF)\s?\d|\d\s?(?:€|EUR|USD|GBP|CHF|dollars?|euros?)\b",
    re.IGNORECASE,
)
_CONTEXT_SIZE = re.compile(r"\b\d{1,4}\s?K\b|\b\d{2,3},?000 tokens\b", re.IGNORECASE)
# A model id: lower-case words joined by hyphens, ending in a date tag or "latest".
MODEL_ID = re.compile(r"\b[a-z][a-z0-9]*(?:-[a-z0-9]+)*-(?:\d{4}|latest)\b")
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Need:
    """What kind of value the question asks for."""

    kind: str
    value: re.Pattern[str] | None  # the shape of the value, or None: `focus` must appear
    focus: str = ""  # a noun the sentence must contain ("employees" in "how many employees")


_PRICE_WORDS = (
    r"\b(?:cost|costs|price[sd]?|pricing|fees?|rates?|charge[sd]?|co[uû]te?s?|prix|tarifs?|"
    r"kosten|kostet|preise?|costa|costo|prezzi|prezzo|cuesta|cuestan|precios?|coste)\b"
)
_ASKS: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...] = (
    ("price", re.compile(_PRICE_WORDS, re.IGNORECASE), PRICE),
    (
        "context size",
        re.compile(r"\bcontext(?: window| length| size)?\b|fen[eê]tre de contexte|kontext", re.I),
        _CONTEXT_SIZE,
    ),
    (
        "service level (uptime guarantee)",
        re.compile(r"\b(?:sla|slas|uptime|service[- ]level)\b", re.IGNORECASE),
        re.compile(r"\d+(?:\.\d+)?\s?%"),
    ),
    (
        "model id",
        re.compile(r"\bmodel[- ]?(?:id|identifier|name)s?\b|\bapi (?:id|name)\b", re.IGNORECASE),
        MODEL_ID,
    ),
    (
        "duration",
        re.compile(
            r"\bhow long\b|\bretention (?:period|time)\b|\bcombien de temps\b|\bwie lange\b|"
            r"\bper quanto tempo\b|\bcu[aá]nto tiempo\b",
            re.IGNORECASE,
        ),
        re.compile(
            r"\b\d+(?:[.,]\d+)?\s*(?:-\s*)?(?:[a-z]+\s+){0,2}?"
            r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "percentage",
        re.compile(
            r"\bpercent(?:age)?s?\b|\bpourcentage\b|\bprozent|\bpercentual|\bporcentaje", re.I
        ),
        re.compile(r"\d+(?:[.,]\d+)?\s?(?:%|percent\b)", re.IGNORECASE),
    ),
)
_HOW_MANY = re.compile(
    r"\b(?:how many|combien de|wie viele|quant[ie]|cu[aá]nt[oa]s)\s+(?:\w+\s+)??(\w+)",
    re.IGNORECASE,
)
_WHO_IS = re.compile(r"\bwho (?:is|are|was|were) (?:the |its |their )?(\w+)", re.IGNORECASE)


# A yes/no question ("Does the offer come with a latency SLA?") asks whether, not for a value:
# its asking sentence opens with an auxiliary verb and holds no question word.
_POLAR = re.compile(
    r"^(?:is|are|was|were|does|do|did|can|could|will|would|should|shall|may|might|must|has|"
    r"have|had|est-ce|peut|gibt|ist|sind|kann|k[öo]nnen|hat|haben|wird|è|sono|può|"
    r"possiamo|es|son|puede|hay|existe)\b",
    re.IGNORECASE,
)
_QUESTION_WORD = re.compile(
    r"\b(?:what|which|who|whom|whose|when|where|how|quel\w*|quand|combien|comment|wer|wann|"
    r"wie|welche\w*|quando|quant\w*|dove|qu[eé]|qui[eé]n|cu[aá]ndo|cu[aá]nt\w*|c[oó]mo|"
    r"d[oó]nde|cu[aá]l\w*)\b",
    re.IGNORECASE,
)
_ASKING_SENTENCE = re.compile(r"(?:[^.?!]|\.(?=\d))*\?")  # "3.1" ends no sentence


def asking_sentences(question: str) -> list[str]:
    """The sentences of a question that ask (end in "?"); the whole question if none does."""
    return [s.strip() for s in _ASKING_SENTENCE.findall(question)] or [question.strip()]


def polar(question: str) -> bool:
    """Whether the question only asks yes or no (every asking sentence is a yes/no one)."""
    asking = [s.strip() for s in _ASKING_SENTENCE.findall(question)]
    return bool(asking) and all(_POLAR.match(s) and not _QUESTION_WORD.search(s) for s in asking)


def needs(question: str) -> list[Need]:
    """The kinds of value a question asks for (none for open and yes/no questions)."""
    if polar(question):
        return []
    found = [Need(kind, value) for kind, asks, value in _ASKS if asks.search(question)]
    for pattern, kind in ((_HOW_MANY, "count"), (_WHO_IS, "person")):
        match = pattern.search(question)
        if match:
            found.append(Need(kind, _NUMBER if kind == "count" else None, match.group(1)))
    return found


def answers(need: Need, candidate: Candidate, asked: frozenset[Model], known: Families) -> bool:
    """The sentence holds a value of the needed kind about the asked model (a table row holds
    a price when its header names the currency and the row a number: "| Pro | 7.2 |" under
    "| Product | Output (EUR / 1M tokens) |")."""
    text = candidate.sentence.text
    if need.value is not None and not need.value.search(text) and not _priced_row(need, candidate):
        return False
    if need.focus and not _mentions(need.focus, f"{candidate.context} {text}"):
        return False
    return about_exactly(candidate, asked, known)


_CURRENCY = re.compile(r"[$€£]|\b(?:EUR|USD|GBP|CHF|dollars?|euros?)\b", re.IGNORECASE)


def _priced_row(need: Need, candidate: Candidate) -> bool:
    sentence = candidate.sentence
    return (
        need.value is PRICE
        and sentence.kind == "row"
        and _CURRENCY.search(sentence.lead) is not None
        and re.search(r"\d", sentence.text) is not None
    )


def _mentions(focus: str, text: str) -> bool:
    """The text has a word that starts with the focus word's stem, or that the stem starts with."""
    stems = terms(focus)
    words = terms(text)
    return any(w.startswith(s) or s.startswith(w) for s in stems for w in words if len(w) > 2)


def about_other_version(candidate: Candidate, asked: frozenset[Model], known: Families) -> bool:
    """The sentence is about another version of an asked family (by its text, else its page)."""
    versions = {m for m in asked if m[1]}
    if not versions:
        return False
    families = {family for family, _ in versions}
    for source in (candidate.sentence.text, candidate.context):
        named = {m for m in models_named(source, known) if m[0] in families and m[1]}
        if named:
            return not named & versions
    return False


def about_exactly(candidate: Candidate, asked: frozenset[Model], known: Families) -> bool:
    """About the asked model version itself (not a sibling version), or no model was asked."""
    if not asked:
        return True
    in_text = models_named(candidate.sentence.text, known)
    in_context = models_named(candidate.context, known)
    named = {m for m in in_text if m[1]} or {m for m in in_context if m[1]} or in_text | in_context
    for family, version in asked:
        for other_family, other_version in named:
            if family == other_family and (not version or version == other_version):
                return True
    return False
