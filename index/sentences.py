"""A document's quotable units, with exact spans, found once at index time.

Every loader gives text in one shape (Markdown-like lines: `#` headings, `|` table rows, list
bullets, paragraphs), and this module reads that shape into units a citation can quote:

- **sentences** of paragraphs, cut by pysbd (a maintained rule-based segmenter that knows
  abbreviations such as "e.g.", "z. B.", "approx."); a paragraph hard-wrapped in mid-sentence
  is read as one, so a quote may span its line breaks (verbatim, as the file has them): the
  cutting of prose is `index.prose`, the reading of lines into blocks is here;
- **list items**, each tied to the lead-in sentence above the list ("The current models are:");
- **table rows**, each tied to its table's header row, so that "7.20" is read under "Output".

Each unit keeps the heading path above it ("Pricing › Batch") and its exact span; a row or
item keeps the span of its header or lead-in (`lead_start`/`lead_end`, -1 when none). Front
matter, code blocks, display maths (`$$` blocks: LaTeX is markup, not prose) and markup lines
(MDX imports and component tags, `:::` fences, include directives, HTML comments, link
definitions, table separator rows) are never quotable.
Questions and bare titles are not quotable either, and an over-long unit is cut at a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.documents import Document
from index.front_matter import front_matter
from index.prose import MAX_QUOTE_CHARS, TERMINAL, WRAP_WIDTH, quotable, sentence_spans, trimmed

SPLITTER_SIGNATURE = "units-v3"
MAX_ROW_CHARS = 1200  # a table row is read whole or not at all when it fits
HEADING_SEPARATOR = " › "

LABEL_WORDS = 8  # a paragraph's last line this short that is no sentence labels a list below
SENTENCE, ITEM, ROW = "sentence", "item", "row"

# A line ends where str.splitlines ends one: LF, CR, and the other Unicode line breaks.
_LINE = re.compile(
    r"[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]*(?:\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]|$)"
)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)(?:[-*+•]|\d{1,3}[.)])\s+")
_QUOTE_LEADER = re.compile(r"^\s*(?:>\s?)+")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_SEPARATOR = re.compile(
    r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$"  # "---", "|:--|--:|"
    r"|^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?\s*$"  # "-|-": one dash a cell, with a pipe
)
_FENCE = re.compile(r"^\s*(```|~~~|\$\$\s*$)")  # code, and display maths on "$$" lines
_MARKUP = re.compile(
    r"^\s*(?:"
    r"(?:import|export)\s.*|"  # MDX imports and exports
    r"</?[A-Za-z][\w.:-]*(?:\s[^<>]*)?/?>\s*|"  # a line that is only a tag (HTML or component)
    r"<!--.*|.*-->\s*|"  # HTML comments
    r":::.*|"  # admonition fences
    r"\[!(?:INCLUDE|NOTE|TIP|IMPORTANT|WARNING|CAUTION)[^\]]*\].*|"  # directives
    r"\[[^\]]+\]:\s+\S+.*|"  # link definitions
    r"[-*_=]{3,}\s*|"  # rules
    r"\{[%{].*|"  # template tags
    r"\$\$.*\$\$\s*"  # display maths on one line
    r")$",
    re.IGNORECASE,
)
# A cell that holds a value (an amount, a decimal number): a row with one is not a header,
# while a header may name years ("| Model | 2024 | 2025 |").
_VALUE_CELL = re.compile(r"\|\s*(?:(?:[$€£]|[A-Z]{3}\s)\s*\d|\d+[.,]\d)")
# A setext heading's underline: "=====" makes level 1, "-----" level 2.
_UNDERLINE = re.compile(r"^\s{0,3}(=+|-{2,})\s*$")


@dataclass(frozen=True)
class Sentence:
    """`document.text[start:end]`, a quotable unit, and the heading path above it.

    `kind` is SENTENCE, ITEM (a list item) or ROW (a table row); `lead_start:lead_end` is the
    span of a row's header row or an item's lead-in sentence, (-1, -1) when it has none.
    """

    start: int
    end: int
    heading: str
    kind: str = SENTENCE
    lead_start: int = -1
    lead_end: int = -1

    def context(self, title: str) -> str:
        """The title and heading path that are embedded with the unit."""
        return f"{title} — {self.heading}" if self.heading else title


def split_sentences(document: Document) -> list[Sentence]:
    """The document's quotable units in order of their spans (see the module's docstring)."""
    return _Reader(document.text, document.language).read()


def embedding_text(sentence: Sentence, document_text: str, title: str) -> str:
    """What is embedded for a unit: its context, a row's header or an item's lead-in, itself."""
    own = document_text[sentence.start : sentence.end]
    if sentence.lead_start >= 0:
        lead = document_text[sentence.lead_start : sentence.lead_end]
        return f"{sentence.context(title)}: {lead}\n{own}"
    return f"{sentence.context(title)}: {own}"


class _Reader:
    """Reads lines into units; one pass, keeping the heading path and open blocks."""

    def __init__(self, text: str, language: str) -> None:
        self.text = text
        self.language = language
        self.units: list[Sentence] = []
        self.path: list[tuple[int, str]] = []  # (level, heading)
        self.paragraph: list[tuple[int, int]] = []  # spans of the open paragraph's lines
        self.table_header: tuple[int, int] | None = None
        self.first_row: tuple[int, int] | None = None  # a table's first row, header or not
        self.in_table = False
        self.wrapped = False  # the document's prose is hard-wrapped
        self.last_prose: tuple[int, int] | None = None  # the lead-in of a list below
        self.list_lead: tuple[int, int] | None = None
        self.item: list[tuple[int, int]] = []  # spans of the open list item's lines
        self.last_item: tuple[int, int] | None = None  # the list's last closed item
        self.levels: list[tuple[int, tuple[int, int]]] = []  # (indent, lead-in) of open levels

    @property
    def heading(self) -> str:
        return HEADING_SEPARATOR.join(h for _, h in self.path)

    def read(self) -> list[Sentence]:
        lines = [
            (m.start(), m.start() + len(m.group().rstrip("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")))
            for m in _LINE.finditer(self.text)
        ]
        index = front_matter(self.text)[1]  # the same block the metadata is read from
        self.wrapped = _hard_wrapped(self.text, lines[index:])
        in_fence = False
        while index < len(lines):
            start, end = lines[index]
            line = self.text[start:end]
            index += 1
            if _FENCE.match(line):
                self._close_all()
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            following = self.text[slice(*lines[index])] if index < len(lines) else ""
            if self._setext(start, end, line, following):
                index += 1
                continue
            outer_pipes_left_out = "|" in line and "|" in following and not self.in_table
            if outer_pipes_left_out and _TABLE_SEPARATOR.match(following):
                self._close_paragraph()
                self._close_item()
                self._row(start, end, line)
                continue
            self._line(start, end, line)
        self._close_all()
        return sorted(self.units, key=lambda u: u.start)

    def _line(self, start: int, end: int, line: str) -> None:
        if not line.strip():
            self._close_paragraph()
            self._close_item()
            self._close_table()
            return
        heading = _HEADING.match(line)
        if heading:
            self._close_all()
            level = len(heading.group(1))
            self.path = [(lv, h) for lv, h in self.path if lv < level]
            self.path.append((level, _plain(heading.group(2))))
            self.last_prose = None
            return
        if _TABLE_ROW.match(line) or (self.in_table and "|" in line):
            self._close_paragraph()
            self._close_item()
            self._row(start, end, line)
            return
        self._close_table()
        if _MARKUP.match(line) or _TABLE_SEPARATOR.match(line):
            self._close_paragraph()
            self.last_prose = None
            return
        bullet = _BULLET.match(line)
        if bullet:
            self._close_paragraph()
            parent = self.item_span()
            self._close_item()
            self._enter_level(len(bullet.group(1).expandtabs(4)), parent)
            self.item = [(start + bullet.end(), end)]
            return
        if self.item and (line[:1].isspace() or self._lazy(line)):  # the item goes on
            self.item.append((start + len(line) - len(line.lstrip()), end))
            return
        self._close_item()
        self.list_lead = self.last_item = None
        leader = _QUOTE_LEADER.match(line)
        offset = leader.end() if leader else len(line) - len(line.lstrip())
        if leader and _MARKUP.match(line[offset:]):
            return
        self.paragraph.append((start + offset, end))

    def _setext(self, start: int, end: int, line: str, following: str) -> bool:
        """A line underlined with "=" or "-" that opens a paragraph is a heading."""
        underline = _UNDERLINE.match(following)
        if not underline or self.paragraph or self.in_table or not line.strip():
            return False
        if _BULLET.match(line) or _HEADING.match(line) or _MARKUP.match(line) or "|" in line:
            return False
        if self.item and line[:1].isspace():
            return False
        self._close_all()
        level = 1 if underline.group(1).startswith("=") else 2
        self.path = [(lv, h) for lv, h in self.path if lv < level]
        self.path.append((level, _plain(line.strip())))
        self.last_prose = None
        return True

    def _row(self, start: int, end: int, line: str) -> None:
        """A table line. The first row is the header only when a separator row follows it
        (Markdown's rule; the HTML and Word loaders write one under a header row) and it holds
        no values; otherwise every row is a row of data with no header."""
        if _TABLE_SEPARATOR.match(line):
            first, self.first_row = self.first_row, None
            if first is not None and not _VALUE_CELL.search(self.text[first[0] : first[1]]):
                self.table_header = first
            elif first is not None:
                self._add_row(first)
            return
        span = trimmed(self.text, start + len(line) - len(line.lstrip()), end)
        if not any(cell.strip() for cell in self.text[span[0] : span[1]].strip("| ").split("|")):
            return
        if not self.in_table:
            self.in_table = True
            self.first_row = span
            return
        self._flush_first_row()
        self._add_row(span)

    def _add_row(self, span: tuple[int, int]) -> None:
        if span[1] - span[0] <= MAX_ROW_CHARS:
            lead = self.table_header or (-1, -1)
            self.units.append(Sentence(span[0], span[1], self.heading, ROW, lead[0], lead[1]))

    def _flush_first_row(self) -> None:
        if self.first_row is not None:
            first, self.first_row = self.first_row, None
            self._add_row(first)

    def _close_table(self) -> None:
        if self.in_table:
            self.last_prose = None
        self._flush_first_row()
        self.in_table = False
        self.table_header = None

    def _close_all(self) -> None:
        self._close_paragraph()
        self._close_item()
        self._close_table()
        self.list_lead = self.last_item = None

    def _lazy(self, line: str) -> bool:
        """A line that goes on with the open item's unfinished sentence, not indented
        (Markdown's lazy continuation): the item's last line ends no sentence and this one
        starts in lower case."""
        last = self.text[self.item[-1][0] : self.item[-1][1]]
        return line[:1].islower() and not TERMINAL.search(last)

    def item_span(self) -> tuple[int, int] | None:
        """The open list item's span, from its first line to its last."""
        return (self.item[0][0], self.item[-1][1]) if self.item else self.last_item

    def _enter_level(self, indent: int, parent: tuple[int, int] | None) -> None:
        """The lead-in of an item at this indent: the list's lead-in at the first level, the
        item above it for an item indented under it."""
        if self.list_lead is None:
            self.levels = [(indent, self.last_prose or (-1, -1))]
        else:
            while len(self.levels) > 1 and self.levels[-1][0] > indent:
                self.levels.pop()
            if indent > self.levels[-1][0] and parent is not None:
                self.levels.append((indent, parent))
        self.list_lead = self.levels[-1][1]

    def _close_item(self) -> None:
        if not self.item:
            return
        spans, self.item = self.item, []
        # Trimmed: an item's continuation line may end in spaces (the quote would too).
        start, end = self.last_item = trimmed(self.text, spans[0][0], spans[-1][1])
        lead = self.list_lead or (-1, -1)
        if end - start <= MAX_QUOTE_CHARS:
            if quotable(self.text[start:end], item=True):
                self.units.append(Sentence(start, end, self.heading, ITEM, lead[0], lead[1]))
            return
        for begin, finish in self._sentences(spans):
            self.units.append(Sentence(begin, finish, self.heading, ITEM, lead[0], lead[1]))

    def _close_paragraph(self) -> None:
        """The open paragraph's sentences; its last line is what a list below it is read
        under: its last sentence, or a label line ("Strengths") that is not a sentence."""
        if not self.paragraph:
            return
        spans, self.paragraph = self.paragraph, []
        units = [Sentence(b, e, self.heading) for b, e in self._sentences(spans)]
        self.units += units
        last_line = trimmed(self.text, *spans[-1])
        if units and units[-1].end == last_line[1]:
            self.last_prose = (units[-1].start, units[-1].end)
        elif len(self.text[last_line[0] : last_line[1]].split()) <= LABEL_WORDS:
            self.last_prose = last_line
        else:
            self.last_prose = None

    def _sentences(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The quotable sentences of consecutive lines (`index.prose.sentence_spans`)."""
        return sentence_spans(self.text, spans, self.wrapped, self.language)


def _hard_wrapped(text: str, lines: list[tuple[int, int]]) -> bool:
    """Whether the document's prose is hard-wrapped: no prose line is longer than wrapped
    lines are (a document of long lines puts each paragraph or post on one line)."""
    lengths = [
        end - start
        for start, end in lines
        if end > start and not _TABLE_ROW.match(text[start:end]) and "http" not in text[start:end]
    ]
    return bool(lengths) and max(lengths) <= WRAP_WIDTH + 20


def _plain(heading: str) -> str:
    """A heading's words: Markdown links, emphasis and code marks removed."""
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[*_`]+", "", heading).strip()
