"""What a quotable unit claims about what a question asks, read in the question's own words.

Nothing here knows a subject: the words come from the question, the entity from the names the
corpus taught (`bot.answering.facts.entities`). `claims_of` yields a unit's claims, each a value
on a topic; `bot.answering.facts.conflicts` groups them and finds where sources disagree.
- **A date**, when the question asks when or for a date: the date a unit writes right after
  naming the asked version ("updated to Pro 3.1 on August 13, 2025", "| Pro 3.1 | 2025-08-12
  |"), or, when no version is asked, right after one of the question's words ("released on
  …"); the unit, or its row's header, holds one of the question's words.
- **An amount**, for other questions that ask for a value: a number with its magnitude written
  right before one of the question's words ("128K context window", "131K-token context").
- **Yes or no**, for a yes/no question: each of the question's words a unit affirms or denies.
  A word is denied when a negation opens its clause before it ("you can't download it, run it
  yourself, or inspect its weights", "no multimodal") or when the unit writes its opposite in
  general English (`OPPOSITES`: open/closed, available/unavailable, …).
- **One of two alternatives** the question offers ("open or closed?", "multimodal or
  text-only?"): a unit takes an alternative when it affirms that word and not the other.
- **A restriction**: "<word>-only" in one unit, and in another that word
  joined with one of the question's words ("text and images" for a question about images).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.answering.attributes import ROLE_WORDS, common, zipf
from bot.answering.compose import CELL_MARKUP, cells, named_in
from bot.answering.facts.entities import Families, Model, models_named
from bot.answering.facts.grounding import asking_sentences, polar
from bot.answering.keywords import STOPWORDS, stem
from bot.answering.retrieval import Candidate
from index.documents import first_date

MAX_VALUE_WORDS = 8  # a labelled value longer than this is a description, not a value
VERY_COMMON_ZIPF = 6.0  # "them", "first", "time": words too common to name a topic
# Opposites in general English, by stem: a unit writing one denies the other.
_PAIRS = (
    ("open", "close"),
    ("open", "proprietari"),
    ("public", "privat"),
    ("avail", "unavail"),
    ("support", "unsupport"),
    ("enabl", "disabl"),
    ("includ", "exclud"),
    ("allow", "prohibit"),
    ("permit", "prohibit"),
    ("option", "mandatori"),
    ("free", "paid"),
    ("true", "fals"),
)
OPPOSITES: dict[str, frozenset[str]] = {}
for _a, _b in _PAIRS:
    OPPOSITES[_a] = OPPOSITES.get(_a, frozenset()) | {_b}
    OPPOSITES[_b] = OPPOSITES.get(_b, frozenset()) | {_a}

Tokens = list[tuple[str, int, int]]  # (stem, start, end) of each word of a text
_WORD = re.compile(r"[A-Za-zÀ-ÿ][\w'’-]*|\d[\d.,]*")
_NEGATION = re.compile(
    r"^(?:no|not|never|non|without|cannot|neither|nor|none|\w+n['’]t)$", re.IGNORECASE
)
# What ends a negation's reach: the clause's end, a cell's edge, a contrast.
_CLAUSE_END = re.compile(r"[.;:!?()|—–]|\b(?:but|however|although|while|whereas|unlike)\b", re.I)
_AMOUNT = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(k|m|b|thousand|million|billion)?\b[- ]?",
    re.IGNORECASE,
)
_MAGNITUDE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}
# A question asking for a date: one opening with "when", or asking for a date by name.
_ASKS_DATE = re.compile(
    r"^\W*(?:(?:and|so|but|et|und|e|y)\s+)?(?:when|quand|wann|quando|cu[aá]ndo)\b"
    r"|\b(?:dates?|datum|fecha|data)\b",
    re.IGNORECASE,
)
_ALTERNATIVE = re.compile(r"([\w-]+)\s*,?\s+or\s+(?:only\s+|on\s+)?([\w-]+)\s*\?", re.IGNORECASE)
_FIELD = re.compile(r"^[\s>*+-]*\**([A-Z][^:*|\n]{0,40}?)\**\s*:\s*\**\s*([^\n]{1,80}?)\s*$")
_ONLY = re.compile(r"\b([A-Za-z]{3,})-only\b", re.IGNORECASE)
_JOINED = r"\b{w}\s+(?:and|plus|&)\s+(?:\w+\s+)?(\w+)|\b(\w+)\s+(?:and|plus|&)\s+{w}\b"


@dataclass(frozen=True)
class Topic:
    key: str  # stable: "date:releas:3.1", "amount:context", "yes-no:weight"
    name: str  # for people: "the date (“released”, 3.1)"

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


@dataclass(frozen=True)
class Claim:
    topic: Topic
    value: str  # compared: "2025-08-12", "128000", "yes"
    label: str  # shown
    candidate: Candidate


def question_words(question: str, known: Families) -> dict[str, str]:
    """The question's words that can name what it asks about, by stem ("weight" ->
    "weights"), with the parts of hyphenated ones ("open-weight": "open", "weight"): not
    function words, names (capitalised inside a sentence), product families, numbers, the words
    naming the parties, nor words as common as "them" or "first"."""
    found: dict[str, str] = {}
    for match in _WORD.finditer(question):
        word = match.group().strip("'’-")
        before = question[: match.start()].rstrip()
        if word[:1].isupper() and before and before[-1] not in ".?!:":
            continue  # a name
        if "-" in word and (set(word.lower().split("-")) & known or any(c.isdigit() for c in word)):
            continue  # an id ("vendor-pro-2312")
        for lower in dict.fromkeys([word.lower(), *word.lower().split("-")]):
            if (
                lower in STOPWORDS | ROLE_WORDS
                or lower in known
                or len(lower) < 3
                or lower[0].isdigit()
                or zipf(lower) >= VERY_COMMON_ZIPF
            ):
                continue
            found.setdefault(stem(lower), lower)
    return found


def _specific(words: dict[str, str]) -> dict[str, str]:
    """The words not common in any English text (a yes/no or an amount is read on these)."""
    return {s: w for s, w in words.items() if not common(w)}


def claims_of(
    question: str,
    words: dict[str, str],
    asked: frozenset[Model],
    candidate: Candidate,
    known: Families,
) -> Iterator[Claim]:
    text = candidate.sentence.text
    tokens = _tokens(text)
    if any(_ASKS_DATE.search(asking) for asking in asking_sentences(question)):
        if asked:  # dates and amounts of no named entity would mix every entity's
            yield from _date_claims(words, asked, candidate, tokens)
    elif polar(question):
        yield from _yes_no_claims(words, candidate, tokens, _names(question))
    elif asked:
        yield from _amount_claims(_specific(words), candidate, tokens)
    yield from _alternative_claims(question, candidate, tokens)
    yield from _restriction_claims(words, candidate)
    yield from _field_claims(question, words, candidate, known)


def _field_claims(
    question: str, words: dict[str, str], candidate: Candidate, known: Families
) -> Iterator[Claim]:
    """A labelled value: a table cell under its header in a row the question names, or a
    "License: Proprietary" line. It counts when its label, or its value of a few words, holds
    one of the question's words; the entity is the row's first cell or the models named."""
    sentence = candidate.sentence
    if sentence.kind == "row" and sentence.lead:
        row = cells(sentence.text)
        if not any(named_in(cell, question) for cell in row):
            return  # a row of a table the question names nothing of
        fields = list(zip(cells(sentence.lead), row, strict=False))[1:]
        entity = _entity(models_named(row[0], known)) or row[0].lower()
    else:
        match = _FIELD.match(sentence.text)
        fields = [(match.group(1), match.group(2))] if match else []
        named = models_named(sentence.text, known) or models_named(candidate.context, known)
        entity = _entity(named)
    for label, value in fields:
        value = CELL_MARKUP.sub("", value).strip(" .")
        label_stems = {s for s, _, _ in _tokens(label)}
        value_stems = [s for s, _, _ in _tokens(value)]
        if not value_stems or not label_stems or len(value_stems) > MAX_VALUE_WORDS:
            continue
        if label_stems & set(words) or set(value_stems) & set(_specific(words)):
            key = " ".join(sorted(label_stems))
            topic = Topic(f"field:{key}:{entity}", f"the {label.strip().lower()}")
            yield Claim(topic, " ".join(value_stems), value, candidate)


def _entity(models: frozenset[Model]) -> str:
    return ",".join(sorted(f"{family} {version or ''}".strip() for family, version in models))


def _tokens(text: str) -> Tokens:
    """(stem, start, end) of each word of the text."""
    return [
        (stem(m.group().lower().strip("'’-")), m.start(), m.end()) for m in _WORD.finditer(text)
    ]


def _date_claims(
    words: dict[str, str], asked: frozenset[Model], candidate: Candidate, tokens: Tokens
) -> Iterator[Claim]:
    text = candidate.sentence.text
    held = {s for s, _, _ in _tokens(f"{text} {candidate.sentence.lead}")} & set(words)
    if not held:
        return
    versions = sorted(v for _, v in asked if v)
    if versions:
        anchors = [
            m.end()
            for version in versions
            for m in re.finditer(rf"(?<![\d.]){re.escape(version)}(?![\d.]*\d)", text)
        ]
    else:
        anchors = [end for s, _, end in tokens if s in held]
    term = words[sorted(held)[0]]
    topic = Topic(
        f"date:{sorted(held)[0]}:{','.join(versions)}",
        f"the date ({term}{', ' + ', '.join(versions) if versions else ''})",
    )
    for anchor in anchors:
        window = text[anchor : anchor + 40]
        date = first_date(window)
        if date and not _other_event(window, set(words)):
            yield Claim(topic, date, date, candidate)
            return


_PARTICIPLE = re.compile(r"\b([a-z]{3,}ed)\b")


def _other_event(window: str, asked: set[str]) -> bool:
    """Whether another event's verb stands before the date ("was announced on May 2"
    read for "when was it released?"): a participle that is not one of the question's words."""
    digit = re.search(r"\d", window)
    before = window[: digit.start()] if digit else window
    month = re.search(r"\b[A-Z][a-z]+\s*$", before)  # "May" of "May 2, 2024"
    before = before[: month.start()] if month else before
    return any(stem(m) not in asked for m in _PARTICIPLE.findall(before.lower()))


