"""Turn a file's bytes into the text that is chunked and cited.

For plain text and Markdown the text is the file's own text, decoded from UTF-8 and nothing
else changed, so a citation's span `[start:end]` is a span of the file as a reader opens it.
For HTML, PDF, DOCX, XLSX and CSV it is the text extracted from the file (spans refer to that
text); a DOCX document gives its paragraphs and table rows (cells joined by " | ") in document
order, a spreadsheet its sheets' rows as table rows (`index.sheets`).

Any other bytes under a supported name raise DocumentError with a one-line reason saying what
is wrong: empty, binary, not UTF-8, encrypted, another kind of file under the name, damaged,
or a Word file or workbook that would unpack too large (a zip bomb). No other exception
escapes, whatever the bytes (tests/test_fuzz_loaders.py).
"""

from __future__ import annotations

import bisect
import io
import logging
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from index.errors import DocumentError
from index.sheets import SHEET_SUFFIXES, sheet_text

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import _Cell, _Row

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".mdx"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIXES = frozenset({".pdf"})
DOCX_SUFFIXES = frozenset({".docx"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES | SHEET_SUFFIXES

# Encrypted Word files and old .doc files are OLE compound files, not zip archives.
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SIGNATURE = b"PK\x03\x04"
_OFFICE_FOLDERS = (
    ("word/", "a Word document"),
    ("xl/", "an Excel workbook"),
    ("ppt/", "a PowerPoint presentation"),
)
# A Word file's parts are read into memory whole: a larger total is refused (a zip bomb).
MAX_UNPACKED_BYTES = 256 * 2**20
# What a parser of a damaged file raises besides its own errors: a missing attribute read as
# None, a number that is not one, nesting deeper than Python's stack.
_MALFORMED: tuple[type[Exception], ...] = (
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    ArithmeticError,
    RecursionError,
)


def is_supported(path: str | Path) -> bool:
    return os.path.splitext(path)[1].lower() in SUPPORTED_SUFFIXES


def extracted(path: Path) -> bool:
    """True when the cited text is extracted from the file rather than being the file's text."""
    return path.suffix.lower() not in TEXT_SUFFIXES


Pages = tuple[tuple[int, int], ...]  # (offset where a page's text starts, its 1-based number)


@dataclass(frozen=True)
class Loaded:
    """A file's text, and for a paged file (PDF) where each page's text starts in it."""

    text: str
    pages: Pages = ()


def page_at(pages: Pages, offset: int) -> int | None:
    """The 1-based page that holds `offset` of the text; None for a file without pages."""
    at = bisect.bisect_right([start for start, _ in pages], offset) - 1
    return pages[at][1] if at >= 0 else None


def load_text(path: Path, data: bytes) -> str:
    """The text of a supported file; DocumentError when there is none to index."""
    return load(path, data).text


def load(path: Path, data: bytes) -> Loaded:
    """The text of a supported file, with its pages; DocumentError when there is none."""
    suffix = path.suffix.lower()
    pages: Pages = ()
    if not data and suffix in SUPPORTED_SUFFIXES:
        raise DocumentError(path.name, "the file is empty (0 bytes)")
    if suffix in TEXT_SUFFIXES:
        text = _decode(path, data)
    elif suffix in HTML_SUFFIXES:
        text = _html_text(_decode(path, data))
    elif suffix in PDF_SUFFIXES:
        text, pages = _pdf_text(path, data)
    elif suffix in DOCX_SUFFIXES:
        text = _docx_text(path, data)
    elif suffix in SHEET_SUFFIXES:
        if suffix == ".xlsx":
            _check_unpacked_size(path, data)
        text = sheet_text(path, data, _MALFORMED)
    else:
        raise DocumentError(path.name, f"unsupported file type {suffix or '(none)'}")
    if not text.strip():
        raise DocumentError(path.name, "the file has no text to index")
    return Loaded(text, pages)


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        raise DocumentError(path.name, "binary data in a text file (it contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            path.name, f"not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8"
        ) from exc


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


def _html_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return _joined(parser.lines)


def _joined(lines: list[str]) -> str:
    """Lines as text: runs of blank lines become one, none at either end."""
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept)


def _pdf_text(path: Path, data: bytes) -> tuple[str, Pages]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    if b"%PDF-" not in data[:1024]:  # where the PDF standard allows its header
        kind = _office_kind(data) if data.startswith(_ZIP_SIGNATURE) else ""
        if data.startswith(_OLE_SIGNATURE):
            kind = "an old-format or password-protected Office file"
        if kind:
            advice = "rename it .docx" if kind == "a Word document" else "check its type"
            raise DocumentError(path.name, f"the file is {kind}, not a PDF; {advice}")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(path.name, "the PDF is encrypted; save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DependencyError as exc:
        reason = f"the PDF needs a library to be read: {_one_line(exc)}"
        raise DocumentError(path.name, reason) from exc
    except (PyPdfError, zlib.error, NotImplementedError) as exc:
        # NotImplementedError: a filter name pypdf does not know, often a damaged one.
        raise DocumentError(path.name, f"not a readable PDF ({_one_line(exc)})") from exc
    except _MALFORMED as exc:  # damage pypdf's parser does not report as its own error
        raise DocumentError(path.name, f"not a readable PDF ({_one_line(exc)})") from exc
    kept = [(number, page.strip()) for number, page in enumerate(pages, 1) if page.strip()]
    text = "\n\n".join(page for _, page in kept)
    starts, offset = [], 0
    for number, page in kept:  # pages are joined by a blank line
        starts.append((offset, number))
        offset += len(page) + 2
    if pages and not text:
        raise DocumentError(
            path.name,
            "the PDF has no text to index (scanned pages or images only?); "
            "use a copy with selectable text",
        )
    return text, tuple(starts)


def _docx_text(path: Path, data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    if data.startswith(_OLE_SIGNATURE):
        raise DocumentError(
            path.name,
            "the Word file is password-protected or in the old .doc format; "
            "save an unprotected .docx copy",
        )
    if not data.startswith(_ZIP_SIGNATURE) and b"%PDF-" in data[:1024]:
        raise DocumentError(path.name, "the file is a PDF, not a Word document; rename it .pdf")
    _check_unpacked_size(path, data)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, LxmlError, EOFError) as exc:
        raise DocumentError(path.name, f"not a readable .docx file ({_one_line(exc)})") from exc
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        kind = _office_kind(data)
        if kind in ("an Excel workbook", "a PowerPoint presentation"):
            reason = f"the file is {kind}, not a Word document; check its type"
        else:
            reason = "not a readable .docx file (a zip archive that is not a Word document)"
        raise DocumentError(path.name, reason) from exc
    except _MALFORMED as exc:
        reason = f"its content is malformed: {_one_line(exc)}"
        raise DocumentError(path.name, f"not a readable .docx file ({reason})") from exc
    try:
        return _joined(list(_docx_blocks(document)))
    except _MALFORMED as exc:
        # e.g. a table cell merged with a row above the table's first row
        reason = f"its content is malformed: {_one_line(exc)}"
        raise DocumentError(path.name, f"not a readable .docx file ({reason})") from exc


def embedded_date(path: Path, data: bytes) -> tuple[str | None, str]:
    """The date a PDF's or Word file's own properties give it (last modified, else created),
    as ISO 8601 with where it was read; (None, "") for other files, files without one, and
    properties that cannot be read (the text was read already: the date is only metadata)."""
    from pypdf.errors import PyPdfError

    unreadable: tuple[type[Exception], ...] = (
        PyPdfError,
        zipfile.BadZipFile,
        zlib.error,
        *_MALFORMED,
    )
    suffix = path.suffix.lower()
    try:
        if suffix in PDF_SUFFIXES:
            from pypdf import PdfReader

            info = PdfReader(io.BytesIO(data)).metadata
            pairs = [("modified", info and info.modification_date)]
            pairs.append(("created", info and info.creation_date))
            where = "PDF properties"
        elif suffix in DOCX_SUFFIXES:
            import docx

            properties = docx.Document(io.BytesIO(data)).core_properties
            pairs = [("modified", properties.modified), ("created", properties.created)]
            if properties.author == "python-docx":  # its template's dates, not the document's
                pairs = []
            where = "Word properties"
        elif suffix == ".xlsx":
            from openpyxl import load_workbook

            book = load_workbook(io.BytesIO(data), read_only=True)
            pairs = [("modified", book.properties.modified), ("created", book.properties.created)]
            book.close()
            where = "workbook properties"
        else:
            return None, ""
    except unreadable:
        logger.info("%s: its date properties cannot be read", path.name, exc_info=True)
        return None, ""  # the text was read: damaged properties leave it undated, no more
    for name, value in pairs:
        if value:
            return value.date().isoformat(), f"{where} ({name})"
    return None, ""


def _office_kind(data: bytes) -> str:
    """What a zip archive holds, judged by its parts' names: "an Excel workbook", …"""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return "a damaged zip archive"
    for folder, kind in _OFFICE_FOLDERS:
        if any(name.startswith(folder) for name in names):
            return kind
    return "a zip archive"


def _check_unpacked_size(path: Path, data: bytes) -> None:
    """Refuse a zip whose parts would unpack to more than MAX_UNPACKED_BYTES (a zip bomb):
    reading a part never gives more than its declared size, so the declared sizes decide."""
    kind = f"{path.suffix.lower()} file"  # a Word document or a workbook
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as exc:
        problem = _one_line(exc)
        if data.startswith(_ZIP_SIGNATURE):  # a zip's index is at its end: a cut file loses it
            problem = f"the zip archive is damaged or cut short: {problem}"
        raise DocumentError(path.name, f"not a readable {kind} ({problem})") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise DocumentError(
            path.name,
            f"not a readable {kind} (it would unpack to {unpacked / 2**20:,.0f} MiB, "
            f"too large; the limit is {MAX_UNPACKED_BYTES // 2**20} MiB)",
        )


def _one_line(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _docx_blocks(container: DocxDocument | _Cell) -> Iterator[str]:
    """The lines of `container` in document order, in the shape every loader gives: a heading
    paragraph as a `#` line, a list paragraph as a `- ` line, another paragraph between blank
    lines, a table's rows as `| a | b |` lines (its first row its header)."""
    from docx.text.paragraph import Paragraph

    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            text = " ".join(block.text.split())
            if not text:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            level = _HEADING_STYLE.match(style)
            if level or style == "Title":
                yield "#" * (int(level.group(1)) if level else 1) + " " + text
                yield ""
            elif style.startswith("List"):
                yield "- " + text
            else:
                yield text
                yield ""
        else:
            rows = [_docx_row(row) for row in block.rows]
            rows = [row for row in rows if row]
            if rows and _docx_header(block):
                rows.insert(1, "|" + " --- |" * (rows[0].count(" | ") + 1))
            yield from rows
            yield ""


def _docx_header(table: Any) -> bool:
    """Whether a Word table's first row is its header: marked to repeat as a header row, or
    all of its text bold, or a table of three or more columns."""
    from docx.oxml.ns import qn

    rows = table.rows
    if not rows:
        return False
    first = rows[0]
    if first._tr.trPr is not None and first._tr.trPr.find(qn("w:tblHeader")) is not None:
        return True
    runs = [run for cell in first.cells for p in cell.paragraphs for run in p.runs if run.text]
    return (bool(runs) and all(run.bold for run in runs)) or len(table.columns) >= 3


_HEADING_STYLE = re.compile(r"^Heading (\d)$")


def _docx_row(row: _Row) -> str:
    """A table row as one `| a | b |` line (a merged cell counted once), "" when empty."""
    cells: list[_Cell] = []
    for cell in row.cells:  # python-docx repeats the same object for each column a cell spans
        if not cells or cell is not cells[-1]:
            cells.append(cell)
    texts = [" ".join(" ".join(_docx_blocks(cell)).split()).replace("|", "/") for cell in cells]
    return "| " + " | ".join(texts) + " |" if any(texts) else ""
