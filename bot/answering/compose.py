"""How the offline answer is laid out from the units it quotes (`index.sentences`).

A sentence is quoted on its own line. A table row is quoted under its table's header row, so
that a value is read with its column ("Output" above "7.20"); rows of one table share one
header. A list item is quoted under its list's lead-in sentence; a question that asks for a
list ("which…", "list…", "what are…") gets the other items of that list too. Every line is a
verbatim quote followed by its citation marker; nothing is quoted twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.answering.retrieval import Candidate

MAX_LIST_ITEMS = 12  # items of one list quoted for a list question
MAX_ANSWER_CHARS = 1200  # unless the question asks for a list

# Questions asking for an enumeration, in the languages procurebot frames answers in.
# "which clouds…", "what steps…": which/what with a plural noun within four words.
_PLURAL = r"[\w-]{2,}s(?<!ss)(?<!us)(?<!is)(?<!does)(?<!was)(?<!has)(?<!its)(?<!this)"
_ASKS_FOR_LIST = re.compile(
    rf"(?:^|[.?!:]\s+)(?:please\s+)?(?:list|enumerate|name all)\b"
    rf"|\b(?:what are|which are|(?:which|what)\s+(?:[\w-]+\s+){{0,3}}?{_PLURAL}\b"
    rf"|quels|quelles|welche\s+\w+\s+(?:sind|gibt)|quali sono|cu[aá]les son)",
    re.IGNORECASE,
)


def asks_for_list(question: str) -> bool:
    return bool(_ASKS_FOR_LIST.search(question))


@dataclass(frozen=True)
class Block:
    """One quoted unit, with the lead-in or header it is read under (None for a sentence)."""

    unit: Candidate
    lead: Candidate | None


def lead_of(candidate: Candidate) -> Candidate | None:
    """The header row or lead-in of a row or list item, as a quotable candidate."""
    sentence = candidate.sentence
    if sentence.lead_start < 0 or not sentence.lead:
        return None
    lead = replace(
        sentence,
        start=sentence.lead_start,
        end=sentence.lead_end,
        text=sentence.lead,
        kind="lead",
        lead="",
        lead_start=-1,
        lead_end=-1,
    )
    return replace(candidate, sentence=lead)


# A sentence that opens by pointing back ("For example, a 408 error…", "This applies…") is
# read with the sentence before it; general English (and the framing languages') discourse
# words, nothing of any corpus.
_POINTS_BACK = re.compile(
    r"(?:for (?:example|instance)|e\.\s?g\.|in (?:this|that|such|either|both) cases?|this|"
    r"these|that|those|such|it|they|its|their|otherwise|however|also|additionally|"
    r"in addition|then|par exemple|zum beispiel|ad esempio|por ejemplo)\b",
    re.IGNORECASE,
)
ADJACENT = 3  # characters between two sentences of one paragraph (a space, a line break)


def with_antecedents(
    chosen: Sequence[Candidate], candidates: Sequence[Candidate]
) -> list[Candidate]:
    """`chosen`, each sentence that points back right after the sentence it points to (the
    one before it in its paragraph, when retrieved), which is moved there if chosen too;
    nothing twice, not even the same words at two places."""
    result: list[Candidate] = []
    said: set[str] = set()
    for candidate in chosen:
        if normalised(candidate.sentence.text) in said:
            continue
        before = _sentence_before(candidate, candidates) if _points_back(candidate) else None
        for unit in (before, candidate):
            if unit is not None and normalised(unit.sentence.text) not in said:
                said.add(normalised(unit.sentence.text))
                result.append(unit)
    return result


def normalised(text: str) -> str:
    """The text as compared for duplicates: lower case, spaces collapsed."""
    return " ".join(text.lower().split())


def _points_back(candidate: Candidate) -> bool:
    sentence = candidate.sentence
    opening = _POINTS_BACK.match(sentence.text) if sentence.kind == "sentence" else None
    return opening is not None and not opening.group().isupper()  # "IT administrators…"


def _sentence_before(candidate: Candidate, candidates: Sequence[Candidate]) -> Candidate | None:
    """The sentence just before, in the same paragraph: the text between them, read in the
    passage that holds both, is a space or a line break, not a blank line."""
    sentence = candidate.sentence
    chunk = candidate.passage.chunk
    for other in candidates:
        before = other.sentence
        if (
            before.source == sentence.source
            and before.kind == "sentence"
            and chunk.start <= before.start
            and 0 <= sentence.start - before.end <= ADJACENT
        ):
            gap = chunk.text[before.end - chunk.start : sentence.start - chunk.start]
            return other if not gap.strip() and gap.count("\n") <= 1 else None
    return None


def with_siblings(
    chosen: Sequence[Candidate], candidates: Sequence[Candidate], question: str
) -> list[Candidate]:
    """For a list question, the items of the lists the chosen units belong to or lead into
    follow them, in the document's order; otherwise `chosen` as it is."""
    if not asks_for_list(question):
        return list(chosen)
    result: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for candidate in chosen:
        sentence = candidate.sentence
        if sentence.kind == "item" and sentence.lead_start >= 0:
            lead_start = sentence.lead_start  # an item: its list
        else:
            lead_start = sentence.start  # a sentence: the list it leads into, if any
        siblings = _items_under(sentence.source, lead_start, candidates)[:MAX_LIST_ITEMS]
        for unit in [candidate, *siblings] if sentence.kind != "item" else siblings or [candidate]:
            key = (unit.sentence.source, unit.sentence.start)
            if key not in seen:
                seen.add(key)
                result.append(unit)
    return result


