"""Follow-up questions: "and for 3.1?" means nothing to retrieval until it is made standalone.

Offline, an elliptic follow-up is rewritten from the conversation's previous question: a new
model or version replaces the one asked about before ("What does Mistral Medium 3 cost?" +
"And for 3.1?" -> "What does Mistral Medium 3.1 cost?"); anything else is read together with
the previous question. A question that stands on its own is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.entities import models_named, replace_model

# Words that open a follow-up in the five languages.
_CONNECTOR = re.compile(
    r"^\s*(?:¿\s*)?(?:and|also|what about|how about|and what about|same for|"
    r"et|et pour|et qu'en est-il|aussi|und|und für|und was ist mit|auch|"
    r"e|e per|e invece|anche|y|y para|y qué hay de|también)\b[\s,:]*",
    re.IGNORECASE,
)
_BARE_VERSION = re.compile(r"(?<![\w.])(\d+\.\d+|\d)(?![\w.]*\d)")
SHORT = 6  # a question of at most this many words that names no model is elliptic


def standalone(question: str, history: Sequence[str]) -> str:
    """The question as retrieval should see it, given the earlier questions (oldest first)."""
    if not history:
        return question
    previous = standalone(history[-1], history[:-1])
    if not _elliptic(question):
        return question
    rest = _CONNECTOR.sub("", question).strip()
    named = models_named(rest)
    if named:
        family, version = sorted(named, key=lambda m: (m[0], m[1] or ""))[0]
        replaced = replace_model(previous, family, version)
        if replaced and len(rest.split()) <= SHORT:
            return replaced
    bare = _BARE_VERSION.search(rest)
    previous_models = models_named(previous)
    if bare and previous_models and len(rest.split()) <= 4:
        family = sorted(previous_models, key=lambda m: (m[0], m[1] or ""))[0][0]
        replaced = replace_model(previous, family, bare.group(1))
        if replaced:
            return replaced
    return f"{previous} {rest}".strip()


def _elliptic(question: str) -> bool:
    if _CONNECTOR.match(question):
        return True
    words = question.split()
    return len(words) <= SHORT and not models_named(question)
