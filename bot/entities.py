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
# (family, version) with the version optional; a version is a release number ("3.1"), a year
# in brackets ("Medium (2023)") or a date tag ("mistral-medium-2312").
_VERSION = r"(?:\d+(?:\.\d+)?)(?!\.?\d)|\((?:19|20)\d\d\)"
_MODEL = re.compile(
    rf"\bmistral[\s_-]+(?P<family_a>{_FAMILY})\b(?:[\s_-]+(?P<version_a>{_VERSION}))?"
    rf"|\b(?P<family_b>{_FAMILY})\s+(?P<version_b>{_VERSION})"
    rf"|\b(?P<version_c>(?:19|20)\d\d)\s+mistral[\s_-]+(?P<family_c>{_FAMILY})\b(?![\s_-]*\d)"
    rf"|\b(?P<named>{_NAMED})\b",
    re.IGNORECASE,
)
_FAMILY_WORD = re.compile(rf"\b({_FAMILY}|{_NAMED})\b", re.IGNORECASE)

Model = tuple[str, str | None]  # ("medium", "3.1"), ("medium", "2312"), ("large", None)


def models_named(text: str) -> frozenset[Model]:
    """Models a text names explicitly, as (family, version or None)."""
    found: set[Model] = set()
    for match in _MODEL.finditer(text):
        parts = match.groupdict()
        family = (
            parts["family_a"] or parts["family_b"] or parts["family_c"] or parts["named"]
        ).lower()
        version = (parts["version_a"] or parts["version_b"] or parts["version_c"] or "").strip(
            "()."
        ) or None
        found.add((family, version))
    return frozenset(found)


def replace_model(text: str, family: str, version: str | None) -> str | None:
    """`text` with its first model mention replaced by `family version`; None if it names none."""
    match = _MODEL.search(text)
    if not match:
        return None
    name = family.capitalize()
    if family in FAMILIES and match.group("family_a"):  # the old mention was "Mistral <family>"
        name = f"Mistral {name}"
    new = f"{name} {version}" if version else name
    return text[: match.start()] + new + text[match.end() :]


def compatible(asked: Model, named: Model) -> bool:
    """Whether a mention can be about the asked model: same family, and versions of one line
    ("3" and "3.1" are; "3" and "2023" are not); a missing version fits any."""
    if asked[0] != named[0]:
        return False
    if not asked[1] or not named[1]:
        return True
    return asked[1].split(".")[0] == named[1].split(".")[0]


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


Aliases = dict[Model, frozenset[Model]]
_DATE_TAG = re.compile(r"^\d{4}$")  # "2312": a model id's date tag, year and month


def learn_aliases(lines: list[str]) -> Aliases:
    """Which names denote the same model, from sentences naming a dated id and one version.

    "`mistral-medium-2505` - Mistral Medium 3 (current version)" makes 2505 and 3 aliases;
    "Mistral Medium (2023) was later … tagged as mistral-medium-2312" makes 2023 and 2312.
    """
    pairs: dict[Model, set[Model]] = {}
    sentences = [part for line in lines for part in re.split(r"(?<=[.!?;])\s+", line)]
    for sentence in sentences:
        named = models_named(sentence)
        for family in {f for f, _ in named}:
            versions = {v for f, v in named if f == family and v}
            tags = {v for v in versions if _DATE_TAG.match(v) and not v.startswith(("19", "20"))}
            others = versions - tags
            if len(tags) == 1 and len(others) == 1:
                tag, other = (family, next(iter(tags))), (family, next(iter(others)))
                pairs.setdefault(tag, set()).add(other)
                pairs.setdefault(other, set()).add(tag)
    return {model: frozenset(same) for model, same in pairs.items()}


def with_aliases(models: frozenset[Model], aliases: Aliases) -> frozenset[Model]:
    return frozenset(models).union(*(aliases.get(model, frozenset()) for model in models))
