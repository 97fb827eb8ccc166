"""Vendor questionnaires answered at once: a .csv or .xlsx of questions in, the same rows out.

The output keeps every original column and adds the answer, whether the documents ground it,
its citations (one line each, with the verbatim quote), conflicts, notices, the backend and any
error; a Markdown report next to it gives the same per question. Every written cell that a
spreadsheet could take for a formula (`=`, `+`, `-`, `@`, tab, carriage return) starts with `'`.

QuestionnaireError        the file cannot be read as a questionnaire (the person fixes the file)
QuestionnaireOutputError  the answers cannot be written where asked
"""

from __future__ import annotations

import csv
import io
import logging
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ProcurebotError, QuestionError

if TYPE_CHECKING:
    from bot.answers import Answer, Citation

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 500
SUFFIXES = (".csv", ".xlsx")
QUESTION_HEADERS = frozenset(
    {
        *("question", "questions", "question(s)", "query", "queries"),
        *("frage", "fragen", "domanda", "domande", "pregunta", "preguntas"),
        *("pergunta", "perguntas", "vraag", "vragen", "questions posées", "question posée"),
    }
)
OUTPUT_COLUMNS = (  # after the questionnaire's own columns
    *("answer", "grounded", "citations", "conflicts", "notices", "backend", "model", "error"),
)
SKIPPED = "Skipped: the question cell of this row is empty."
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_XLSX_CELL_LIMIT = 32_767  # Excel refuses longer cells
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls and password-protected workbooks


class QuestionnaireError(ProcurebotError):
    """The file is not a questionnaire procurebot can read: wrong type, empty, broken, too big."""


class QuestionnaireOutputError(ProcurebotError):
    """The answered questionnaire or its report cannot be written to the path asked for."""


@dataclass(frozen=True)
class Questionnaire:
    columns: tuple[str, ...]  # the header row
    rows: tuple[tuple[str, ...], ...]  # cell text, each row as long as `columns`
    question_column: int


@dataclass(frozen=True)
class AnsweredRow:
    """One row with its answer; `answer` is None when the row was skipped or failed (`error`)."""

    row: tuple[str, ...]
    question: str
    answer: Answer | None
    error: str = ""

    @property
    def skipped(self) -> bool:
        return not self.question.strip()


# Reading


