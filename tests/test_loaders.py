from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement

from index.chunking import chunk_document
from index.documents import scan_corpus
from index.errors import DocumentError
from index.loaders import extracted, is_supported, load_text

OLE_HEADER = bytes.fromhex("D0CF11E0A1B11AE1")

# The shape every loader gives: a `#` heading, paragraphs between blank lines, table rows as
# `| … |` lines under a separator row when the first row is a header (three columns here).
OFFER_TEXT = "\n".join(
    [
        "# Hosting offer",
        "",
        "Données hébergées dans l'UE — 2 GPU",
        "",
        "Prices are fixed for the term of the contract.",
        "",
        "| Model | Region | Price per million tokens |",
        "| --- | --- | --- |",
        "| Mistral Medium 3 | EU | 2 USD |",
        "| Mistral Small 3.1 | EU and US | 0.1 USD |",
        "",
        "Support is included.",
    ]
)


def _docx_bytes(document: docx.document.Document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _offer() -> bytes:
    """A heading, paragraphs (one with runs of spaces and a tab), a table, a closing line."""
    document = docx.Document()
    document.add_heading("Hosting offer", level=1)
    document.add_paragraph("Données   hébergées dans\tl'UE — 2 GPU")
    document.add_paragraph("")
    document.add_paragraph("Prices are fixed for the term of the contract.")
    table = document.add_table(rows=3, cols=3)
    rows = [
        ("Model", "Region", "Price per million tokens"),
        ("Mistral Medium 3", "EU", "2 USD"),
        ("Mistral Small 3.1", "EU", "0.1 USD"),
    ]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    table.cell(2, 1).add_paragraph("and US")  # a cell of two paragraphs is one line
    document.add_paragraph("Support is included.")
    return _docx_bytes(document)


def test_a_docx_is_read_as_paragraphs_and_table_rows_in_document_order(tmp_path: Path) -> None:
    path = tmp_path / "offer.docx"
    path.write_bytes(_offer())
    assert is_supported(path) and extracted(path)
    assert load_text(path, path.read_bytes()) == OFFER_TEXT


def test_docx_text_is_the_same_for_the_same_bytes(tmp_path: Path) -> None:
    data = _offer()
    path = tmp_path / "offer.DOCX"
    assert is_supported(path)
    assert load_text(path, data) == load_text(path, bytes(data)) == OFFER_TEXT


def test_a_horizontally_merged_cell_is_one_cell_of_its_row() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "Mistral Large 2"
    table.cell(0, 2).text = "retired"
    table.cell(1, 0).text = "Codestral"
    table.cell(1, 2).text = "available"
    text = load_text(Path("models.docx"), _docx_bytes(document))
    assert text == "| Mistral Large 2 | retired |\n| --- | --- |\n| Codestral |  | available |"


def test_a_docx_in_a_corpus_is_an_extracted_document_with_exact_spans(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "offer.docx").write_bytes(_offer())
    document = docx.Document()
    document.add_heading("Service levels", level=1)
    for n in range(1, 41):
        document.add_paragraph(f"Clause {n}:  the   vendor answers  within {n} hours — réponse.")
    (corpus / "terms.docx").write_bytes(_docx_bytes(document))
    scan = scan_corpus(corpus)
    assert not scan.problems
    offer, terms = scan.documents
    assert offer.extracted and offer.source == "corpus/offer.docx"
    assert (offer.text, offer.title) == (OFFER_TEXT, "Hosting offer")
    assert terms.extracted and terms.title == "Service levels"
    chunks = chunk_document(terms)
    assert len(chunks) > 1
    for chunk in chunks:
        assert terms.text[chunk.start : chunk.end] == chunk.text
    assert "Clause 7: the vendor answers within 7 hours — réponse." in chunks[0].text


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _spreadsheet_like() -> bytes:
    """An .xlsx-shaped package: content types and a workbook part, no Word document."""
    content_types = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" '
        b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        b'<Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/xl/workbook.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        b"</Types>"
    )
    rels = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        b"</Relationships>"
    )
    workbook = b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    return _zip_of(
        {"[Content_Types].xml": content_types, "_rels/.rels": rels, "xl/workbook.xml": workbook}
    )


def _unmergeable_table() -> bytes:
    """A table whose first cell claims to continue a merge from a row above the table."""
    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "orphan"
    tc = table.rows[0]._tr.tc_lst[0]
    tc.get_or_add_tcPr().append(OxmlElement("w:vMerge"))
    return _docx_bytes(document)


