"""Follow-up questions: "and for 3.1?" means nothing to retrieval until it is made standalone.

Offline, an elliptic follow-up is rewritten from the conversation's previous question: a new
model or version replaces the one asked about before ("What does Mistral Medium 3 cost?" +
"And for 3.1?" -> "What does Mistral Medium 3.1 cost?"); anything else is read together with
the previous question. A question that stands on its own is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answering.facts.entities import Families, models_named, replace_model

# Words that open a follow-up in the five languages.
_CONNECTOR = re.compile(
    r"^\s*(?:¿\s*)?(?:and|also|then|what about|how about|and what about|same for|"
    r"et|et pour|et qu'en est-il|aussi|und|und für|und was ist mit|auch|"
    r"e|e per|e invece|anche|y|y para|y qué hay de|también)\b(?![.\-'’])[\s,:]*",
    re.IGNORECASE,
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


def _elliptic(question: str, known: Families) -> bool:
    """A follow-up that means nothing alone: it opens with a connector ("and for 3.1?"),
    points back ("is it multimodal?"), or is a fragment ("3.1?"). A short question of its own
    ("Is there a termination fee?") starts afresh."""
    if _CONNECTOR.match(question):
        return True
    if models_named(question, known):
        return False
    return bool(_ANAPHORA.search(question)) or len(question.split()) <= FRAGMENT
