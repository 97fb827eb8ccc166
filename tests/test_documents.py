from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from index.catalog import KINDS, read_catalog
from index.dates import newest_date, own_date, parse_date
from index.documents import scan_corpus
from index.errors import CatalogError
from index.front_matter import front_matter, own_description
from index.loaders import page_at
from tests.conftest import text_pdf

CORPUS = PROJECT_ROOT / "corpus"
SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"

SHIPPED = {
    "000_40b7060ec07b0b2b.txt": ("news", "2026-04-11"),
    "001_72ad3820649f10bd.txt": ("model-directory", "2026-04-28"),
    "002_f67bddd3a88b2c10.txt": ("model-directory", "2026-04"),
    "003_fd62f072a622793a.txt": ("community", "2026-05-29"),
    "004_910b252cb6477a8d.txt": ("vendor-docs", "2025-05"),
}


def test_the_shipped_corpus_is_catalogued_with_kind_date_and_language() -> None:
    scan = scan_corpus(CORPUS)
    assert not scan.problems
    by_name = {Path(d.source).name: d for d in scan.documents}
    assert set(by_name) == set(SHIPPED)
    for name, (kind, date) in SHIPPED.items():
        document = by_name[name]
        assert document.source == f"corpus/{name}"
        assert (document.kind, document.date, document.language) == (kind, date, "en")
        assert document.catalogued and document.title and document.date_basis
        assert document.text == (CORPUS / name).read_bytes().decode("utf-8")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds is not beside this checkout")
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_corpus_files_are_byte_identical_to_the_seeds(name: str) -> None:
    assert (CORPUS / name).read_bytes() == (SEEDS / name).read_bytes()


def test_an_uncatalogued_file_gets_metadata_derived_from_its_text(tmp_path: Path) -> None:
    (tmp_path / "contract.md").write_text(
        "# Framework contract with Mistral AI\n\nSigned on 12 March 2026, renewed 2026-09-01.\n"
        "Le prix est fixé pour la durée du contrat.\n",
        encoding="utf-8",
    )
    (tmp_path / "avis.txt").write_text(
        "Les données sont hébergées dans l'Union européenne et le modèle est disponible.",
        encoding="utf-8",
    )
    documents = {Path(d.source).name: d for d in scan_corpus(tmp_path).documents}
    contract = documents["contract.md"]
    assert contract.title == "Framework contract with Mistral AI"
    assert (contract.kind, contract.date, contract.catalogued) == ("other", "2026-09-01", False)
    assert contract.date_basis.startswith("guessed")  # no date of its own: said so
    assert documents["avis.txt"].language == "fr"


def test_html_is_indexed_as_its_visible_text(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "<html><head><title>T</title><script>alert('x')</script></head>"
        "<body><h1>Prices</h1><p>Medium costs &euro;2 per million tokens.</p></body></html>",
        encoding="utf-8",
    )
    (document,) = scan_corpus(tmp_path).documents
    assert "Medium costs €2 per million tokens." in document.text
    assert "alert" not in document.text
    assert document.extracted


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("latin1.txt", "Préférence tarifaire".encode("latin-1"), "not UTF-8"),
        ("empty.md", b"   \n\n", "no text"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
    ],
)
def test_unreadable_files_are_reported_not_indexed(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text("A readable document.", encoding="utf-8")
    scan = scan_corpus(tmp_path)
    assert [Path(d.source).name for d in scan.documents] == ["good.txt"]
    (problem,) = scan.problems
    assert problem.path.endswith(name)
    assert reason in problem.reason


def test_hidden_files_and_the_catalog_are_not_documents(tmp_path: Path) -> None:
    (tmp_path / ".draft.txt").write_text("secret draft", encoding="utf-8")
    (tmp_path / "catalog.toml").write_text("", encoding="utf-8")
    (tmp_path / "notes.xls").write_text("a,b", encoding="utf-8")  # not a supported type
    assert scan_corpus(tmp_path).documents == ()


@pytest.mark.parametrize(
    "catalog",
    [
        '[documents."a.txt"]\nkind = "news"\n',  # no title
        '[documents."a.txt"]\ntitle = "A"\nkind = "blog"\n',  # unknown kind
        '[documents."a.txt"]\ntitle = "A"\nkind = "news"\ndate = "April 2026"\n',
        "[documents\n",  # not TOML
    ],
)
def test_a_wrong_catalog_entry_is_a_clear_error(tmp_path: Path, catalog: str) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(catalog, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"catalog\.toml"):
        read_catalog(path)


def test_catalog_kinds_are_the_documented_ones() -> None:
    kinds = {entry["kind"] for entry in read_catalog(CORPUS / "catalog.toml").values()}
    assert kinds <= set(KINDS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deprecated on November 30, 2024 and retired on June 16, 2025", "2025-06-16"),
        ("Released 2023-12-11; see 2026-02-30 (invalid)", "2023-12-11"),
        ("Signed 3 Sept 2024", "2024-09-03"),
        ("no dates here, only 2024", None),
    ],
)
def test_newest_date(text: str, expected: str | None) -> None:
    assert newest_date(text) == expected


