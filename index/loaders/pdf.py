"""PDF files: the text of their pages (read by pypdf), with where each page starts in it.

Pages with text are joined by a blank line, and `Loaded.pages` says where each begins, so a
citation can name its page (`index.loaders.loaded.page_at`). An encrypted PDF, a scanned one
without text, and another kind of file under a .pdf name are refused with a reason to act on.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

from index.errors import DocumentError
from index.loaders.damage import MALFORMED, OLE_SIGNATURE, ZIP_SIGNATURE, office_kind, one_line
from index.loaders.loaded import Loaded, Pages

SUFFIXES = frozenset({".pdf"})


def load(path: Path, data: bytes) -> Loaded:
    """The PDF's text and its pages; DocumentError when it has none that can be read."""
    text, pages = pdf_text(path, data)
    return Loaded(text, pages)


def pdf_text(path: Path, data: bytes) -> tuple[str, Pages]:
    """The text of the PDF's pages joined by blank lines, and where each page starts."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    if b"%PDF-" not in data[:1024]:  # where the PDF standard allows its header
        kind = office_kind(data) if data.startswith(ZIP_SIGNATURE) else ""
        if data.startswith(OLE_SIGNATURE):
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
        reason = f"the PDF needs a library to be read: {one_line(exc)}"
        raise DocumentError(path.name, reason) from exc
    except (PyPdfError, zlib.error, NotImplementedError) as exc:
        # NotImplementedError: a filter name pypdf does not know, often a damaged one.
        raise DocumentError(path.name, f"not a readable PDF ({one_line(exc)})") from exc
    except MALFORMED as exc:  # damage pypdf's parser does not report as its own error
        raise DocumentError(path.name, f"not a readable PDF ({one_line(exc)})") from exc
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
