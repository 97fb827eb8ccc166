"""A vendor questionnaire read: a .csv or .xlsx of questions in, a `Questionnaire` out.

bot.questionnaires.answering answers its rows in order, bot.questionnaires.writer writes the
answered sheet and its report, and bot.questionnaires.journal keeps each answered row on disk
so an interrupted run resumes. The types they share are in bot.questionnaires.types.

Raises QuestionnaireError (bot.questionnaires.types) when the file cannot be read as a
questionnaire: the person fixes the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, time
from pathlib import Path

from bot.questionnaires.types import Questionnaire, QuestionnaireError

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024  # when the caller gives no limit (the entry points pass settings')
MAX_ROWS = 500
SUFFIXES = (".csv", ".xlsx")
QUESTION_HEADERS = frozenset(
    {
        *("question", "questions", "question(s)", "query", "queries"),
        *("frage", "fragen", "domanda", "domande", "pregunta", "preguntas"),
        *("pergunta", "perguntas", "vraag", "vragen", "questions posées", "question posée"),
    }
)
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls and password-protected workbooks
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")  # the stream of a password-protected .xlsx
_ZIP_SIGNATURE = b"PK\x03\x04"
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # never in text a person typed


# Reading


def read_questionnaire(path: Path, max_bytes: int = MAX_BYTES) -> Questionnaire:
    """The questionnaire in a .csv or .xlsx file; QuestionnaireError says what to fix."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        hint = " (save it as .xlsx)" if suffix == ".xls" else ""
        raise QuestionnaireError(
            f"{path.name}: unsupported file type {suffix or '(none)'}{hint}: "
            "upload a .csv or .xlsx file."
        )
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise QuestionnaireError(
                f"{path.name} is {size / 2**20:.1f} MiB, over the limit of "
                f"{max_bytes / 2**20:g} MiB: split it into smaller files."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise QuestionnaireError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise QuestionnaireError(f"{path.name} is empty: it needs a header row and questions.")
    notices: list[str] = []
    if suffix == ".csv":
        table = _csv_table(path.name, _csv_text(path.name, data, notices))
    else:
        table = _xlsx_table(path.name, data)
    questionnaire = _questionnaire(path.name, table)
    sha256 = hashlib.sha256(data).hexdigest()
    return replace(questionnaire, name=path.name, sha256=sha256, notices=tuple(notices))


def _csv_text(name: str, data: bytes, notices: list[str]) -> str:
    """UTF-8 (with or without a byte order mark), UTF-16 with one, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise QuestionnaireError(
                f"{name} is not valid UTF-16 text: export it again as CSV UTF-8."
            ) from exc
    if data.startswith(_ZIP_SIGNATURE):
        raise QuestionnaireError(
            f"{name} is a zip archive (a workbook?), not CSV text: name it .xlsx, or export it "
            "as CSV UTF-8."
        )
    if b"\x00" in data:
        raise QuestionnaireError(
            f"{name} contains binary data (NUL bytes), not CSV text: export it again as CSV."
        )
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        error = exc
    try:  # Excel's plain "CSV" on a Western-European Windows
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = ""
    if not text or _CONTROL.search(text):
        raise QuestionnaireError(
            f"{name} is not UTF-8 text (invalid byte at offset {error.start}): save it as UTF-8 "
            "(in Excel: CSV UTF-8)."
        ) from error
    notices.append(
        f"{name} is not UTF-8: it was read as Windows-1252 (Excel's Western European CSV); "
        "check that accented letters look right, or save it as CSV UTF-8."
    )
    return text


def _csv_table(name: str, text: str) -> list[list[str]]:
    try:
        return _non_blank(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise QuestionnaireError(
                f"{name} has a cell of more than {csv.field_size_limit():,} characters: shorten "
                "it (a question is cut to its first few thousand characters anyway)."
            ) from exc
        raise QuestionnaireError(f"{name} is not valid CSV ({exc}): export it again.") from exc


def _delimiter(text: str) -> str:
    """`,`, `;` or tab: as sniffed when the header row has it, else the header's most frequent."""
    sample = text[:16_384]
    header = next((line for line in sample.splitlines() if line.strip()), "")
    present = [mark for mark in ",;\t" if mark in header]
    if not present:
        return "\x1f"  # one column: commas inside the questions are not separators
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        sniffed = ","
    return sniffed if sniffed in present else max(present, key=header.count)


def _xlsx_table(name: str, data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    broken = (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError, InvalidFileException)
    try:  # SyntaxError: the XML parsers' ParseError
        with warnings.catch_warnings():
            # Excel features openpyxl does not read (validation, styles) do not matter here.
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if not book.worksheets:
                    raise QuestionnaireError(f"{name} has no worksheet: put the questions in one.")
                rows = book.worksheets[0].iter_rows(values_only=True)
                return _non_blank([_text(value) for value in row] for row in rows)
            finally:
                book.close()
    except broken as exc:
        raise QuestionnaireError(f"{name} is {_what_it_is(data)}.") from exc


def _what_it_is(data: bytes) -> str:
    """What a file that openpyxl cannot read is, and what to do about it."""
    if data.startswith(_OLE_SIGNATURE) and _ENCRYPTED in data:
        return "protected by a password: remove the password in Excel and save it again"
    if data.startswith(_OLE_SIGNATURE):
        return "an old Excel 97–2003 workbook (.xls): save it as .xlsx"
    names = _zip_names(data)
    if any(name.startswith("word/") for name in names):
        return "a Word document, not a workbook: save the questionnaire as .xlsx or as CSV UTF-8"
    if "content.xml" in names:
        return "an OpenDocument spreadsheet: save it as .xlsx or as CSV UTF-8"
    return "not a workbook procurebot can read: save it as .xlsx (no password) or as CSV UTF-8"


def _zip_names(data: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return []


def _text(value: object) -> str:
    """A cell's value as the text a person sees."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time():
        return value.date().isoformat()
    return str(value)


def _non_blank(rows: Iterable[Sequence[str]]) -> list[list[str]]:
    """Rows with some text, trailing empty cells cut; reading stops well past the row limit."""
    table: list[list[str]] = []
    for row in rows:
        cells = list(row)
        while cells and not cells[-1].strip():
            cells.pop()
        if cells:
            table.append(cells)
        if len(table) > 4 * MAX_ROWS:
            break
    return table


def _questionnaire(name: str, table: list[list[str]]) -> Questionnaire:
    if not table:
        raise QuestionnaireError(f"{name} is empty: it needs a header row and questions.")
    width = max(len(row) for row in table)
    grid = [tuple(row + [""] * (width - len(row))) for row in table]
    header, body = grid[0], grid[1:]
    column = _question_column(name, header, body or [header])
    if header[column].strip().endswith(("?", "？")) and not _is_question_header(header[column]):
        # No header row: the first row is already a question.
        header, body = tuple(f"column {i + 1}" for i in range(width)), grid
        header = (*header[:column], "question", *header[column + 1 :])
    if not body:
        raise QuestionnaireError(
            f"{name} has a header row but no rows under it: put one question per row."
        )
    if not any(row[column].strip() for row in body):
        raise QuestionnaireError(
            f"{name} has no question text in its question column {header[column]!r}: "
            "put one question per row."
        )
    if sum(bool(row[column].strip()) for row in body) > MAX_ROWS or len(body) > 4 * MAX_ROWS:
        raise QuestionnaireError(
            f"{name} has more than {MAX_ROWS} questions: split it into files of at most "
            f"{MAX_ROWS} questions each."
        )
    columns = tuple(cell.strip() or f"column {i + 1}" for i, cell in enumerate(header))
    return Questionnaire(columns, tuple(body), column)


def _is_question_header(name: str) -> bool:
    return name.strip().strip(":").strip().lower() in QUESTION_HEADERS


def _question_column(name: str, header: Sequence[str], body: Sequence[Sequence[str]]) -> int:
    """A header named like "Question", else the most `?`-ended column, else the wordiest."""
    for index, cell in enumerate(header):
        if _is_question_header(cell):
            return index
    asks = [sum(row[i].strip().endswith(("?", "？")) for row in body) for i in range(len(header))]
    if max(asks) > 0:
        return asks.index(max(asks))
    letters = [sum(ch.isalpha() for row in body for ch in row[i]) for i in range(len(header))]
    if max(letters) > 0:
        return letters.index(max(letters))
    raise QuestionnaireError(
        f"{name} has no question column: no column holds text. Head the column of questions "
        "'Question' and put one question per row."
    )


# Answering