def _truncated_docx() -> bytes:
    data = _offer()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (bytes(range(256)) * 4, "not a readable .docx file (File is not a zip file)"),
        (
            _truncated_docx(),
            "not a readable .docx file "
            "(the zip archive is damaged or cut short: File is not a zip file)",
        ),
        (
            _spreadsheet_like(),
            "the file is an Excel workbook, not a Word document; check its type",
        ),
        (
            _zip_of({"notes.txt": b"hello"}),
            "not a readable .docx file (a zip archive that is not a Word document)",
        ),
        (
            OLE_HEADER + bytes(504),
            "the Word file is password-protected or in the old .doc format; "
            "save an unprotected .docx copy",
        ),
        (
            _unmergeable_table(),
            "not a readable .docx file (its content is malformed: no tr above topmost tr in w:tbl)",
        ),
        (_docx_bytes(docx.Document()), "the file has no text to index"),
    ],
    ids=[
        "random-bytes",
        "truncated",
        "spreadsheet",
        "other-zip",
        "ole",
        "broken-merge",
        "empty",
    ],
)
def test_an_unreadable_docx_is_a_one_line_document_error(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError) as caught:
        load_text(Path("offer.docx"), data)
    assert caught.value.path == "offer.docx"
    assert caught.value.reason == reason


def test_an_empty_docx_in_a_corpus_is_a_problem_not_a_document(tmp_path: Path) -> None:
    (tmp_path / "blank.docx").write_bytes(_docx_bytes(docx.Document()))
    (tmp_path / "good.txt").write_text("A readable document.", encoding="utf-8")
    scan = scan_corpus(tmp_path)
    assert [Path(d.source).name for d in scan.documents] == ["good.txt"]
    (problem,) = scan.problems
    assert problem.path == f"{tmp_path.name}/blank.docx"
    assert problem.reason == "the file has no text to index"


@pytest.mark.parametrize(
    ("name", "supported"),
    [
        ("offer.docx", True),
        ("offer.DocX", True),
        ("offer.doc", False),
        ("offer.docm", False),
        ("offer.xlsx", True),
        ("offer.csv", True),
        ("offer.xls", False),
        ("offer.pdf", True),
        ("notes.md", True),
    ],
)
def test_is_supported(name: str, supported: bool) -> None:
    assert is_supported(Path(name)) is supported


def test_an_old_doc_file_in_a_corpus_is_not_picked_up(tmp_path: Path) -> None:
    (tmp_path / "old.doc").write_bytes(OLE_HEADER + bytes(504))
    scan = scan_corpus(tmp_path)
    assert scan.documents == () and scan.problems == ()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("offer.pdf", b"", "the file is empty (0 bytes)"),
        ("offer.pdf", _offer(), "the file is a Word document, not a PDF; rename it .docx"),
        (
            "prices.pdf",
            _spreadsheet_like(),
            "the file is an Excel workbook, not a PDF; check its type",
        ),
        ("offer.docx", b"%PDF-1.7\n%...", "the file is a PDF, not a Word document; rename it .pdf"),
    ],
    ids=["empty", "docx-as-pdf", "xlsx-as-pdf", "pdf-as-docx"],
)
def test_a_mislabelled_or_empty_file_says_what_it_is(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError) as caught:
        load_text(Path(name), data)
    assert caught.value.reason == reason


def test_a_word_file_that_would_unpack_too_large_is_refused_unread() -> None:
    data = bytearray(_offer())
    # Declare 300 MiB for the first part in the central directory, as a zip bomb would.
    first = data.index(b"PK\x01\x02")
    data[first + 24 : first + 28] = (300 * 2**20).to_bytes(4, "little")
    with pytest.raises(DocumentError, match=r"would unpack to 30\d MiB, too large; the limit"):
        load_text(Path("bomb.docx"), bytes(data))


def test_a_paragraph_inside_an_html_table_cell_stays_in_its_row() -> None:
    html = (
        b"<table><tr><th>Product</th><th>Price</th></tr>"
        b"<tr><td><p>Orca Pro</p></td><td><div>$5</div></td></tr></table>"
    )
    assert (
        load_text(Path("p.html"), html) == "| Product | Price |\n| --- | --- |\n| Orca Pro | $5 |"
    )
