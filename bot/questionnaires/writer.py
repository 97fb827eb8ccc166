"""An answered questionnaire written out: the same rows as .xlsx or .csv, and a Markdown report.

The output keeps every original column and adds the answer, whether the documents ground it,
its citations (one line each, with the verbatim quote), conflicts, notices, the backend and any
error; the report gives the same per question. Every written cell that a spreadsheet could take
for a formula (`=`, `+`, `-`, `@`, tab, carriage return) starts with `'`. Each file is written
to a temporary name and renamed, so a killed process never leaves half a file behind.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.answering.layout import as_markdown, as_plain_text
from bot.questionnaires.answering import summary_line
from bot.questionnaires.reader import SUFFIXES
from bot.questionnaires.types import (
    AnsweredRow,
    Questionnaire,
    QuestionnaireError,
    QuestionnaireOutputError,
)
from bot.transcripts.exports import escape as shown

if TYPE_CHECKING:
    from bot.answering.answers import Citation

OUTPUT_COLUMNS = (  # after the questionnaire's own columns
    *("answer", "grounded", "citations", "conflicts", "notices", "backend", "model", "error"),
)
SKIPPED = "Skipped: the question cell of this row is empty."
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_XLSX_CELL_LIMIT = 32_767  # Excel refuses longer cells


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
        as_plain_text(answer),
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
    """`[n] Title — kind, date — source, [p. N, ]characters start–end: “quote”`."""
    kind = f"{citation.kind} (opinion)" if citation.opinion else citation.kind
    return (
        f"[{citation.n}] {citation.title} — {kind}, {citation.date or 'undated'} — "
        f"{citation.source}, {citation.where}: “{citation.quote}”"
    )


def neutralised(text: str) -> str:
    """OWASP CSV injection: a cell a spreadsheet would evaluate starts with an apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(questionnaire: Questionnaire, answered: Sequence[AnsweredRow], path: Path) -> None:
    """Comma-separated UTF-8 with a byte order mark, so Excel opens it with the right accents."""
    buffer = io.StringIO(newline="")
    rows = table(questionnaire, answered)
    csv.writer(buffer).writerows([neutralised(cell) for cell in row] for row in rows)
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
            text = neutralised(ILLEGAL_CHARACTERS_RE.sub("", value))  # XML cannot hold them
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
    lines += [item for note in questionnaire.notices for item in (f"*Note: {shown(note)}*", "")]
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
    lines = [f"## {number}. {_one_line(item.question) or f'(no {shown(column)})'}", ""]
    if item.answer is None:
        return [*lines, f"**Error:** {shown(item.error)}" if item.error else SKIPPED, ""]
    answer = item.answer
    lines += [as_markdown(answer), ""]
    if not answer.grounded:
        lines += ["*Not answered by the documents.*", ""]
    if answer.citations:
        lines += ["**Sources**", ""]
    lines += [f"- {shown(citation_line(c))}".replace("\n", "\n  ") for c in answer.citations]
    if answer.citations:
        lines.append("")
    for conflict in answer.conflicts:
        claims = "; ".join(f"[{claim.n}] {shown(claim.claim)}" for claim in conflict.claims)
        lines += [f"**Sources disagree on {shown(conflict.topic)}:** {claims}", ""]
    lines += [f"*Note: {shown(notice)}*" for notice in answer.notices]
    return [*lines, ""] if answer.notices else lines


def _one_line(text: str, limit: int = 300) -> str:
    """Text for a heading, shown as itself: control characters dropped, white space folded,
    cut at `limit` characters."""
    text = " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())
    return shown(text if len(text) <= limit else text[: limit - 1] + "…")


def _write(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, then rename it over `path`."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        with temporary.open("xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise QuestionnaireOutputError(
            f"Cannot write {path}: {exc.strerror or exc}; check the folder exists and is writable."
        ) from exc
    finally:
        temporary.unlink(missing_ok=True)  # gone after the rename; left by a failure