def _amount_claims(words: dict[str, str], candidate: Candidate, tokens: Tokens) -> Iterator[Claim]:
    text = candidate.sentence.text
    for match in _AMOUNT.finditer(text):
        after = [t for t in tokens if t[1] >= match.end()][:2]
        if not match.group(2) or not after or after[0][1] - match.end() > 1:
            continue
        if re.search(r"(?:\bper|\bevery|\beach|/)\s*$", text[: match.start()], re.IGNORECASE):
            continue  # a unit of pricing ("per 1M tokens"), not an amount stated
        named = next((s for s, _, _ in after if s in words), None)
        if named is None:
            continue
        number = float(match.group(1).replace(",", "")) * _MAGNITUDE[match.group(2).lower()]
        topic = Topic(f"amount:{named}", f"the {words[named]}")
        yield Claim(topic, f"{number:g}", match.group().strip(" -"), candidate)


def _yes_no_claims(
    words: dict[str, str], candidate: Candidate, tokens: Tokens, named: frozenset[str]
) -> Iterator[Claim]:
    text = candidate.sentence.text
    for word_stem, word in words.items():
        if word_stem not in OPPOSITES:
            continue  # a yes/no property has an opposite ("open", "supported")
        said = _polarity(word_stem, text, tokens, named)
        if said:
            value, label = said
            yield Claim(Topic(f"yes-no:{word_stem}", f"“{word}”"), value, label, candidate)