def _items_under(
    source: str, lead_start: int, candidates: Sequence[Candidate], depth: int = 0
) -> list[Candidate]:
    """The items read under the unit at `lead_start`, each followed by the items nested under
    it (two levels deep), in the document's order."""
    items = sorted(
        (
            c
            for c in candidates
            if c.sentence.source == source
            and c.sentence.kind == "item"
            and c.sentence.lead_start == lead_start
        ),
        key=lambda c: c.sentence.start,
    )
    if depth >= 2:
        return items
    return [
        unit
        for item in items
        for unit in [item, *_items_under(source, item.sentence.start, candidates, depth + 1)]
    ]


def render(
    units: Sequence[Candidate], cite: Callable[[Candidate], int], quote: Callable[[str], str]
) -> str:
    """The quotes as Markdown lines: units under their lead (cited once), in the order given,
    except that units sharing a lead are gathered under its first appearance."""
    groups: list[tuple[Candidate | None, list[Candidate]]] = []
    by_lead: dict[tuple[str, int], int] = {}
    leads = {(lead.sentence.source, lead.sentence.start) for lead in map(lead_of, units) if lead}
    for unit in units:
        lead = lead_of(unit)
        if lead is None:
            if (unit.sentence.source, unit.sentence.start) not in leads:  # shown as a lead
                groups.append((None, [unit]))
            continue
        key = (lead.sentence.source, lead.sentence.start)
        if key in by_lead:
            groups[by_lead[key]][1].append(unit)
        else:
            by_lead[key] = len(groups)
            groups.append((lead, [unit]))
    lines: list[str] = []
    printed: set[tuple[str, int]] = set()  # each unit once, its nested items under it
    nested = {(m.sentence.source, m.sentence.start) for _, members in groups for m in members}

    def show(unit: Candidate, depth: int) -> None:
        key = (unit.sentence.source, unit.sentence.start)
        if key in printed:
            return
        printed.add(key)
        lines.append(f"{'  ' * depth}- {quote(unit.sentence.text)} [{cite(unit)}]")
        if key in by_lead:  # an item with nested items
            for member in groups[by_lead[key]][1]:
                show(member, depth + 1)

    for lead, members in groups:
        if lead is None:
            show(members[0], 0)
        elif (lead.sentence.source, lead.sentence.start) not in nested:  # else under its parent
            show(lead, 0)
    return "\n".join(lines)


CELL_MARKUP = re.compile(r"[`*_]+|<[^>]+>")


def cells(row: str) -> list[str]:
    """A table row's cells as plain text ("| `gpt-4o` | 2024-08-06 |" -> ["gpt-4o", ...])."""
    return [CELL_MARKUP.sub("", cell).strip() for cell in row.strip().strip("|").split("|")]


def named_in(cell: str, question: str) -> bool:
    """The question names the cell's value: the whole value, as a word of its own."""
    if len(cell) < 2 or not any(ch.isalnum() for ch in cell):
        return False
    pattern = rf"(?<![\w.-]){re.escape(cell)}(?![\w-]|\.\d)"
    return re.search(pattern, question, re.IGNORECASE) is not None


def rows_asked(candidates: Sequence[Candidate], question: str) -> list[Candidate]:
    """`candidates` without the table rows that the question rules out: where the question
    names a value of some rows of a table (a product in the first column, a version in the
    second), only that table's rows naming the most of the question's values stay, and the
    rows of tables of the same kind (alike headers: another vendor's price list) that name
    none go. A table is its own record of which entities it describes; no list of names is
    needed."""
    by_table: dict[tuple[str, int], list[tuple[int, Candidate]]] = {}
    for candidate in candidates:
        sentence = candidate.sentence
        if sentence.kind == "row":
            named = sum(named_in(cell, question) for cell in cells(sentence.text))
            by_table.setdefault((sentence.source, sentence.lead_start), []).append(
                (named, candidate)
            )
    dropped: set[int] = set()
    naming: list[set[str]] = []  # the headers of the tables with rows the question names
    for rows in by_table.values():
        most = max(named for named, _ in rows)
        if most:
            dropped |= {id(c) for named, c in rows if named < most}
            naming.append(_header_words(rows[0][1]))
    for rows in by_table.values():  # a table of the same kind that names none of them
        header = _header_words(rows[0][1])
        if header and max(n for n, _ in rows) == 0 and any(_alike(header, h) for h in naming):
            dropped |= {id(c) for _, c in rows}
    return [c for c in candidates if id(c) not in dropped]


def _header_words(row: Candidate) -> set[str]:
    return {word.lower() for cell in cells(row.sentence.lead) for word in cell.split()}


def _alike(first: set[str], second: set[str]) -> bool:
    """Headers of the same kind of table: the shorter shares at least half its words."""
    return bool(first and second) and len(first & second) * 2 >= min(len(first), len(second))
