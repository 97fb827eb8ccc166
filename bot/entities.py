"""Which model a text is about, so that an answer about one model never quotes another's facts.

A text names a model when it says "Mistral Large", "Medium 3.1", "mistral-small-2402" or
"Codestral"; the bare words "small" or "large" are not enough.
"""

from __future__ import annotations

import re

FAMILIES = ("tiny", "small", "medium", "large", "next")
NAMED_MODELS = ("mixtral", "codestral", "devstral", "magistral", "ministral", "pixtral", "voxtral")

_FAMILY = "|".join(FAMILIES)
_NAMED = "|".join(NAMED_MODELS)
# (family, version) with the version optional; the version is a release number or a date tag.
_MODEL = re.compile(
    rf"\bmistral[\s_-]+({_FAMILY})\b(?:[\s_-]+(\d+(?:\.\d+)?)(?!\.?\d))?"
    rf"|\b({_FAMILY})\s+(\d+(?:\.\d+)?)(?!\.?\d)"
    rf"|\b({_NAMED})\b",
    re.IGNORECASE,
)
_FAMILY_WORD = re.compile(rf"\b({_FAMILY}|{_NAMED})\b", re.IGNORECASE)

Model = tuple[str, str | None]  # ("medium", "3.1"), ("medium", "2312"), ("large", None)


def models_named(text: str) -> frozenset[Model]:
    """Models a text names explicitly, as (family, version or None)."""
    found: set[Model] = set()
    for match in _MODEL.finditer(text):
        family_a, version_a, family_b, version_b, named = match.groups()
        family = (family_a or family_b or named).lower()
        version = version_a or version_b
        found.add((family, version.rstrip(".") if version else None))
    return frozenset(found)


def families_mentioned(text: str) -> frozenset[str]:
    """Model families a passage might be about (any mention of the family word)."""
    return frozenset(match.group(1).lower() for match in _FAMILY_WORD.finditer(text))


def names_other_model(asked: frozenset[Model], text: str) -> bool:
    """The text names models, none of them the one asked about (another family or version)."""
    named = models_named(text)
    if not asked or not named:
        return False
    asked_families = {family for family, _ in asked}
    same_family = {model for model in named if model[0] in asked_families}
    if not same_family:
        return True
    asked_versions = {model for model in asked if model[1]}
    named_versions = {model for model in same_family if model[1]}
    return bool(asked_versions and named_versions) and not asked_versions & named_versions