def _polarity(
    word_stem: str, text: str, tokens: Tokens, named: frozenset[str] = frozenset()
) -> tuple[str, str] | None:
    """("no", label) when the text denies the word, ("yes", label) when it affirms it."""
    affirmed, negated = None, None
    for i, (s, _, end) in enumerate(tokens):
        if s == word_stem:
            cue = _negation_before(i, text, tokens)
            if cue is None:
                affirmed = affirmed or _with_next(i, text, tokens)
            elif not _names_elsewhere(i, text, tokens, named):
                negated = negated or text[tokens[cue][1] : end]
        elif s in OPPOSITES.get(word_stem, ()) and _negation_before(i, text, tokens) is None:
            return "no", _with_next(i, text, tokens)
    if affirmed and negated:
        return None  # "Pro supports it, but Lite does not": a comparison decides nothing
    return ("no", negated) if negated else ("yes", affirmed) if affirmed else None


def _names(question: str) -> frozenset[str]:
    """The capitalised words of the question, lower case: the names it asks about."""
    return frozenset(w.lower() for w in re.findall(r"\b[A-Z][\w-]*", question))


def _names_elsewhere(i: int, text: str, tokens: Tokens, named: frozenset[str]) -> bool:
    """Whether the clause after token i names a place or thing the question does not ("not
    available in China" for a question about the EU): a denial about something else."""
    rest = text[tokens[i][2] :]
    end = _CLAUSE_END.search(rest)
    clause = rest[: end.start()] if end else rest
    names = {w.lower() for w in re.findall(r"\b[A-Z][\w-]*", clause)}
    return bool(names - named)


