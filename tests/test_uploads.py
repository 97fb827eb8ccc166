"""Documents added in the web app: safe names, refused files change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.workspace.uploads import UploadResult, add_uploads, remove_upload, safe_name
from index.errors import DocumentError


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("price list.pdf", "price list.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.ini.md", "win.ini.md"),
        ("/abs/path/contract.DOCX", "contract-343de5.docx"),  # not "contract.docx"'s file
        ("offer.md ", "offer.md"),
        ("価格表.md", "価格表.md"),
        ("Angebot für Gent (v2).pdf", "Angebot für Gent (v2).pdf"),
        ("e\u0301te\u0301.md", "\u00e9t\u00e9.md"),  # NFD from macOS is NFC
        (".hidden.md", "hidden-1f38d3.md"),  # changed to be safe: the name's hash is added
        ("_draft.md", "draft-9bb782.md"),
        ("Données <script>.html", "Données -script-fffc3c.html"),
        ("....", "document-dfa347"),
    ],
)
def test_upload_names_keep_any_script_and_only_safe_characters(given: str, kept: str) -> None:
    assert safe_name(given) == kept
    assert safe_name(kept) == kept


def test_names_made_safe_never_become_one_and_stay_short() -> None:
    assert safe_name("a?.md") != safe_name("a*.md")
    assert len({safe_name("report.md"), safe_name("report.MD"), safe_name("report.md.")}) == 3
    assert safe_name("x" * 300 + "1.md") != safe_name("x" * 300 + "2.md")
    assert len(safe_name("価" * 300 + ".md").encode()) <= 200


def test_two_uploads_named_in_japanese_both_stay(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    first = add_uploads(uploads, [upload(tmp_path, "価格表.md", b"# Prices\n\n4 EUR.\n")], 1024)
    second = add_uploads(uploads, [upload(tmp_path, "契約書.md", b"# Contract\n\nTerms.\n")], 1024)
    assert (first.added, second.added) == (("uploads/価格表.md",), ("uploads/契約書.md",))
    assert second.replaced == ()
    assert sorted(p.name for p in uploads.iterdir()) == sorted(["価格表.md", "契約書.md"])


def test_the_same_bytes_uploaded_twice_are_reported_not_kept_twice(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    data = b"# Offer\n\nHosting costs 4 EUR per hour.\n"
    add_uploads(uploads, [upload(tmp_path, "offer.md", data)], 1024)
    again = add_uploads(
        uploads,
        [upload(tmp_path, "offer copy.md", data), upload(tmp_path, "offer (1).md", data)],
        1024,
    )
    assert again.added == () and again.refused == ()
    assert again.duplicates == (
        ("offer copy.md", "uploads/offer.md"),
        ("offer (1).md", "uploads/offer.md"),
    )
    assert [p.name for p in uploads.iterdir()] == ["offer.md"]


def upload(tmp_path: Path, name: str, data: bytes) -> tuple[str, Path]:
    path = tmp_path / "incoming" / name.replace("/", "_")
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return name, path


def test_good_files_are_kept_and_bad_ones_refused_with_a_reason(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    files = [
        upload(tmp_path, "../terms.md", b"# Terms\n\nData stays in the EU.\n"),
        upload(tmp_path, "binary.txt", b"\x00\x01\x02 not text"),
        upload(tmp_path, "latin1.txt", "Données".encode("latin-1")),
        upload(tmp_path, "empty.md", b"   \n"),
        upload(tmp_path, "fake.pdf", b"%PDF-1.4 broken"),
        upload(tmp_path, "tool.exe", b"MZ"),
        upload(tmp_path, "big.md", b"x" * (2 * 2**20)),
    ]
    result = add_uploads(uploads, files, max_bytes=2**20)
    assert result.added == ("uploads/terms.md",)
    assert [p.name for p in uploads.iterdir()] == ["terms.md"]
    reasons = dict(result.refused)
    assert set(reasons) == {
        "binary.txt",
        "latin1.txt",
        "empty.md",
        "fake.pdf",
        "tool.exe",
        "big.md",
    }
    assert "NUL" in reasons["binary.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "no text" in reasons["empty.md"]
    assert "PDF" in reasons["fake.pdf"]
    assert "unsupported file type .exe" in reasons["tool.exe"]
    assert reasons["big.md"] == "the file is 2.0 MiB; the limit is 1 MiB"


def test_a_second_upload_of_a_name_replaces_the_first(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    add_uploads(uploads, [upload(tmp_path, "a.md", b"first")], 1024)
    result = add_uploads(uploads, [upload(tmp_path, "a.md", b"second")], 1024)
    assert result.replaced == ("uploads/a.md",)
    assert (uploads / "a.md").read_bytes() == b"second"


def test_only_uploaded_documents_can_be_removed(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    add_uploads(uploads, [upload(tmp_path, "a.md", b"text")], 1024)
    (tmp_path / "secret.md").write_text("keep me")
    with pytest.raises(DocumentError, match="shipped corpus"):
        remove_upload(uploads, "corpus/004_910b252cb6477a8d.txt")
    with pytest.raises(DocumentError, match="no such uploaded document"):
        remove_upload(uploads, "uploads/../secret.md")
    assert (tmp_path / "secret.md").exists()
    remove_upload(uploads, "uploads/a.md")
    assert not (uploads / "a.md").exists()


def test_an_upload_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    zeros = tmp_path / "zeros.md"
    zeros.symlink_to("/dev/zero")  # read whole, it would never end
    result = add_uploads(uploads, [("zeros.md", zeros), ("folder.md", tmp_path)], 2**20)
    assert result.refused == (
        ("zeros.md", "the upload is not a regular file"),
        ("folder.md", "the upload is not a regular file"),
    )
    assert not uploads.exists()


def test_an_upload_that_cannot_be_saved_is_refused_and_the_folder_left_clean(
    tmp_path: Path,
) -> None:
    uploads = tmp_path / "uploads"
    (uploads / "terms.md").mkdir(parents=True)  # a folder where the file would go
    result = add_uploads(
        uploads, [upload(tmp_path, "terms.md", b"# Terms\n\nPaid monthly.\n")], 1024
    )
    assert result.added == ()
    ((name, reason),) = result.refused
    assert name == "terms.md" and reason.startswith("the file cannot be saved in uploads/ (")
    assert [p.name for p in uploads.iterdir()] == ["terms.md"]
    assert (uploads / "terms.md").is_dir()


def test_the_documents_tab_says_which_upload_holds_the_same_bytes() -> None:
    from ui.documents import _added

    result = UploadResult((), (), (), (("offer copy.md", "uploads/offer.md"),))
    assert "the same file is already uploaded as uploads/offer.md" in _added(result, None)


def test_removing_an_upload_in_a_folder_removes_that_file_only(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    (uploads / "sub").mkdir(parents=True)
    (uploads / "evil.md").write_text("top", encoding="utf-8")
    (uploads / "sub" / "evil.md").write_text("inside", encoding="utf-8")
    remove_upload(uploads, "uploads/sub/evil.md")
    assert (uploads / "evil.md").read_text(encoding="utf-8") == "top"
    assert not (uploads / "sub" / "evil.md").exists()
    for wrong in ("uploads/../secret.md", "uploads/catalog.toml", "uploads/sub"):
        with pytest.raises(DocumentError, match="no such uploaded document"):
            remove_upload(uploads, wrong)
