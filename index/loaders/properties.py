"""The date a file's own properties give it: a PDF's, a Word file's or a workbook's.

Only metadata: the file's text was read already (`index.loaders`), so properties that cannot
be read leave the document undated here, and `index.documents` looks for a date elsewhere.
"""

from __future__ import annotations

import io
import logging
import zipfile
import zlib
from pathlib import Path

from index.loaders.damage import MALFORMED
from index.loaders.pdf import SUFFIXES as PDF_SUFFIXES
from index.loaders.word import SUFFIXES as WORD_SUFFIXES

logger = logging.getLogger(__name__)


def embedded_date(path: Path, data: bytes) -> tuple[str | None, str]:
    """The date a PDF's or Word file's own properties give it (last modified, else created),
    as ISO 8601 with where it was read; (None, "") for other files, files without one, and
    properties that cannot be read (the text was read already: the date is only metadata)."""
    from pypdf.errors import PyPdfError

    unreadable: tuple[type[Exception], ...] = (
        PyPdfError,
        zipfile.BadZipFile,
        zlib.error,
        *MALFORMED,
    )
    suffix = path.suffix.lower()
    try:
        if suffix in PDF_SUFFIXES:
            from pypdf import PdfReader

            info = PdfReader(io.BytesIO(data)).metadata
            pairs = [("modified", info and info.modification_date)]
            pairs.append(("created", info and info.creation_date))
            where = "PDF properties"
        elif suffix in WORD_SUFFIXES:
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
