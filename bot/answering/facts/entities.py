"""Which model a text is about, so that an answer about one model never quotes another's facts.

A model is (family, version): "Medium 3.1" is ("medium", "3.1"), "Pro (2023)" is ("pro",
"2023"), the id "vendor-pro-2312" is ("pro", "2312"), "Orca Pro" alone is ("pro", None).
Nothing here knows a product: the families are learnt from the documents (`learn_families`),
as the capitalised words they write right before a version number ("Pro 3", "Medium 3.1"),
before a year in brackets, or inside a dated id, and write capitalised more often than not
(so "version 3" or "tier 2" do not make "version" or "tier" a product). The bare family word
is a mention only when capitalised ("Orca Pro", not "a pro plan").
"""

from __future__ import annotations

import calendar
import functools
import re
from collections import Counter
from collections.abc import Iterable

from bot.answering.keywords import STOPWORDS

Model = tuple[str, str | None]  # ("medium", "3.1"), ("medium", "2312"), ("large", None)
Families = frozenset[str]
Aliases = dict[Model, frozenset[Model]]

# Calendar words are followed by numbers ("June 16") without naming a product.
_CALENDAR = frozenset(
    name.lower()
    for name in (*calendar.month_name[1:], *calendar.month_abbr[1:], *calendar.day_name, "sept")
)
# Words that number the parts of a document or a scheme ("Article 28", "Annex 2", "Tier 1").
_PARTS = frozenset(
    [
        "article",
        "annex",
        "appendix",
        "chapter",
        "clause",
        "exhibit",
        "figure",
        "item",
        "level",
        "note",
        "page",
        "paragraph",
        "part",
        "phase",
        "rule",
        "schedule",
        "section",
        "step",
        "table",
        "tier",
        "version",
    ]
)
_BEFORE_VERSION = re.compile(
    r"\b([A-Z][a-z][A-Za-z]{0,20})[ ]+(\d{1,2}(?:\.\d{1,2})?)"
    r"(?![\d,/:]|\.\d|\s?(?:%|[KMB]\b|GB|GPU|x\b|×))"
)
_BEFORE_YEAR = re.compile(r"\b([A-Z][a-z][A-Za-z]{0,20})\s+\((?:19|20)\d\d\)")
_IN_ID = re.compile(r"\b[a-z][a-z0-9]*-([a-z]{2,})-(?:\d{4}|latest)\b")
# Capitalised where a name is, not where a sentence, line, list item or cell starts.
_CAPITALISED = re.compile(r"(?<![.!?:\-*>|#]\s)(?<!^)\b([A-Z][a-z]+)\b", re.MULTILINE)
_LOWER = re.compile(r"\b([a-z]+)\b")

FamilyCounts = dict[str, tuple[int, int, int]]  # word -> (as a family, capitalised, lower case)


def family_counts(texts: Iterable[str]) -> FamilyCounts:
    """For each word a text puts before a version, a bracketed year or inside a dated id: how
    often it does, and how often the texts write it capitalised (not opening a sentence) and
    in lower case. One document's share; `families` merges the shares."""
    seen: Counter[str] = Counter()
    texts = list(texts)
    for text in texts:
        for pattern in (_BEFORE_VERSION, _BEFORE_YEAR, _IN_ID):
            seen.update(m.group(1).lower() for m in pattern.finditer(text))
        seen.update(_named_in_first_column(text))
    if not seen:
        return {}
    capitalised: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for text in texts:
        capitalised.update(w.lower() for w in _CAPITALISED.findall(text) if w.lower() in seen)
        lower.update(w for w in _LOWER.findall(text) if w in seen)
    return {word: (n, capitalised[word], lower[word]) for word, n in seen.items()}


_TABLE_LINE = re.compile(r"^\s*\|?([^|\n]*)\|.*$")
_NAME_CELL = re.compile(r"^[`*_]*([A-Z][a-z]+)(?: [A-Z][a-z]+)? ([A-Z][a-z]+)[`*_]*$")


def _named_in_first_column(text: str) -> list[str]:
    """The last words of the names a table's first column lists as one maker's products
    ("Harbor Max", "Harbor Mini" -> "max", "mini"): two or more names of capitalised words,
    without a version, sharing their first word."""
    found: list[str] = []
    column: list[str] = []
    for line in [*text.splitlines(), ""]:
        cell = _TABLE_LINE.match(line)
        if cell:
            column.append(cell.group(1).strip())
            continue
        by_maker: dict[str, set[str]] = {}
        for name in filter(None, map(_NAME_CELL.match, column)):
            by_maker.setdefault(name.group(1), set()).add(name.group(2).lower())
        found += [word for words in by_maker.values() if len(words) >= 2 for word in words]
        column = []
    return found