def test_a_pdf_is_indexed_as_its_extracted_text(tmp_path: Path) -> None:
    (tmp_path / "offer.pdf").write_bytes(text_pdf("Mistral Medium 3 costs 2 USD per million"))
    scan = scan_corpus(tmp_path)
    assert not scan.problems
    (document,) = scan.documents
    assert "Mistral Medium 3 costs 2 USD per million" in document.text
    assert document.extracted and document.source == f"{tmp_path.name}/offer.pdf"


def test_an_addendum_is_dated_by_its_date_line_not_by_the_end_of_its_term(
    tmp_path: Path,
) -> None:
    (tmp_path / "addendum.md").write_text(
        "# Addendum 2 to the framework contract\n\n**Date:** 2026-10-15\n\n"
        "The term of this addendum runs until 31 October 2027.\n",
        encoding="utf-8",
    )
    (document,) = scan_corpus(tmp_path).documents
    assert document.date == "2026-10-15"
    assert "Date:" in document.date_basis


@pytest.mark.parametrize(
    ("text", "expected", "basis"),
    [
        (
            "---\ntitle: Quotas\nms.date: 11/26/2025\n---\nValid until 2027-01-01.",
            "2025-11-26",
            "front matter (ms.date)",
        ),
        (
            "---\ndate: 2026-01-05T10:00:00Z\nlast_updated: March 3, 2026\n---\nText.",
            "2026-03-03",
            "front matter (last_updated)",
        ),
        ("Preisblatt\n\nStand: 01.10.2026\n\nGültig bis 31.12.2027.", "2026-10-01", "Stand"),
        (
            "Price sheet\nAs of March 2026, the following prices apply until 2027-12-31.",
            "2026-03",
            "As of",
        ),
        ("| Date | 15 October 2026 |\n| Term | until 2027-10-31 |", "2026-10-15", "Date"),
        ("Updates to the term are listed below: 2027-01-01.", None, ""),  # no label, no date
        ("The contract was signed on 2026-01-05.", None, ""),
    ],
)
def test_a_documents_own_date(text: str, expected: str | None, basis: str) -> None:
    written, where = own_date(text)
    assert written == expected
    assert basis in where


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10/15/2026", "2026-10-15"),  # month first, as US front matter writes it
        ("15/10/2026", "2026-10-15"),  # the first number cannot be a month
        ("15.10.2026", "2026-10-15"),
        ("2026-02-30", None),
        ("sometime soon", None),
    ],
)
def test_parse_date(value: str, expected: str | None) -> None:
    assert parse_date(value) == expected


