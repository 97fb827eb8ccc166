"""Word files (.docx): their paragraphs and tables in document order (read by python-docx).

A heading paragraph becomes a `#` line, a list paragraph a `- ` line, another paragraph a
paragraph between blank lines, and a table's rows `| a | b |` lines (cells joined by " | ",
a merged cell once), with a separator row under a header row. Spans refer to this extracted
text. A password-protected or old .doc file, a PDF or another Office file under a .docx
name, a damaged file and a zip bomb are refused with a reason to act on.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import DocumentError
from index.loaders.damage import (
    MALFORMED,
    OLE_SIGNATURE,
    ZIP_SIGNATURE,
    check_unpacked_size,
    office_kind,
    one_line,
)
from index.loaders.loaded import Loaded, joined

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import Table, _Cell, _Row

SUFFIXES = frozenset({".docx"})


def load(path: Path, data: bytes) -> Loaded:
    """The Word file's text; DocumentError when it cannot be read."""
    return Loaded(docx_text(path, data))


def docx_text(path: Path, data: bytes) -> str:
    """The lines of the Word file's body as text (`_docx_blocks`)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    if data.startswith(OLE_SIGNATURE):
        raise DocumentError(
            path.name,
            "the Word file is password-protected or in the old .doc format; "
            "save an unprotected .docx copy",
        )
    if not data.startswith(ZIP_SIGNATURE) and b"%PDF-" in data[:1024]:
        raise DocumentError(path.name, "the file is a PDF, not a Word document; rename it .pdf")
    check_unpacked_size(path, data)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, LxmlError, EOFError) as exc:
        raise DocumentError(path.name, f"not a readable .docx file ({one_line(exc)})") from exc
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        kind = office_kind(data)
        if kind in ("an Excel workbook", "a PowerPoint presentation"):
            reason = f"the file is {kind}, not a Word document; check its type"
        else:
            reason = "not a readable .docx file (a zip archive that is not a Word document)"
        raise DocumentError(path.name, reason) from exc
    except MALFORMED as exc:
        reason = f"its content is malformed: {one_line(exc)}"
        raise DocumentError(path.name, f"not a readable .docx file ({reason})") from exc
    try:
        return joined(list(_docx_blocks(document)))
    except MALFORMED as exc:
        # e.g. a table cell merged with a row above the table's first row
        reason = f"its content is malformed: {one_line(exc)}"
        raise DocumentError(path.name, f"not a readable .docx file ({reason})") from exc


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


def _docx_header(table: Table) -> bool:
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
