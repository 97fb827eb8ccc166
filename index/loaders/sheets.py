"""Price sheets as documents: the rows of `.xlsx` workbooks and `.csv` files as table rows.

A spreadsheet is read into the shape every loader gives (`index.sentences`): each worksheet is
a `#` heading with its name, and each block of rows (rows up to a blank row) a Markdown table
whose first row is its header, so that every row is a quotable unit read under its header
("| Orca Pro | 1.00 | 7.20 |" under "| Product | Input | Output |"). A CSV file is one table
under a heading named after the file. Cells are written on one line (a "|" in a cell becomes
"/"), numbers without float noise (7.2, not 7.2000000000000002), dates as ISO 8601; columns
empty in every row of a block are left out. Workbooks are read with openpyxl (cached formula
values, not formulas); CSV files are UTF-8 (a byte-order mark is allowed), their delimiter
(comma, semicolon, tab or pipe) found by the standard library's sniffer.

A file that cannot be read raises DocumentError with a one-line reason, and a workbook that
would unpack too large (a zip bomb) is refused before it is opened.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from pathlib import Path

from index.errors import DocumentError
from index.loaders.damage import MALFORMED, check_unpacked_size
from index.loaders.loaded import Loaded

SUFFIXES = frozenset({".xlsx", ".csv"})
MAX_CELLS = 500_000  # read at most this many cells of a workbook or CSV file
_DELIMITERS = ",;\t|"
Cell = object


def load(path: Path, data: bytes) -> Loaded:
    """The rows of a workbook or CSV file as tables; DocumentError when it cannot be read."""
    if path.suffix.lower() == ".xlsx":
        check_unpacked_size(path, data)
    return Loaded(sheet_text(path, data))


def sheet_text(path: Path, data: bytes) -> str:
    """The text of a workbook or CSV file; DocumentError when it cannot be read."""
    if path.suffix.lower() == ".csv":
        return _csv_text(path, data)
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    failures: tuple[type[Exception], ...] = (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,  # "zip file version 8.4": a damaged zip directory
        InvalidFileException,
        *MALFORMED,
    )
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets = [
                (sheet.title, _limited(sheet.iter_rows(values_only=True), path))
                for sheet in book.worksheets
            ]
            lines = [line for title, rows in sheets for line in _sheet_lines(title, rows)]
        finally:
            book.close()
    except DocumentError:
        raise
    except failures as exc:
        reason = " ".join(str(exc).split())[:140] or type(exc).__name__
        raise DocumentError(path.name, f"not a readable .xlsx workbook ({reason})") from exc
    return "\n".join(lines).strip()


def _csv_text(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        raise DocumentError(path.name, "binary data in a CSV file (it contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            path.name, f"not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8"
        ) from exc
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], _DELIMITERS)
    except csv.Error:
        dialect = csv.excel  # one column, or nothing to tell by: commas
    try:
        rows = list(_limited(csv.reader(io.StringIO(text, newline=""), dialect), path))
    except csv.Error as exc:
        raise DocumentError(path.name, f"not a readable CSV file ({exc})") from exc
    return "\n".join(_sheet_lines(path.stem, rows)).strip()


def _limited(rows: Iterable[Iterable[Cell]], path: Path) -> list[list[Cell]]:
    kept: list[list[Cell]] = []
    cells = 0
    for row in rows:
        values = list(row)
        cells += len(values)
        if cells > MAX_CELLS:
            raise DocumentError(path.name, f"the sheet has more than {MAX_CELLS:,} cells")
        kept.append(values)
    return kept


def _sheet_lines(title: str, rows: list[list[Cell]]) -> Iterator[str]:
    """A heading named `title`, then each block of rows as a Markdown table."""
    yield f"# {_cell(title)}"
    yield ""
    block: list[list[str]] = []
    for row in [*rows, []]:
        cells = [_cell(value) for value in row]
        if any(cells):
            block.append(cells)
            continue
        if block:
            yield from _table(block)
            yield ""
        block = []


def _table(block: list[list[str]]) -> Iterator[str]:
    width = max(len(row) for row in block)
    rows = [row + [""] * (width - len(row)) for row in block]
    used = [i for i in range(width) if any(row[i] for row in rows)]
    for index, row in enumerate(rows):
        yield "| " + " | ".join(row[i] for i in used) + " |"
        if index == 0 and len(rows) > 1:
            yield "| " + " | ".join("---" for _ in used) + " |"


def _cell(value: object) -> str:
    """A cell's value on one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    elif isinstance(value, datetime):
        text = value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    elif isinstance(value, (date, time)):
        text = value.isoformat()
    else:
        text = str(value)
    return " ".join(text.replace("|", "/").split())