def read_questionnaire(path: Path) -> Questionnaire:
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
        if size > MAX_BYTES:
            raise QuestionnaireError(
                f"{path.name} is {size / 2**20:.1f} MiB, over the limit of "
                f"{MAX_BYTES // 2**20} MiB: split it into smaller files."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise QuestionnaireError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise QuestionnaireError(f"{path.name} is empty: it needs a header row and questions.")
    table = _csv_table(path.name, data) if suffix == ".csv" else _xlsx_table(path.name, data)
    return _questionnaire(path.name, table)


def _csv_table(name: str, data: bytes) -> list[list[str]]:
    if b"\x00" in data:
        raise QuestionnaireError(
            f"{name} contains binary data (NUL bytes), not CSV text: export it again as CSV."
        )
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise QuestionnaireError(
            f"{name} is not UTF-8 text (invalid byte at offset {exc.start}): save it as UTF-8 "
            "(in Excel: CSV UTF-8)."
        ) from exc
    try:
        return _non_blank(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error as exc:
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
        what = "an old .xls or a password-protected" if data.startswith(_OLE_SIGNATURE) else "not a"
        raise QuestionnaireError(
            f"{name} is {what} workbook procurebot can read: save it as .xlsx (no password) "
            "or as CSV UTF-8."
        ) from exc


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
    column = _question_column(header, body) if body else _question_column(header, [header])
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


def _question_column(header: Sequence[str], body: Sequence[Sequence[str]]) -> int:
    """A header named like "Question", else the most `?`-ended column, else the first filled."""
    for index, name in enumerate(header):
        if _is_question_header(name):
            return index
    asks = [sum(row[i].strip().endswith(("?", "？")) for row in body) for i in range(len(header))]
    if max(asks) > 0:
        return asks.index(max(asks))
    return next((i for i in range(len(header)) if any(row[i].strip() for row in body)), 0)


# Answering


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def answer_questionnaire(
    questionnaire: Questionnaire,
    ask: Callable[[str], Answer],
    progress: Callable[[int, int], None] | None = None,
) -> list[AnsweredRow]:
    """Ask every row's question in order; a question `ask` rejects is recorded in its row."""
    answered: list[AnsweredRow] = []
    total = len(questionnaire.rows)
    for done, row in enumerate(questionnaire.rows, start=1):
        answered.append(_answer_row(row, row[questionnaire.question_column], ask))
        if progress is not None:
            progress(done, total)
    logger.info("questionnaire: %s", summary_line(answered))
    return answered


def _answer_row(row: tuple[str, ...], question: str, ask: Callable[[str], Answer]) -> AnsweredRow:
    if not question.strip():
        return AnsweredRow(row, question, None)
    try:
        return AnsweredRow(row, question, ask(question))
    except QuestionError as exc:
        return AnsweredRow(row, question, None, str(exc))


def summary_line(answered: Sequence[AnsweredRow]) -> str:
    """`Answered 20 questions: 18 with sources, 2 not answered by the documents, 0 errors.`"""
    answers = [item.answer for item in answered if item.answer is not None]
    grounded = sum(answer.grounded for answer in answers)
    skipped = sum(item.skipped for item in answered)
    errors = sum(bool(item.error) for item in answered)
    line = (
        f"Answered {_count(len(answered) - skipped, 'question')}: {grounded} with sources, "
        f"{len(answers) - grounded} not answered by the documents, {_count(errors, 'error')}."
    )
    return line + (f" {_count(skipped, 'row')} without a question skipped." if skipped else "")


# Writing


def check_output(source: Path, out: Path) -> Path:
    """The report's path next to `out`, checked before any question is asked."""
    if out.suffix.lower() not in SUFFIXES:
        raise QuestionnaireError(
            f"{out.name}: the output file must end in .xlsx or .csv (the report is written "
            "next to it as .md)."
        )
    if out.resolve() == source.resolve():
        raise QuestionnaireError(
            f"{out.name} is the questionnaire itself: choose another name for the answers."
        )
    if not out.parent.is_dir():
        raise QuestionnaireOutputError(
            f"Cannot write {out}: the folder {out.parent} does not exist; create it first."
        )
    return out.with_suffix(".md")


def write_answers(
    questionnaire: Questionnaire, answered: Sequence[AnsweredRow], out: Path, title: str
) -> Path:
    """Write `out` (.xlsx or .csv) and the Markdown report next to it; the report's path."""
    report = out.with_suffix(".md")
    if out.suffix.lower() == ".xlsx":
        write_xlsx(questionnaire, answered, out)
    else:
        write_csv(questionnaire, answered, out)
    write_report(questionnaire, answered, report, title)
    return report


def table(questionnaire: Questionnaire, answered: Sequence[AnsweredRow]) -> list[tuple[str, ...]]:
    """The header and one row per answered row, before formula starts are neutralised."""
    return [(*questionnaire.columns, *OUTPUT_COLUMNS), *(_cells(item) for item in answered)]


def _cells(item: AnsweredRow) -> tuple[str, ...]:
    answer = item.answer
    if answer is None:
        notice = SKIPPED if item.skipped else ""
        return (*item.row, "", "", "", "", notice, "", "", item.error)
    return (
        *item.row,
        answer.answer,
        "yes" if answer.grounded else "no",
        "\n".join(citation_line(citation) for citation in answer.citations),
        "\n".join(
            f"{c.topic}: " + "; ".join(f"[{claim.n}] {claim.claim}" for claim in c.claims)
            for c in answer.conflicts
        ),
        "\n".join(answer.notices),
        answer.backend,
        answer.model,
        "",
    )


def citation_line(citation: Citation) -> str:
    """`[n] Title — kind, date — source, characters start–end: “quote”`."""
    kind = f"{citation.kind} (opinion)" if citation.opinion else citation.kind
    return (
        f"[{citation.n}] {citation.title} — {kind}, {citation.date or 'undated'} — "
        f"{citation.source}, characters {citation.start}–{citation.end}: “{citation.quote}”"
    )


def _neutralised(text: str) -> str:
    """OWASP CSV injection: a cell a spreadsheet would evaluate starts with an apostrophe."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(questionnaire: Questionnaire, answered: Sequence[AnsweredRow], path: Path) -> None:
    """Comma-separated UTF-8 with a byte order mark, so Excel opens it with the right accents."""
    buffer = io.StringIO(newline="")
    rows = table(questionnaire, answered)
    csv.writer(buffer).writerows([_neutralised(cell) for cell in row] for row in rows)
    _write(path, buffer.getvalue().encode("utf-8-sig"))


def write_xlsx(questionnaire: Questionnaire, answered: Sequence[AnsweredRow], path: Path) -> None:
    """One worksheet: bold frozen header, wrapped text, widths fitted to the text."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one worksheet
    sheet.title = "Answers"
    wrap, bold = Alignment(wrap_text=True, vertical="top"), Font(bold=True)
    rows = table(questionnaire, answered)
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            text = _neutralised(ILLEGAL_CHARACTERS_RE.sub("", value))  # XML cannot hold them
            if len(text) > _XLSX_CELL_LIMIT:
                text = text[: _XLSX_CELL_LIMIT - 1] + "…"
            cell = sheet.cell(row=r, column=c, value=text)
            cell.data_type = "s"  # text, never a formula
            cell.alignment = wrap
            if r == 1:
                cell.font = bold
    for c in range(1, len(rows[0]) + 1):
        longest = max(len(line) for row in rows for line in row[c - 1].splitlines() or [""])
        sheet.column_dimensions[get_column_letter(c)].width = min(60, max(10, longest + 2))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    book.save(buffer)
    _write(path, buffer.getvalue())


def write_report(
    questionnaire: Questionnaire,
    answered: Sequence[AnsweredRow],
    path: Path,
    title: str = "Questionnaire answers",
) -> None:
    """Markdown: the summary, then each question with its answer and quoted sources."""
    answers = [item.answer for item in answered if item.answer is not None]
    backends = sorted(
        {a.model if a.backend in a.model else f"{a.backend} ({a.model})" for a in answers}
    )
    lines = [f"# {_one_line(title)}", "", summary_line(answered), ""]
    if backends:
        lines += [
            f"Answered by {', '.join(backends)} from the documents of the corpus. Quotes are "
            "verbatim; their character spans refer to the source files.",
            "",
        ]
    for number, item in enumerate(answered, start=1):
        lines += _report_section(number, item, questionnaire.columns[questionnaire.question_column])
    _write(path, "\n".join(lines).encode("utf-8"))


def _report_section(number: int, item: AnsweredRow, column: str) -> list[str]:
    lines = [f"## {number}. {_one_line(item.question) or f'(no {column})'}", ""]
    if item.answer is None:
        return [*lines, f"**Error:** {item.error}" if item.error else SKIPPED, ""]
    answer = item.answer
    lines += [answer.answer.strip(), ""]
    if not answer.grounded:
        lines += ["*Not answered by the documents.*", ""]
    if answer.citations:
        lines += ["**Sources**", ""]
    lines += [f"- {citation_line(c)}".replace("\n", "\n  ") for c in answer.citations]
    if answer.citations:
        lines.append("")
    for conflict in answer.conflicts:
        claims = "; ".join(f"[{claim.n}] {claim.claim}" for claim in conflict.claims)
        lines += [f"**Sources disagree on {conflict.topic}:** {claims}", ""]
    lines += [f"*Note: {notice}*" for notice in answer.notices]
    return [*lines, ""] if answer.notices else lines


def _one_line(text: str) -> str:
    """Text for a heading: control characters dropped, white space folded."""
    return " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise QuestionnaireOutputError(
            f"Cannot write {path}: {exc.strerror or exc}; check the folder exists and is writable."
        ) from exc
