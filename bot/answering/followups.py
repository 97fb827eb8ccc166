"""Follow-up questions: "and for 3.1?" means nothing to retrieval until it is made standalone.

Offline, an elliptic follow-up is rewritten from the conversation's previous question: a new
model or version replaces the one asked about before ("What does Mistral Medium 3 cost?" +
"And for 3.1?" -> "What does Mistral Medium 3.1 cost?"); one that says what it asks of the new
model ("What about the context window of Large 2?") is read as it says; anything else is read
together with the previous question. A question that stands on its own is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answering.facts.entities import Families, models_named, replace_model
from bot.answering.keywords import terms

# Words that open a follow-up in the five languages.
_CONNECTORS = (  # noqa: SIM905 -- one connector per line would take 25 lines
    "and|also|then|what about|how about|and what about|same for|"
    "et|et pour|et qu'en est-il|aussi|und|und für|und was ist mit|auch|"
    "e|e per|e invece|anche|y|y para|y qué hay de|también"
).split("|")
_CONNECTOR = re.compile(  # the longest connector first: "et pour", not "et"
    rf"^\s*(?:¿\s*)?(?:{'|'.join(sorted(_CONNECTORS, key=len, reverse=True))})"
    r"\b(?![.\-'’])[\s,:]*",
    re.IGNORECASE,
)
# Prepositions and articles a follow-up puts around a model's name ("pour", "für", "de la").
_AROUND_A_NAME = frozenset(
    (  # noqa: SIM905 -- one word per line would take 30 lines
        "for pour für fur per para de del della la le el il lo gli les los las der die das den "
        "du des un una une ein eine"
    ).split()
)
REPLACE_WORDS = 6  # a follow-up this short that names a model asks the same of that model
_BARE_VERSION = re.compile(r"(?<![\w.])(\d+\.\d+|\d)(?![\w.]*\d)")
# Words that point back to what was asked before ("is it…", "its price", "that one").
_ANAPHORA = re.compile(
    r"\b(?:it|its|it's|they|them|their|that one|this one|the same|those ones|"
    r"celui-ci|celle-ci|ceux-ci|le même|la même|sein|seine|ihr|ihre|dessen|deren|derselbe|"
    r"lo stesso|la stessa|esso|essa|el mismo|la misma|ese|esa)\b",
    re.IGNORECASE,
)
FRAGMENT = 3  # a question of at most this many words that names no model is a fragment


def standalone(question: str, history: Sequence[str], known: Families = frozenset()) -> str:
    """The question as retrieval should see it, given the earlier questions (oldest first)
    and the product families the documents name."""
    if not history:
        return question
    previous = standalone(history[-1], history[:-1], known)
    if not _elliptic(question, known):
        return question
    rest = _CONNECTOR.sub("", question).strip()
    named = models_named(rest, known)
    if named:
        family, version = sorted(named, key=lambda m: (m[0], m[1] or ""))[0]
        if _asks_its_own(rest, known):  # "what about the context window of Large 2?"
            return rest
        replaced = replace_model(previous, family, version, known)
        if replaced and len(rest.split()) <= REPLACE_WORDS:
            return replaced
    bare = _BARE_VERSION.search(rest)
    previous_models = models_named(previous, known)
    if bare and previous_models and len(rest.split()) <= 4:
        family = sorted(previous_models, key=lambda m: (m[0], m[1] or ""))[0][0]
        replaced = replace_model(previous, family, bare.group(1), known)
        if replaced:
            return replaced
    return f"{previous} {rest}".strip()


def _asks_its_own(rest: str, known: Families) -> bool:
    """Whether a follow-up naming a model also says what it asks of it: words besides names
    and function words ("the context window of Large 2", not "for Mistral Large 2")."""
    without = replace_model(rest, "", None, known) or rest
    lowercase = " ".join(word for word in without.split() if not word[:1].isupper())  # no names
    return any(not w.isdigit() and w not in _AROUND_A_NAME for w in terms(lowercase))


def _elliptic(question: str, known: Families) -> bool:
    """A follow-up that means nothing alone: it opens with a connector ("and for 3.1?"),
    points back ("is it multimodal?"), or is a fragment ("3.1?"). A short question of its own
    ("Is there a termination fee?") starts afresh."""
    if _CONNECTOR.match(question):
        return True
    if models_named(question, known):
        return False
    return points_back(question) or len(question.split()) <= FRAGMENT


def points_back(text: str) -> bool:
    """Whether the text refers to something named before ("is it…", "its price")."""
    return bool(_ANAPHORA.search(text))
