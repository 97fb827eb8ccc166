"""Bad documents uploaded in the web app: each is refused with a one-line reason saying what is
wrong, and the index, the documents and the transcripts stay exactly as they were; a name that
tries to leave the uploads folder is kept inside it under a safe name."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfWriter

from bot.settings import Settings
from bot.workspace.access import LOCAL
from bot.workspace.service import Workspace
from tests.reliability import Recorder, snapshot
from tests.test_fuzz_loaders import OFFER, text_pdf, word_file
from tests.test_loaders import _spreadsheet_like

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

MAX_REASON = 300


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-uploads")


@pytest.fixture(scope="module")
def workspace(root: Path) -> Workspace:
    """A workspace over a corpus of its own, with one saved conversation, uploads up to 1 MiB."""
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "alpha.md").write_text(
        "# Alpha pricing\n\nAlpha costs $3 per million input tokens.\n", encoding="utf-8"
    )
    settings = Settings(data_dir=root / "data", corpus_dir=corpus, max_upload_mb=1)
    workspace = Workspace.open(settings)
    workspace.ask(LOCAL, "What does Alpha cost?")
    return workspace


def files_under(root: Path) -> dict[str, str]:
    """Every file below `root` but the incoming uploads and the index's own files, hashed;
    the transcript database by name only (SQLite may rewrite it; its rows are in snapshots)."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(("incoming/", "data/chroma/")) or not path.is_file():
            continue
        transcripts = path.name.startswith("transcripts.sqlite")
        found[relative] = "" if transcripts else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def incoming(root: Path, name: str, data: bytes) -> Path:
    """The temporary file a browser upload arrives as."""
    folder = root / "incoming"
    folder.mkdir(exist_ok=True)
    path = folder / hashlib.sha256(name.encode("utf-8", "surrogatepass") + data).hexdigest()
    path.write_bytes(data)
    return path


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def is_one_line(reason: str) -> bool:
    return bool(reason) and "\n" not in reason and "\r" not in reason and len(reason) < MAX_REASON


