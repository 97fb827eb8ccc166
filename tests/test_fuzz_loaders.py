"""Fuzzing the loaders: any bytes under any supported name give text or a one-line reason.

Random bytes, random bytes behind a real file's signature, and real files (Markdown, text,
HTML, a PDF written by pypdf, a Word file written by python-docx) truncated, flipped,
spliced with garbage, or with their XML broken inside an intact zip. Whatever comes in,
`load_text` returns a str or raises DocumentError whose reason is one short line; any other
exception would reach the person as a stack trace, or stop a corpus from indexing.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from index.errors import DocumentError
from index.loaders import SUPPORTED_SUFFIXES, load_text
from tests.test_sheets import workbook

SUFFIXES = sorted(SUPPORTED_SUFFIXES)
MAX_REASON = 300
OFFER = "Mistral Medium 3 costs 2 USD per million output tokens; data stays in the EU."


def text_pdf(*lines: str, compress: bool = False, password: str = "") -> bytes:
    """A PDF written by pypdf: one page per line, in Helvetica."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    resources = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    for line in lines:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = resources
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode("latin-1"))
        page.replace_contents(stream)
        if compress:
            page.compress_content_streams()
    if password:
        writer.encrypt(password, algorithm="RC4-128")  # AES needs `cryptography`
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def word_file(*paragraphs: str, table: bool = True) -> bytes:
    """A .docx written by python-docx: a heading, the paragraphs and a small table."""
    document = docx.Document()
    document.add_heading("Hosting offer", level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        cells = document.add_table(rows=2, cols=2)
        for cell, value in zip(
            (c for row in cells.rows for c in row.cells),
            ["Model", "Price", "Medium 3", "2 USD"],
            strict=True,
        ):
            cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def rezipped(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    """The zip archive `data` with each member's content passed through `change`."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info)))
    return buffer.getvalue()


VALID = {
    ".txt": f"{OFFER}\nSecond line — données.\n".encode(),
    ".md": f"# Offer\n\n- {OFFER}\n\n## Terms\n\nPaid monthly.\n".encode(),
    ".markdown": f"# Offer\n\n{OFFER}\n".encode(),
    ".mdx": f"---\ntitle: Offer\n---\nimport X from './x'\n\n<X>\n\n{OFFER}\n\n</X>\n".encode(),
    ".html": (
        f"<html><head><title>Offer</title><script>var a = '<p>';</script></head>"
        f"<body><h1>Offer</h1><p>{OFFER}</p><table><tr><td>a</td><td>b</td></tr></table>"
        "<!-- note --><![CDATA[x]]></body></html>"
    ).encode(),
    ".htm": f"<p>{OFFER}<br>Paid monthly.</p>".encode(),
    ".pdf": text_pdf(OFFER, "Paid monthly."),
    ".docx": word_file(OFFER, "Paid monthly."),
    ".csv": f"Offer;Terms\n{OFFER};Paid monthly.\n".encode(),
    ".xlsx": workbook(),
}
# What a file of that kind starts with, so that random bytes get past the first check.
SIGNATURES = {
    ".xlsx": [b"PK\x03\x04"],
    ".pdf": [b"%PDF-1.7\n", b"%PDF-1.4\n1 0 obj\n<<"],
    ".docx": [b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"],
    ".html": [b"<html><body><p>", b"<![", b"<!DOCTYPE "],
}


def assert_defined(name: str, data: bytes) -> str:
    """`load_text` gives text, or a DocumentError with a one-line reason that names the file."""
    try:
        text = load_text(Path(name), data)
    except DocumentError as exc:
        assert exc.path == name
        assert exc.reason and "\n" not in exc.reason and "\r" not in exc.reason, exc.reason
        assert len(exc.reason) < MAX_REASON, exc.reason
        return exc.reason
    assert isinstance(text, str) and text.strip()
    return text


def test_the_valid_files_are_read() -> None:
    for suffix, data in VALID.items():
        expected = "Orca Lite" if suffix == ".xlsx" else "Mistral Medium 3 costs 2 USD"
        assert expected in load_text(Path(f"x{suffix}"), data), suffix
    assert "var a" not in load_text(Path("x.html"), VALID[".html"])


def mutations(data: bytes, rng: random.Random) -> bytes:
    """`data` truncated, with bytes flipped, garbage spliced in, or a part repeated or cut."""
    choice = rng.randrange(5)
    at = rng.randrange(len(data))
    if choice == 0:
        return data[:at]
    if choice == 1:
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        return bytes(mutated)
    if choice == 2:
        garbage = rng.randbytes(rng.randint(1, 64))
        return data[:at] + garbage + data[at + rng.randint(0, 64) :]
    if choice == 3:
        return data[:at] + data[at : at + rng.randint(1, 200)] * rng.randint(2, 50) + data[at:]
    return data[:at] + data[at + rng.randint(1, 400) :]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_random_bytes_give_text_or_a_one_line_reason(suffix: str) -> None:
    rng = random.Random(f"random-bytes{suffix}")
    for _ in range(300):
        prefix = rng.choice([b"", *SIGNATURES.get(suffix, [])])
        data = prefix + rng.randbytes(rng.choice([0, 1, 7, 64, 512, 4096]))
        assert_defined(f"x{suffix}", data)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_damaged_valid_files_give_text_or_a_one_line_reason(suffix: str) -> None:
    rng = random.Random(f"mutations{suffix}")
    valid = VALID[suffix]
    for _ in range(250):
        data = valid
        for _ in range(rng.randint(1, 3)):
            data = mutations(data, rng) or data[:1]
        assert_defined(f"x{suffix}", data)


def test_a_compressed_or_encrypted_pdf_damaged_gives_a_one_line_reason() -> None:
    rng = random.Random("pdf-variants")
    for valid in (text_pdf(OFFER, compress=True), text_pdf(OFFER, password="secret")):
        for _ in range(150):
            assert_defined("x.pdf", mutations(valid, rng))


def test_a_word_file_with_broken_xml_inside_an_intact_zip_gives_a_one_line_reason() -> None:
    rng = random.Random("docx-xml")
    valid = word_file(OFFER, "Paid monthly.")

    def damage(name: str, content: bytes) -> bytes:
        if name.endswith((".xml", ".rels")) and rng.random() < 0.5:
            return mutations(content, rng)
        return content

    for _ in range(150):
        assert_defined("x.docx", rezipped(valid, damage))


def test_a_zip_bomb_word_file_is_refused_without_being_unpacked() -> None:
    """300 MB of document.xml in a 300 kB file: refused by its declared size."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(VALID[".docx"])) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb,
    ):
        for info in source.infolist():
            if info.filename != "word/document.xml":
                bomb.writestr(info.filename, source.read(info))
        with bomb.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"<w:p/>" * (2**20 // 6)
            for _ in range(300):
                member.write(block)
    assert len(buffer.getvalue()) < 2 * 2**20
    reason = assert_defined("bomb.docx", buffer.getvalue())
    assert "too large" in reason


def test_an_entity_bomb_in_a_word_file_is_not_expanded() -> None:
    laughs = b'<!ENTITY a0 "ha">' + b"".join(
        b'<!ENTITY a%d "%s">' % (n, b"&a%d;" % (n - 1) * 10) for n in range(1, 10)
    )
    bomb = rezipped(
        VALID[".docx"],
        lambda name, content: (
            content.replace(
                b"<w:document ", b"<!DOCTYPE w:document [" + laughs + b"]><w:document ", 1
            ).replace(b"Paid monthly.", b"&a9;")
            if name == "word/document.xml"
            else content
        ),
    )
    assert len(assert_defined("x.docx", bomb)) < 10_000


def test_deeply_nested_markup_gives_a_one_line_reason() -> None:
    nested = b"<div>" * 100_000 + b"text" + b"</div>" * 100_000
    assert assert_defined("x.html", nested) == "text"
    arrays = b"%PDF-1.4\n1 0 obj\n" + b"[" * 100_000 + b"]" * 100_000 + b"\nendobj\n"
    assert_defined("x.pdf", arrays + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
    body = b"<w:tbl><w:tr><w:tc>" * 2000 + b"</w:tc></w:tr></w:tbl>" * 2000
    deep = rezipped(
        VALID[".docx"],
        lambda name, content: (
            content.replace(b"<w:body>", b"<w:body>" + body)
            if name == "word/document.xml"
            else content
        ),
    )
    assert_defined("x.docx", deep)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SUFFIXES), st.binary(max_size=2048))
def test_any_bytes_give_text_or_a_one_line_reason(suffix: str, data: bytes) -> None:
    assert_defined(f"x{suffix}", data)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([".pdf", ".docx", ".html"]), st.data())
def test_any_bytes_after_a_signature_give_text_or_a_one_line_reason(
    suffix: str, data: st.DataObject
) -> None:
    prefix = data.draw(st.sampled_from(SIGNATURES[suffix]))
    assert_defined(f"x{suffix}", prefix + data.draw(st.binary(max_size=2048)))