def _negation_before(i: int, text: str, tokens: Tokens) -> int | None:
    """The index of a negation in the same clause before token i, within twelve words."""
    for j in range(i - 1, max(-1, i - 13), -1):
        if _CLAUSE_END.search(text[tokens[j][2] : tokens[j + 1][1]]):
            return None
        if _NEGATION.match(text[tokens[j][1] : tokens[j][2]]):
            return j
    return None


def _with_next(i: int, text: str, tokens: Tokens) -> str:
    """The word at token i, and the next one when it is a plain word close by."""
    start, end = tokens[i][1], tokens[i][2]
    if i + 1 < len(tokens):
        following = text[tokens[i + 1][1] : tokens[i + 1][2]]
        gap = text[end : tokens[i + 1][1]]
        plain = following.isalpha() and following.lower() not in STOPWORDS
        if gap in (" ", "-") and plain and not _CLAUSE_END.search(following):
            end = tokens[i + 1][2]
    return text[start:end]


def _alternative_claims(question: str, candidate: Candidate, tokens: Tokens) -> Iterator[Claim]:
    match = _ALTERNATIVE.search(question)
    if not match:
        return
    first, second = (match.group(1).lower(), match.group(2).lower())
    if first in STOPWORDS or second in STOPWORDS:
        return
    text = candidate.sentence.text
    named = _names(question)
    said = {alt: _polarity(stem(alt), text, tokens, named) for alt in (first, second)}
    yes = [alt for alt in (first, second) if said[alt] and said[alt][0] == "yes"]  # type: ignore[index]
    no = [alt for alt in (first, second) if said[alt] and said[alt][0] == "no"]  # type: ignore[index]
    topic = Topic(f"either:{stem(first)}:{stem(second)}", f"{first} or {second}")
    if len(yes) == 1:
        yield Claim(topic, yes[0], yes[0], candidate)
    elif not yes and len(no) == 1:
        other = second if no[0] == first else first
        yield Claim(topic, other, other, candidate)


def _restriction_claims(words: dict[str, str], candidate: Candidate) -> Iterator[Claim]:
    text = candidate.sentence.text
    for match in _ONLY.finditer(text):
        word = match.group(1).lower()
        if word in STOPWORDS:
            continue
        topic = Topic(f"only:{stem(word)}", f"whether only {word}")
        yield Claim(topic, "only", match.group(), candidate)
    for word in words.values():
        joined = re.search(_JOINED.format(w=re.escape(word)), text, re.IGNORECASE)
        other = joined and (joined.group(1) or joined.group(2))
        if joined and other and other.lower() not in STOPWORDS and "only" not in joined.group():
            for restricted in (word, other.lower()):
                topic = Topic(f"only:{stem(restricted)}", f"whether only {restricted}")
                yield Claim(topic, "more", joined.group(), candidate)
