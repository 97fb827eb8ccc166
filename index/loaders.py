"""Turn a file's bytes into the text that is chunked and cited.

For plain text and Markdown the text is the file's own text, decoded from UTF-8 and nothing
else changed, so a citation's span `[start:end]` is a span of the file as a reader opens it.
For HTML, PDF and DOCX it is the text extracted from the file (spans refer to that text);
a DOCX document gives its paragraphs and table rows (cells joined by " | ") in document order.

Any other bytes under a supported name raise DocumentError with a one-line reason saying what
is wrong: empty, binary, not UTF-8, encrypted, another kind of file under the name, damaged,
or a Word file that would unpack too large (a zip bomb). No other exception escapes, whatever
the bytes (tests/test_fuzz_loaders.py).
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import DocumentError

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import _Cell, _Row

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIXES = frozenset({".pdf"})
DOCX_SUFFIXES = frozenset({".docx"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES

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


def load_text(path: Path, data: bytes) -> str:
    """The text of a supported file; DocumentError when there is none to index."""
    suffix = path.suffix.lower()
    if not data and suffix in SUPPORTED_SUFFIXES:
        raise DocumentError(path.name, "the file is empty (0 bytes)")
    if suffix in TEXT_SUFFIXES:
        text = _decode(path, data)
    elif suffix in HTML_SUFFIXES:
        text = _html_text(_decode(path, data))
    elif suffix in PDF_SUFFIXES:
        text = _pdf_text(path, data)
    elif suffix in DOCX_SUFFIXES:
        text = _docx_text(path, data)
    else:
        raise DocumentError(path.name, f"unsupported file type {suffix or '(none)'}")
    if not text.strip():
        raise DocumentError(path.name, "the file has no text to index")
    return text


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
    """Visible text of an HTML page, one line per block element."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "head"})
    _BLOCK = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "section",
            "article",
            "table",
            "ul",
            "ol",
            "pre",
            "blockquote",
            "header",
            "footer",
            "title",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)

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
    return _tidy_lines("".join(parser.parts))


def _tidy_lines(text: str) -> str:
    """Each line with its runs of whitespace collapsed to one space; empty lines dropped."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _pdf_text(path: Path, data: bytes) -> str:
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
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if pages and not text:
        raise DocumentError(
            path.name,
            "the PDF has no text to index (scanned pages or images only?); "
            "use a copy with selectable text",
        )
    return text


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
        return _tidy_lines("\n".join(_docx_blocks(document)))
    except _MALFORMED as exc:
        # e.g. a table cell merged with a row above the table's first row
        reason = f"its content is malformed: {_one_line(exc)}"
        raise DocumentError(path.name, f"not a readable .docx file ({reason})") from exc


def _office_kind(data: bytes) -> str:
    """What a zip archive holds, judged by its parts' names: "an Excel workbook", …"""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return "a damaged zip archive"
    for folder, kind in _OFFICE_FOLDERS:
        if any(name.startswith(folder) for name in names):
            return kind
    return "a zip archive"


def _check_unpacked_size(path: Path, data: bytes) -> None:
    """Refuse a zip whose parts would unpack to more than MAX_UNPACKED_BYTES (a zip bomb):
    reading a part never gives more than its declared size, so the declared sizes decide."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        problem = _one_line(exc)
        if data.startswith(_ZIP_SIGNATURE):  # a zip's index is at its end: a cut file loses it
            problem = f"the zip archive is damaged or cut short: {problem}"
        raise DocumentError(path.name, f"not a readable .docx file ({problem})") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise DocumentError(
            path.name,
            f"not a readable .docx file (it would unpack to {unpacked / 2**20:,.0f} MiB, "
            f"too large; the limit is {MAX_UNPACKED_BYTES // 2**20} MiB)",
        )


def _one_line(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _docx_blocks(container: DocxDocument | _Cell) -> Iterator[str]:
    """The text of each paragraph, and of each table row, of `container` in document order."""
    from docx.text.paragraph import Paragraph

    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
        else:
            yield from (_docx_row(row) for row in block.rows)


def _docx_row(row: _Row) -> str:
    """A table row as one line: its cells' text joined by " | " (a merged cell counted once)."""
    cells: list[_Cell] = []
    for cell in row.cells:  # python-docx repeats the same object for each column a cell spans
        if not cells or cell is not cells[-1]:
            cells.append(cell)
    texts = [" ".join(" ".join(_docx_blocks(cell)).split()) for cell in cells]
    return " | ".join(texts) if any(texts) else ""
