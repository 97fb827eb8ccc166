"""Turn a file's bytes into the text that is chunked and cited, one module per format.

For plain text and Markdown the text is the file's own text, decoded from UTF-8 and nothing
else changed, so a citation's span `[start:end]` is a span of the file as a reader opens it.
For HTML, PDF, DOCX, XLSX and CSV it is the text extracted from the file (spans refer to that
text); a DOCX document gives its paragraphs and table rows (cells joined by " | ") in document
order, a spreadsheet its sheets' rows as table rows.

Any other bytes under a supported name raise DocumentError with a one-line reason saying what
is wrong: empty, binary, not UTF-8, encrypted, another kind of file under the name, damaged,
or a Word file or workbook that would unpack too large (a zip bomb). No other exception
escapes, whatever the bytes (tests/test_fuzz_loaders.py).

Each format's module has its SUFFIXES and `load(path, data) -> Loaded` (`loaded`): `text`
(plain text and Markdown), `html`, `pdf`, `word` (.docx) and `sheets` (.xlsx, .csv). Beside
them, `damage` tells damaged and mislabelled files apart, and `properties` reads the date a
file's own properties give it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from index.errors import DocumentError
from index.loaders import html, pdf, sheets, text, word
from index.loaders.damage import MAX_UNPACKED_BYTES
from index.loaders.loaded import Loaded, Pages, page_at
from index.loaders.properties import embedded_date

__all__ = [
    "DOCX_SUFFIXES",
    "HTML_SUFFIXES",
    "MAX_UNPACKED_BYTES",
    "PDF_SUFFIXES",
    "SHEET_SUFFIXES",
    "SUPPORTED_SUFFIXES",
    "TEXT_SUFFIXES",
    "Loaded",
    "Pages",
    "embedded_date",
    "extracted",
    "is_supported",
    "load",
    "load_text",
    "page_at",
]

TEXT_SUFFIXES = text.SUFFIXES
HTML_SUFFIXES = html.SUFFIXES
PDF_SUFFIXES = pdf.SUFFIXES
DOCX_SUFFIXES = word.SUFFIXES
SHEET_SUFFIXES = sheets.SUFFIXES
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES | SHEET_SUFFIXES

_LOADERS: dict[str, Callable[[Path, bytes], Loaded]] = {
    **dict.fromkeys(TEXT_SUFFIXES, text.load),
    **dict.fromkeys(HTML_SUFFIXES, html.load),
    **dict.fromkeys(PDF_SUFFIXES, pdf.load),
    **dict.fromkeys(DOCX_SUFFIXES, word.load),
    **dict.fromkeys(SHEET_SUFFIXES, sheets.load),
}


def is_supported(path: str | Path) -> bool:
    return os.path.splitext(path)[1].lower() in SUPPORTED_SUFFIXES


def extracted(path: Path) -> bool:
    """True when the cited text is extracted from the file rather than being the file's text."""
    return path.suffix.lower() not in TEXT_SUFFIXES


def load_text(path: Path, data: bytes) -> str:
    """The text of a supported file; DocumentError when there is none to index."""
    return load(path, data).text


def load(path: Path, data: bytes) -> Loaded:
    """The text of a supported file, with its pages; DocumentError when there is none."""
    suffix = path.suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        raise DocumentError(path.name, f"unsupported file type {suffix or '(none)'}")
    if not data:
        raise DocumentError(path.name, "the file is empty (0 bytes)")
    loaded = loader(path, data)
    if not loaded.text.strip():
        raise DocumentError(path.name, "the file has no text to index")
    return loaded
