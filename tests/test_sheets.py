"""Price sheets (.xlsx, .csv) are documents: each row is quoted under its header."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.answering.engine import Engine
from bot.settings import Settings
from index.errors import DocumentError
from index.loaders import load_text
from index.sentences import ROW, split_sentences
from tests.conftest import make_document


def workbook() -> bytes:
    book = Workbook()
    prices = book.active
    prices.title = "Token prices"
    prices.append(["Product", "Input (EUR / 1M tokens)", "Output (EUR / 1M tokens)", None])
    prices.append(["Orca Pro", 1.0, 7.2, None])
    prices.append(["Orca Lite", 0.1, 0.4, None])
    prices.append([])
    prices.append(["Valid from", datetime(2026, 1, 1)])
    hosting = book.create_sheet("Hosting | fees")
    hosting.append(["Item", "Fee"])
    hosting.append(["Dedicated instance", "4,200 EUR per month"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_gives_a_heading_per_sheet_and_a_table_per_block_of_rows() -> None:
    text = load_text(Path("prices.xlsx"), workbook())
    assert text == (
        "# Token prices\n\n"
        "| Product | Input (EUR / 1M tokens) | Output (EUR / 1M tokens) |\n"
        "| --- | --- | --- |\n"
        "| Orca Pro | 1 | 7.2 |\n"
        "| Orca Lite | 0.1 | 0.4 |\n\n"
        "| Valid from | 2026-01-01 |\n\n"
        "# Hosting / fees\n\n"
        "| Item | Fee |\n| --- | --- |\n| Dedicated instance | 4,200 EUR per month |"
    )
    rows = [s for s in split_sentences(make_document(text)) if s.kind == ROW]
    lite = next(s for s in rows if "Orca Lite" in text[s.start : s.end])
    assert text[lite.lead_start : lite.lead_end].startswith("| Product | Input")
    assert lite.heading == "Token prices"


def test_a_csv_file_with_semicolons_and_a_byte_order_mark_is_one_table() -> None:
    data = "\ufeffProduct;Input;Output\nOrca Pro;1,00;7,20\n".encode()
    assert load_text(Path("prices.csv"), data) == (
        "# prices\n\n| Product | Input | Output |\n| --- | --- | --- |\n| Orca Pro | 1,00 | 7,20 |"
    )


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("prices.xlsx", b"PK\x03\x04 not a workbook", "not a readable .xlsx"),
        ("prices.xlsx", b"plain text", "not a readable .xlsx"),
        ("prices.csv", "Preis;Gebühr".encode("latin-1"), "not UTF-8"),
        ("prices.csv", b"a,b\x00", "binary"),
    ],
)
def test_a_broken_sheet_gives_a_one_line_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        load_text(Path(name), data)


def test_a_price_is_answered_from_its_row_under_its_header(tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "prices.xlsx").write_bytes(workbook())
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, backend="extractive")
    answer = Engine.open(settings).ask("What is the output price of Orca Lite?")
    assert answer.grounded
    quotes = [c.quote for c in answer.citations]
    assert quotes[:2] == [  # the row, read under its header
        "| Product | Input (EUR / 1M tokens) | Output (EUR / 1M tokens) |",
        "| Orca Lite | 0.1 | 0.4 |",
    ]
    assert all(c.source.endswith("prices.xlsx") for c in answer.citations)
    assert "7.2" not in answer.answer.split("Orca Lite")[0]  # no other product's price first