def families(shares: Iterable[FamilyCounts]) -> Families:
    """The product families of a corpus, from its documents' `family_counts`."""
    total: dict[str, list[int]] = {}
    for share in shares:
        for word, counts in share.items():
            into = total.setdefault(word, [0, 0, 0])
            for index, count in enumerate(counts):
                into[index] += count
    return frozenset(
        word
        for word, (named, capitalised, lower) in total.items()
        if named and capitalised >= max(1, lower) and word not in _CALENDAR | STOPWORDS | _PARTS
    )


@functools.lru_cache(maxsize=32)
def _patterns(known: Families) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a mention with its version, case-insensitive; a bare capitalised family word)."""
    names = "|".join(sorted((re.escape(f) for f in known), key=len, reverse=True)) or "(?!x)x"
    version = r"(?:\d+(?:\.\d+)?)(?!\.?\d)|\((?:19|20)\d\d\)"
    versioned = re.compile(
        rf"\b(?P<family_a>{names})[\s_-]+(?P<version_a>{version})"
        rf"|\b[a-z][a-z0-9]*-(?P<family_b>{names})-(?P<version_b>\d{{4}}|latest)\b"
        rf"|\b(?P<version_c>(?:19|20)\d\d)\s+(?:[A-Z][\w-]*\s+)?(?P<family_c>{names})\b"
        rf"(?![\s_-]*\d)",
        re.IGNORECASE,
    )
    bare = re.compile(rf"\b(?P<family>{'|'.join(f.capitalize() for f in known) or '(?!x)x'})\b")
    return versioned, bare


def models_named(text: str, known: Families) -> frozenset[Model]:
    """Models of the `known` families a text names, as (family, version or None)."""
    if not known:
        return frozenset()
    versioned, bare = _patterns(known)
    found: set[Model] = set()
    spans: list[tuple[int, int]] = []
    for match in versioned.finditer(text):
        parts = match.groupdict()
        family = (parts["family_a"] or parts["family_b"] or parts["family_c"]).lower()
        version = (parts["version_a"] or parts["version_b"] or parts["version_c"]).strip("()")
        found.add((family, version if version != "latest" else None))
        spans.append(match.span())
    for match in bare.finditer(text):
        if not any(start <= match.start() < end for start, end in spans):
            found.add((match.group("family").lower(), None))
    return frozenset(found)


def replace_model(text: str, family: str, version: str | None, known: Families) -> str | None:
    """`text` with its first model mention replaced by `family version`; None if it names none."""
    if not known:
        return None
    versioned, bare = _patterns(known)
    match = versioned.search(text) or bare.search(text)
    if not match:
        return None
    new = f"{family.capitalize()} {version}" if version else family.capitalize()
    return text[: match.start()] + new + text[match.end() :]


def compatible(asked: Model, named: Model) -> bool:
    """Whether a mention can be about the asked model: same family, and versions of one line
    ("3" and "3.1" are; "3" and "2023" are not); a missing version fits any."""
    if asked[0] != named[0]:
        return False
    if not asked[1] or not named[1]:
        return True
    return asked[1].split(".")[0] == named[1].split(".")[0]


def mentions_family(text: str, family: str) -> bool:
    """Whether a text mentions the family word at all, in any case."""
    return re.search(rf"\b{re.escape(family)}\b", text, re.IGNORECASE) is not None


def names_other_model(asked: frozenset[Model], text: str, known: Families) -> bool:
    """The text names models, none of them the one asked about (another family or version)."""
    named = models_named(text, known)
    if not asked or not named:
        return False
    asked_families = {family for family, _ in asked}
    same_family = {model for model in named if model[0] in asked_families}
    if not same_family:
        return True
    asked_versions = {model for model in asked if model[1]}
    named_versions = {model for model in same_family if model[1]}
    return bool(asked_versions and named_versions) and not asked_versions & named_versions


_DATE_TAG = re.compile(r"^\d{4}$")  # "2312": a model id's date tag, year and month


def learn_aliases(lines: list[str], known: Families) -> Aliases:
    """Which names denote the same model, from sentences naming a dated id and one version.

    "`vendor-pro-2505` - Orca Pro 3 (current version)" makes 2505 and 3 aliases;
    "Orca Pro (2023) was later … tagged as vendor-pro-2312" makes 2023 and 2312.
    """
    pairs: dict[Model, set[Model]] = {}
    sentences = [part for line in lines for part in re.split(r"(?<=[.!?;])\s+", line)]
    for sentence in sentences:
        named = models_named(sentence, known)
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