def test_an_mdx_page_is_indexed_with_its_front_matter_title_and_date(tmp_path: Path) -> None:
    (tmp_path / "pricing.mdx").write_text(
        "---\ntitle: Orca pricing\ndate: 2026-02-01\ndescription: Prices\n---\n"
        "import Tabs from '@site/src/Tabs'\n\n<Tabs>\n\n"
        "Orca Pro costs 3 EUR per million input tokens until 2027-06-30.\n\n</Tabs>\n",
        encoding="utf-8",
    )
    (document,) = scan_corpus(tmp_path).documents
    assert (document.title, document.date) == ("Orca pricing", "2026-02-01")
    assert document.description == "Prices"
    assert not document.extracted  # spans are spans of the file itself


def test_front_matter_is_read_as_yaml_with_quoted_and_folded_values() -> None:
    text = (
        "---\ntitle: 'It''s Orca: the offer'\ndescription: >-\n  EUR prices and\n  terms\n"
        "tags: [a, b]\nms.date: 2026-02-30\n---\n# Body\n"
    )
    values, lines = front_matter(text)
    assert values == {
        "title": "It's Orca: the offer",
        "description": "EUR prices and terms",
        "ms.date": "2026-02-30",  # kept as written; no date is made of it
    }
    assert lines == 8
    assert own_description(text) == "EUR prices and terms"
    assert own_date(text)[0] is None
    broken = "---\ntitle: Orca: the model\n  - oops\n---\n"  # not YAML: read line by line
    assert front_matter(broken)[0]["title"] == "Orca: the model"


def test_a_pdf_knows_where_each_page_starts_and_its_date_properties(tmp_path: Path) -> None:
    pages = ["Cover page of the offer.", "", "Hosting costs 4 EUR per hour."]  # page 2 is empty
    (tmp_path / "offer.pdf").write_bytes(text_pdf(*pages, modified="D:20260301120000Z"))
    (document,) = scan_corpus(tmp_path).documents
    offset = document.text.index("Hosting")
    assert page_at(document.pages, offset) == 3
    assert page_at(document.pages, 0) == 1
    assert page_at((), offset) is None  # a file without pages
    assert (document.date, document.date_basis) == ("2026-03-01", "PDF properties (modified)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("As of 31 December 2099, this agreement expires.\nDate: 2026-01-05", "2026-01-05"),
        (
            "- Updated: prices will be updated on 1 January 2099\n\nDated: 3rd March 2026",
            "2026-03-03",
        ),
        ("Data: retained until 31 December 2029.", None),  # "Data" is no date label in English
        ("```yaml\ndate: 2019-01-01\n```\nLast updated 2026-03-03", "2026-03-03"),
        ("\ufeff---\ndate: 2026-02-01\n---\n# Offer", "2026-02-01"),
        ("Mis à jour le 3 mars 2026", "2026-03-03"),
        ("Stand: 15. März 2026", "2026-03-15"),
        ("Date: 2026/3/4", "2026-03-04"),
        ("Fecha: 3 de marzo de 2026", "2026-03-03"),
    ],
)
def test_a_documents_own_date_is_not_a_term_a_plan_or_code(text: str, expected: str | None) -> None:
    assert own_date(text, today=datetime.date(2026, 11, 30))[0] == expected


def test_a_date_with_slashes_is_day_first_outside_english() -> None:
    assert own_date("Datum: 03/04/2026", day_first=True)[0] == "2026-04-03"
    assert own_date("Date: 03/04/2026")[0] == "2026-03-04"


def test_the_title_of_an_mdx_page_without_front_matter_is_its_heading(tmp_path: Path) -> None:
    (tmp_path / "page.mdx").write_text(
        "import Tabs from '@theme/Tabs';\n\n<Tabs>\n\n# Orca pricing\n\nText.\n", encoding="utf-8"
    )
    (document,) = scan_corpus(tmp_path).documents
    assert document.title == "Orca pricing"
