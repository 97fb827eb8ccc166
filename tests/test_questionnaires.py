"""Vendor questionnaires: read from real files, answered by the real engine, written back."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from docx import Document as Docx

from bot.answering.engine import Engine
from bot.questionnaires.answering import answer_questionnaire
from bot.questionnaires.reader import MAX_BYTES, MAX_ROWS, read_questionnaire
from bot.questionnaires.types import QuestionnaireError
from bot.questionnaires.writer import (
    FORMULA_STARTS,
    OUTPUT_COLUMNS,
    SKIPPED,
    write_csv,
    write_report,
    write_xlsx,
)
from bot.settings import PROJECT_ROOT
from bot.transcripts.exports import escape as shown
from index.loaders import load_text
from tests.reliability import Recorder

# A due-diligence questionnaire as a buyer would send it: (section, question).
QUESTIONS = [
    ("Pricing", "What does Mistral Medium 3 cost per million input tokens?"),
    ("Pricing", "What does Mistral Medium 3 cost per million output tokens?"),
    ("Pricing", "What are the list prices of Mistral Medium 3.1 for input and output tokens?"),
    ("Pricing", "What did mistral-medium-2312 charge per million input tokens, back in 2023?"),
    ("Hosting", "How many GPUs do we need to self-host Mistral Medium 3?"),
    ("Hosting", "Can Medium 3.1 run inside our own data centre or virtual private cloud?"),
    ("Clouds", "Through which cloud platforms can we consume Mistral Medium 3.1?"),
    ("Clouds", "Is Mistral Medium 3 available on Amazon SageMaker?"),
    ("Data", "Under which jurisdiction does the Medium API operate? We need EU data residency."),
    ("Data", "Is Mistral AI a European vendor? Where is the company headquartered?"),
    ("Licence", "Are the weights of Mistral Medium 3 openly available?"),
    ("Licence", "Under which licence is Mistral Medium 3.1 offered: open weights or proprietary?"),
    ("Lifecycle", "Is mistral-medium-2312 deprecated?"),
    ("Lifecycle", "When was mistral-medium-2312 retired from the API?"),
    ("Lifecycle", "Which model should we migrate to from the deprecated mistral-medium endpoint?"),
    ("Technical", "What is the context window of Mistral Medium 3.1?"),
    ("Technical", "How large was the context window of the original 2023 Mistral Medium?"),
    ("Technical", "When was Mistral Medium 3 released?"),
    ("Prix", "Combien coûte Mistral Medium 3 par million de jetons en sortie ?"),
    ("Hosting", "Kann man Mistral Medium 3 selbst hosten?"),
]
INJECTIONS = [
    *('=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+SUM(1)", "-2+3", "@SUM(1)"),
    *("\t=1+1", "\r=1+1"),
]
CONTROL_ONLY = "\x01\x02\x03"
_CITATION = re.compile(r"\[(\d+)\] .* — (corpus/[^,]+), characters (\d+)–(\d+): “(.*)”", re.S)


def _csv(rows: list[list[str]], delimiter: str = ",", bom: bool = False) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def _questionnaire_csv(path: Path) -> Path:
    rows = [["id", "section", "question", "comment"]]
    rows += [[str(i), section, question, ""] for i, (section, question) in enumerate(QUESTIONS, 1)]
    path.write_bytes(_csv(rows))
    return path


def _xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _assert_citations_verbatim(cell: str) -> int:
    """Every citation line of a written cell quotes its source file exactly; how many."""
    entries = [entry for entry in re.split(r"\n(?=\[\d+\] )", cell) if entry]
    for entry in entries:
        match = _CITATION.fullmatch(entry)
        assert match, entry
        _, source, start, end, quote = match.groups()
        path = PROJECT_ROOT / source
        assert load_text(path, path.read_bytes())[int(start) : int(end)] == quote
    return len(entries)


def _sheet_rows(path: Path) -> list[dict[str, str]]:
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    header, *rows = [[cell.value or "" for cell in row] for row in sheet.iter_rows()]
    return [dict(zip(header, row, strict=True)) for row in rows]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the mark
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# Reading


def test_a_semicolon_csv_with_a_bom_and_a_frage_header(tmp_path: Path) -> None:
    path = tmp_path / "fragebogen.csv"
    rows = [["Nr", "Bereich", "Frage", "Antwort"], ["1", "Preise", "Was kostet es, pro Token?", ""]]
    rows += [["2", "Betrieb", "Läuft es on-prem?", "ja; mit Auflagen"]]
    path.write_bytes(_csv(rows, delimiter=";", bom=True))
    questionnaire = read_questionnaire(path)
    assert questionnaire.columns == ("Nr", "Bereich", "Frage", "Antwort")
    assert questionnaire.question_column == 2
    assert questionnaire.rows == (
        ("1", "Preise", "Was kostet es, pro Token?", ""),
        ("2", "Betrieb", "Läuft es on-prem?", "ja; mit Auflagen"),
    )


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("id\tpregunta\n1\t¿Cuánto cuesta?\n", 1),  # a known header name, tab-separated
        ("id,text,note\n1,What is it?,ok\n2,Where?,fine\n3,Pricing,-\n", 1),  # most "?"
        ("ref,,topic\n1,,Pricing\n2,,Hosting\n", 2),  # else the column with most letters
        ("id,area,ask\n1,Price,Tell us your pricing model\n2,Host,List the regions\n", 2),
    ],
)
def test_the_question_column_is_found(tmp_path: Path, text: str, column: int) -> None:
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    assert read_questionnaire(path).question_column == column


@pytest.mark.parametrize("header", ["Questions\n", ""])
def test_a_single_column_keeps_commas_in_questions(tmp_path: Path, header: str) -> None:
    path = tmp_path / "q.csv"
    path.write_text(f"{header}Is it EU hosted?\nWhat does it cost, per token?\n", encoding="utf-8")
    questionnaire = read_questionnaire(path)
    assert questionnaire.columns == ("Questions" if header else "question",)
    assert questionnaire.rows == (("Is it EU hosted?",), ("What does it cost, per token?",))


def test_an_xlsx_is_read_as_text_with_blank_questions_kept(tmp_path: Path) -> None:
    path = tmp_path / "q.xlsx"
    rows: list[list[object]] = [["No.", "Question", "Weight"], [1, "Is it EU hosted?", 0.5]]
    rows += [[2, None, 3.0], [None, None, None], [3, "What does it cost?", None]]
    path.write_bytes(_xlsx_bytes(rows))
    questionnaire = read_questionnaire(path)
    assert questionnaire.columns == ("No.", "Question", "Weight")
    assert questionnaire.rows == (
        ("1", "Is it EU hosted?", "0.5"),
        ("2", "", "3"),
        ("3", "What does it cost?", ""),
    )


def _big(tmp_path: Path) -> bytes:
    return b"question\n" + b"Is it? " * (MAX_BYTES // 7 + 1)


def _many(tmp_path: Path) -> bytes:
    return _csv([["question"]] + [[f"Question {i}?"] for i in range(MAX_ROWS + 1)])


def _no_workbook(tmp_path: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


def _word_document(tmp_path: Path) -> bytes:
    document = Docx()
    document.add_paragraph("Question 1: is it EU hosted?")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORKBOOK = [["Question"], ["Is it EU hosted?"]]
# (case, file name, content or a function making it, what the message says)
BAD_INPUTS = [
    ("a .txt file", "q.txt", b"question\nWhat?\n", "upload a .csv or .xlsx file"),
    ("an .xls file", "q.xls", b"question\nWhat?\n", "upload a .csv or .xlsx file"),
    ("an empty file", "q.csv", b"", "empty"),
    ("a CSV of a BOM and blank lines", "q.csv", b"\xef\xbb\xbf\r\n \r\n", "empty"),
    ("a CSV of spaces, tabs and commas", "q.csv", b" , ,\n\t,\n,\n", "empty"),
    ("a header row only", "q.csv", b"id,question\n", "no rows under it"),
    ("no question text", "q.csv", b"question,comment\n,a note\n,another\n", "no question text"),
    ("neither UTF-8 nor Windows-1252", "q.csv", b"question\nWhat \x81?\n", "offset 14): save"),
    ("Windows-1252 with control bytes", "q.csv", b"question\nQu\xe9\x01?\n", "save it as UTF-8"),
    ("a NUL byte in a CSV cell", "q.csv", b"question\nWhat\x00?\n", "NUL bytes"),
    ("binary data named .csv", "q.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL bytes"),
    ("a workbook named .csv", "q.csv", lambda _: _xlsx_bytes(WORKBOOK), "zip archive"),
    ("text named .xlsx", "q.xlsx", b"question\nWhat?\n", "save it as .xlsx"),
    ("a corrupt .xlsx", "q.xlsx", lambda _: _xlsx_bytes(WORKBOOK)[:2000], "not a workbook"),
    ("a zip that is no workbook", "q.xlsx", _no_workbook, "not a workbook"),
    ("a .docx named .xlsx", "q.xlsx", _word_document, "a Word document"),
    ("an .xls named .xlsx", "q.xlsx", OLE + bytes(512), "old Excel 97–2003 workbook (.xls)"),
    (
        "a password-protected .xlsx",
        "q.xlsx",
        OLE + bytes(512) + "EncryptedPackage".encode("utf-16-le") + bytes(64),
        "protected by a password",
    ),
    (
        "an .xlsx with no question column",
        "q.xlsx",
        lambda _: _xlsx_bytes([["ID", "Score", "Due"], [1, 2.5, datetime(2025, 1, 31)], [2, 3]]),
        "has no question column",
    ),
    ("a header row only, .xlsx", "q.xlsx", lambda _: _xlsx_bytes([["Question"]]), "no rows"),
    ("an oversized file", "q.csv", _big, "over the limit of 5 MiB"),
    ("a 200 KB cell", "q.csv", b"question\nWhy? " + b"x" * 200_000, "more than 131,072 characters"),
    ("too many questions", "q.csv", _many, f"more than {MAX_ROWS} questions"),
]


@pytest.mark.reliability
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS],
)
def test_bad_input_is_a_one_line_questionnaire_error(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    reliability: Recorder,
    name: str,
    data: object,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(data(tmp_path) if callable(data) else data)  # type: ignore[arg-type]
    with pytest.raises(QuestionnaireError) as error:
        read_questionnaire(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert list(tmp_path.iterdir()) == [path]
    reliability.record("bad input", request.node.callspec.id, str(error.value))


@pytest.mark.reliability
def test_excel_csv_in_windows_1252_or_utf_16_is_read_with_a_notice(
    tmp_path: Path, reliability: Recorder
) -> None:
    path = tmp_path / "q.csv"
    text = "Nr;Frage\n1;Wie viel kostet Mistral Medium 3 pro Million Token (in €)?\n"
    path.write_bytes(text.encode("cp1252"))
    questionnaire = read_questionnaire(path)
    assert questionnaire.rows[0][1] == "Wie viel kostet Mistral Medium 3 pro Million Token (in €)?"
    (notice,) = questionnaire.notices
    assert "read as Windows-1252" in notice
    reliability.record("bad input", "a CSV in Windows-1252 (Excel's plain CSV)", notice)
    path.write_bytes(text.replace(";", "\t").encode("utf-16"))  # Excel's "Unicode text"
    assert read_questionnaire(path).rows == questionnaire.rows
    assert read_questionnaire(path).notices == ()


def test_a_changed_byte_changes_the_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(b"question\nIs it EU hosted?\n")
    first = read_questionnaire(path)
    path.write_bytes(b"question\nIs it EU hosted ?\n")
    assert first.name == "q.csv" and len(first.sha256) == 64
    assert read_questionnaire(path).sha256 != first.sha256


def test_a_missing_file_is_a_questionnaire_error(tmp_path: Path) -> None:
    with pytest.raises(QuestionnaireError, match="Cannot read"):
        read_questionnaire(tmp_path / "missing.csv")


# Answering and writing, with the real engine


def test_a_control_character_row_fails_alone_and_blank_rows_are_skipped(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "q.csv"
    rows = [["section", "question"], ["Pricing", QUESTIONS[1][1]], ["Junk", CONTROL_ONLY]]
    rows += [["Security", ""], ["Hosting", QUESTIONS[4][1]]]
    path.write_bytes(_csv(rows))
    progress: list[tuple[int, int]] = []
    answered = answer_questionnaire(
        read_questionnaire(path), engine.ask, lambda done, total: progress.append((done, total))
    )
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [item.answer is not None and item.answer.grounded for item in answered] == [
        True,
        False,
        False,
        True,
    ]
    assert "empty" in answered[1].error and answered[1].answer is None
    assert answered[2].skipped and answered[2].error == ""
    out = tmp_path / "out.csv"
    write_csv(read_questionnaire(path), answered, out)
    written = _csv_rows(out)
    assert [row["error"] != "" for row in written] == [False, True, False, False]
    assert written[2]["notices"] == SKIPPED


@pytest.mark.reliability
def test_formula_like_cells_are_neutralised_in_xlsx_and_csv(
    engine: Engine, tmp_path: Path, reliability: Recorder
) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(_csv([["question", "note"], *([text, "-1"] for text in INJECTIONS)]))
    questionnaire = read_questionnaire(path)
    answered = answer_questionnaire(questionnaire, engine.ask)
    write_xlsx(questionnaire, answered, tmp_path / "out.xlsx")
    write_csv(questionnaire, answered, tmp_path / "out.csv")
    write_report(questionnaire, answered, tmp_path / "out.md")
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type == "s" for cell in cells)
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [f"'{t}" for t in INJECTIONS]
    assert sheet["B2"].value == "'-1"
    written = _csv_rows(tmp_path / "out.csv")
    for row in written:
        assert not any(value.startswith(FORMULA_STARTS) for value in row.values())
    assert [row["question"] for row in written] == [f"'{text}" for text in INJECTIONS]
    report = (tmp_path / "out.md").read_text(encoding="utf-8")
    for number, text in enumerate(INJECTIONS, start=1):
        heading = shown(" ".join(text.split()))  # plain text: it reads as written once rendered
        assert f"\n## {number}. {heading}\n" in report
        reliability.record(
            "bad input",
            f"formula cell {text!r}",
            f"written as {chr(39) + text!r} in xlsx (a text cell) and csv; as text in the report",
        )


ODD_CELLS = [
    ("a 100 KB question cell", f"{QUESTIONS[0][1]} {'Please detail each fee. ' * 4200}"),
    (
        "control characters in a cell",
        "What does\x0b Mistral Medium 3\x1b cost per million tokens?\x07",
    ),
    ("a right-to-left question", "ما هو سعر Mistral Medium 3 لكل مليون رمز؟"),
    ("a bidi override in a question", "\u202eIs Mistral Medium 3 available on Amazon SageMaker?"),
    ("an emoji question", "💶 What does Mistral Medium 3 cost per million input tokens? 🤔"),
]


@pytest.mark.reliability
def test_odd_but_valid_cells_are_answered_and_written_faithfully(
    engine: Engine, tmp_path: Path, reliability: Recorder
) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(_csv([["id", "question"], *([case, text] for case, text in ODD_CELLS)]))
    questionnaire = read_questionnaire(path)
    answered = answer_questionnaire(questionnaire, engine.ask)
    assert all(item.answer is not None and not item.error for item in answered)
    write_xlsx(questionnaire, answered, tmp_path / "out.xlsx")
    write_csv(questionnaire, answered, tmp_path / "out.csv")
    write_report(questionnaire, answered, tmp_path / "out.md")
    sheet = [row["question"] for row in _sheet_rows(tmp_path / "out.xlsx")]
    written = [row["question"] for row in _csv_rows(tmp_path / "out.csv")]
    report = (tmp_path / "out.md").read_text(encoding="utf-8")
    _, _, rtl, bidi, emoji = (text for _, text in ODD_CELLS)
    assert written == [text for _, text in ODD_CELLS]  # the CSV keeps every cell as it was
    assert len(sheet[0]) == 32_767 and sheet[0].endswith("…")  # Excel's limit for a cell
    assert sheet[1] == "What does Mistral Medium 3 cost per million tokens?"  # XML cannot hold
    assert sheet[2:] == [rtl, bidi, emoji]
    assert f"\n## 3. {rtl}\n" in report and f"\n## 5. {emoji}\n" in report
    assert f"\n## 4. {bidi[1:]}\n" in report  # an override cannot reorder the report
    notices = [item.answer.notices if item.answer else () for item in answered]
    assert any("(the limit is 2,000)" in notice for notice in notices[0])
    assert any("2 invisible or control" in notice for notice in notices[1])  # \v is a space
    assert any("1 invisible or control" in notice for notice in notices[3])
    for (case, _), item_notices in zip(ODD_CELLS, notices, strict=True):
        shown = "; ".join(item_notices) or "kept as written in xlsx, csv and report"
        reliability.record("bad input", case, f"answered. {shown}")


def test_the_written_xlsx_is_formatted_and_reads_back(engine: Engine, tmp_path: Path) -> None:
    questionnaire = read_questionnaire(_questionnaire_csv(tmp_path / "q.csv"))
    answered = answer_questionnaire(questionnaire, engine.ask)
    write_xlsx(questionnaire, answered, tmp_path / "out.xlsx")
    write_report(questionnaire, answered, tmp_path / "out.md", "Answers to q.csv")
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b and sheet["E2"].alignment.wrap_text
    assert 10 <= sheet.column_dimensions["E"].width <= 60
    again = read_questionnaire(tmp_path / "out.xlsx")  # the output is itself a questionnaire
    assert again.columns == (*questionnaire.columns, *OUTPUT_COLUMNS)
    assert again.question_column == 2 and len(again.rows) == len(QUESTIONS)
    report = (tmp_path / "out.md").read_text(encoding="utf-8")
    assert report.startswith("# Answers to q.csv\n\nAnswered 20 questions: ")
    assert all(f". {question}\n" in report for _, question in QUESTIONS)


# The command, as a user runs it


def test_cli_answers_a_questionnaire_into_xlsx_and_a_report(cli, tmp_path: Path) -> None:
    out = tmp_path / "answers.xlsx"
    result = cli("questionnaire", str(_questionnaire_csv(tmp_path / "q.csv")), str(out))
    assert result.returncode == 0, result.stderr
    stdout = result.stdout.decode().strip()
    assert stdout.startswith("Answered 20 questions: ")
    assert stdout.endswith(f"0 errors. Written: {out}, {out.with_suffix('.md')}")
    rows = _sheet_rows(out)
    assert [row["question"] for row in rows] == [question for _, question in QUESTIONS]
    assert all(row["answer"] and row["error"] == "" for row in rows)
    assert sum(row["grounded"] == "yes" for row in rows) >= 15
    assert sum(_assert_citations_verbatim(row["citations"]) for row in rows) >= 20
    assert "## 20. Kann man Mistral Medium 3 selbst hosten?" in out.with_suffix(".md").read_text(
        encoding="utf-8"
    )


def test_cli_answers_a_german_semicolon_csv_into_csv(cli, tmp_path: Path) -> None:
    source = tmp_path / "fragebogen.csv"
    rows = [["Nr", "Frage", "Kommentar"]]
    rows += [[str(i), question, section] for i, (section, question) in enumerate(QUESTIONS, 1)]
    rows += [["21", CONTROL_ONLY, ""], ["22", "", "Abschnitt"], ["23", INJECTIONS[0], ""]]
    source.write_bytes(_csv(rows, delimiter=";", bom=True))
    out = tmp_path / "antworten.csv"
    result = cli("questionnaire", str(source), str(out))
    assert result.returncode == 0, result.stderr
    assert "21 with sources" not in result.stdout.decode()
    assert "1 error. " in result.stdout.decode()
    assert "1 row without a question skipped." in result.stdout.decode()
    written = _csv_rows(out)
    assert list(written[0]) == ["Nr", "Frage", "Kommentar", *OUTPUT_COLUMNS]
    answers, (control, blank, injection) = written[:20], written[20:]
    assert all(row["answer"] and row["backend"] for row in answers)
    assert sum(row["grounded"] == "yes" for row in answers) >= 15
    for row in answers:
        _assert_citations_verbatim(row["citations"])
    assert control["answer"] == "" and "empty" in control["error"]
    assert blank["notices"] == SKIPPED and blank["error"] == ""
    assert injection["Frage"] == f"'{INJECTIONS[0]}" and injection["answer"]
    assert out.with_suffix(".md").is_file()


@pytest.mark.parametrize(
    ("name", "data", "out", "message"),
    [
        ("q.txt", b"question\nWhat?\n", "out.xlsx", "upload a .csv or .xlsx file"),
        ("q.csv", b"question\nWhat \x81?\n", "out.xlsx", "save it as UTF-8"),
        pytest.param(
            *("q.csv", b"question\n" + b"Is it? " * 160_000, "out.csv", "over the limit of 1 MiB"),
            id="over PROCUREBOT_MAX_UPLOAD_MB",
        ),
        ("q.xlsx", b"not a workbook", "out.csv", "save it as .xlsx"),
        ("q.csv", b"question\nWhat?\n", "out.txt", "must end in .xlsx or .csv"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    cli, tmp_path: Path, name: str, data: bytes, out: str, message: str
) -> None:
    (tmp_path / name).write_bytes(data)
    result = cli(
        "questionnaire",
        str(tmp_path / name),
        str(tmp_path / out),
        env={"PROCUREBOT_MAX_UPLOAD_MB": "1"},
    )
    assert result.returncode == 2
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("procurebot: error: ")
    assert message in lines[0]
    assert sorted(path.name for path in tmp_path.iterdir()) == [name]  # nothing written


def test_cli_output_folder_missing_is_one_line_and_exit_1(cli, tmp_path: Path) -> None:
    result = cli("questionnaire", str(_questionnaire_csv(tmp_path / "q.csv")), "nowhere/out.xlsx")
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and "does not exist" in lines[0]