BINARY = bytes(range(256)) * 16
# (case, name shown by the browser, the file's bytes, what the reason must say)
REFUSED: list[tuple[str, str, Callable[[], bytes], str]] = [
    ("empty file", "empty.md", lambda: b"", "the file is empty"),
    ("whitespace-only .md", "blank.md", lambda: b"  \n\t\r\n \n", "no text to index"),
    (
        "oversized (2 MiB, limit 1 MiB)",
        "big.md",
        lambda: b"# Big\n\n" + b"Alpha costs $3. " * (2 * 2**20 // 16),
        "the limit is 1 MiB",
    ),
    ("corrupt PDF", "broken.pdf", lambda: b"%PDF-1.7\n" + BINARY, "not a readable PDF"),
    ("encrypted PDF", "locked.pdf", lambda: text_pdf(OFFER, password="secret"), "encrypted"),
    ("PDF with no text", "scan.pdf", blank_pdf, "no text to index"),
    (
        "password-protected (OLE) .docx",
        "locked.docx",
        lambda: bytes.fromhex("D0CF11E0A1B11AE1") + bytes(1024),
        "password-protected",
    ),
    (
        "zip that is not a Word document",
        "notes.docx",
        lambda: zip_of({"notes.txt": b"hello"}),
        "not a Word document",
    ),
    (
        "truncated .docx",
        "cut.docx",
        lambda: word_file(OFFER)[: len(word_file(OFFER)) // 2],
        "damaged or cut short",
    ),
    (".xlsx renamed .docx", "prices.docx", _spreadsheet_like, "an Excel workbook"),
    ("PDF renamed .docx", "offer.docx", lambda: text_pdf(OFFER), "the file is a PDF"),
    (".docx renamed .pdf", "offer.pdf", lambda: word_file(OFFER), "the file is a Word document"),
    ("binary data as .txt", "data.txt", lambda: BINARY, "binary data"),
    ("binary data as .md", "data.md", lambda: BINARY, "binary data"),
    (
        "invalid UTF-8 .md (latin-1)",
        "latin1.md",
        lambda: "# Prix\n\nDonnées hébergées en Europe.\n".encode("latin-1"),
        "not UTF-8",
    ),
    ("unsupported type .exe", "setup.exe", lambda: b"MZ" + BINARY, "unsupported file type .exe"),
    ("workbook without a sheet", "prices.xlsx", _spreadsheet_like, "no text to index"),
    (
        "invalid UTF-8 .csv (Windows-1252)",
        "prices.csv",
        lambda: "Produit;Prix\nHébergement;4 €\n".encode("cp1252"),
        "not UTF-8",
    ),
]


@pytest.mark.parametrize(
    ("case", "name", "make", "says"), REFUSED, ids=[case for case, *_ in REFUSED]
)
def test_a_bad_upload_is_refused_with_a_reason_and_changes_nothing(
    workspace: Workspace,
    root: Path,
    reliability: Recorder,
    case: str,
    name: str,
    make: Callable[[], bytes],
    says: str,
) -> None:
    assert_refused(workspace, root, reliability, case, name, incoming(root, name, make()), says)


def test_an_upload_that_is_not_a_regular_file_is_refused(
    workspace: Workspace, root: Path, reliability: Recorder
) -> None:
    device = root / "incoming" / "zeros.md"
    device.parent.mkdir(exist_ok=True)
    device.symlink_to("/dev/zero")  # would never end if read whole
    says = "not a regular file"
    assert_refused(workspace, root, reliability, "symlink to /dev/zero", "zeros.md", device, says)
    folder = root / "incoming" / "folder.md"
    folder.mkdir()
    assert_refused(
        workspace, root, reliability, "a folder as the upload", "folder.md", folder, says
    )


def assert_refused(
    workspace: Workspace,
    root: Path,
    recorder: Recorder,
    case: str,
    name: str,
    path: Path,
    says: str,
) -> None:
    settings = workspace.engine.settings
    before, files = snapshot(settings), files_under(root)
    result, report = workspace.add_documents(LOCAL, [(name, path)])
    after = snapshot(settings)
    lost = before.lost(after)
    ((shown, reason),) = result.refused
    recorder.record("bad input", case, outcome=reason, lost=lost)
    assert shown == name and is_one_line(reason) and says in reason, reason
    assert (result.added, report) == ((), None)
    assert lost.total == 0 and after == before
    assert files_under(root) == files


# Names a browser could send that point outside the uploads folder, and what each is kept as.
TRAVERSALS = [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows-evil.md", "windows-evil.md"),
    ("/etc/cron.d/procurebot-evil.md", "procurebot-evil.md"),
    ("nul\x00byte.md", "nul-byte-30b75a.md"),  # changed to be safe: the hash of its name
]


def test_names_that_leave_the_uploads_folder_are_kept_inside_it(
    workspace: Workspace, root: Path, reliability: Recorder
) -> None:
    settings = workspace.engine.settings
    outside = root / "outside" / "secret.md"
    outside.parent.mkdir()
    outside.write_text("# Secret\n\nThe outside file says Gamma costs $9.\n", encoding="utf-8")
    link = root / "incoming" / "link.md"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(outside)
    uploads = [
        (name, incoming(root, name, f"# Terms {n}\n\nBeta is hosted in Paris.\n".encode()))
        for n, (name, _) in enumerate(TRAVERSALS)
    ]
    before, files = snapshot(settings), files_under(root)
    result, report = workspace.add_documents(LOCAL, [*uploads, ("link.md", link)])
    after = snapshot(settings)
    kept = [f"uploads/{safe}" for _, safe in TRAVERSALS] + ["uploads/link.md"]
    assert result.refused == () and list(result.added) == kept
    assert report is not None and sorted(report.added) == sorted(kept)
    assert before.lost(after).total == 0
    assert set(after.documents) - set(before.documents) == set(kept)
    new_files = set(files_under(root)) - set(files)
    assert new_files == {f"data/{source}" for source in kept}
    assert all(files_under(root)[name] == digest for name, digest in files.items())
    uploads_dir = settings.uploads_dir.resolve()
    for source in kept:
        path = settings.data_dir / source
        assert path.resolve().parent == uploads_dir and not path.is_symlink()
    assert not Path("/etc/cron.d/procurebot-evil.md").exists()
    assert outside.read_text(encoding="utf-8").startswith("# Secret")
    cases = [f"upload named {name!r}" for name, _ in TRAVERSALS] + ["symlink to a file outside"]
    for case, source in zip(cases, kept, strict=True):
        reliability.record("bad input", case, outcome=f"kept as {source}", lost=before.lost(after))


def test_html_with_scripts_is_indexed_as_its_text_without_them(
    workspace: Workspace, root: Path, reliability: Recorder
) -> None:
    page = (
        b"<html><head><script>document.cookie = 'stolen';</script></head><body>"
        b"<h1>Gamma hosting</h1><img src=x onerror=\"alert('xss')\">"
        b"<p>Gamma is hosted in Lyon, France.<script>alert(1)</script></p></body></html>"
    )
    settings = workspace.engine.settings
    before = snapshot(settings)
    result, report = workspace.add_documents(LOCAL, [("page.html", incoming(root, "p", page))])
    after = snapshot(settings)
    assert result.added == ("uploads/page.html",) and report is not None
    lost = before.lost(after)
    assert lost.total == 0
    chunks = [c for c in workspace.engine.store.chunks() if c.source == "uploads/page.html"]
    text = "\n".join(chunk.text for chunk in chunks)
    assert "Gamma is hosted in Lyon, France." in text
    for markup in ("<", ">", "script", "alert", "onerror", "cookie"):
        assert markup not in text
    reliability.record(
        "bad input", "HTML with <script> and <img onerror>", "indexed as text; script dropped", lost
    )
