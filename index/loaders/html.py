"""HTML pages: their visible text, in the shape every loader gives (`index.loaders.loaded`).

Headings become `#` lines, list items `- ` lines, table rows `| a | b |` lines (a row of
`<th>` cells is its table's header), other blocks paragraphs between blank lines; scripts,
styles and the page's head are left out. Spans refer to this extracted text.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from index.loaders.loaded import Loaded, joined
from index.loaders.text import decode

SUFFIXES = frozenset({".html", ".htm"})


def load(path: Path, data: bytes) -> Loaded:
    """The page's visible text; DocumentError when its bytes are not UTF-8 text."""
    return Loaded(html_text(decode(path, data)))


def html_text(html: str) -> str:
    """The visible text of an HTML page."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return joined(parser.lines)


class _TextExtractor(HTMLParser):
    """Visible text of an HTML page in the shape every loader gives (`index.sentences`):
    headings as `#` lines, list items as `- ` lines, table rows as `| a | b |` lines (the
    first row of a table is its header), other blocks as paragraphs between blank lines."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "head"})
    _BLOCK = frozenset(
        {"p", "div", "br", "section", "article", "ul", "ol", "pre", "blockquote", "header"}
        | {"footer", "title", "table", "dl", "dt", "dd", "main", "nav", "aside", "figure"}
    )
    _HEADINGS: ClassVar[dict[str, int]] = {f"h{level}": level for level in range(1, 7)}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._text: list[str] = []
        self._prefix = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._header_row = False
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._HEADINGS:
            self._flush(blank=True)
            self._prefix = "#" * self._HEADINGS[tag] + " "
        elif tag == "li":
            self._flush()
            self._prefix = "- "
        elif tag == "tr":
            self._flush()
            self._row = []
            self._header_row = True
        elif tag in ("td", "th"):
            self._cell = []
            self._header_row = self._header_row and tag == "th"
        elif tag in self._BLOCK and self._row is None:  # a <p> in a cell stays in its cell
            self._flush(blank=tag != "br")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).replace("|", "/").split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if any(self._row):
                self.lines.append("| " + " | ".join(self._row) + " |")
                if self._header_row:  # a row of <th> cells: the table's header
                    self.lines.append("|" + " --- |" * len(self._row))
            self._row = None
        elif (tag in self._HEADINGS or tag in self._BLOCK) and self._row is None:
            self._flush(blank=True)
        elif tag == "li":
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._cell is not None:
            self._cell.append(data)
        elif self._row is None:
            self._text.append(data)

    def _flush(self, blank: bool = False) -> None:
        text = " ".join("".join(self._text).split())
        if text:
            self.lines.append(self._prefix + text)
        self._text, self._prefix = [], ""
        if blank and self.lines and self.lines[-1]:
            self.lines.append("")

    def close(self) -> None:
        super().close()
        self._flush()

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        """A "<![" section; one of no known kind ("<![,") is a comment, as browsers read it
        (Python 3.11's parser raises AssertionError on it)."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i)
            return -1 if end < 0 else end + 1
