"""Telling a damaged or mislabelled file apart, and saying so in one line.

What a parser of a damaged file raises besides its own errors (MALFORMED); what an Office
file really is, judged by its signature and its zip parts' names; the zip-bomb check on a
Word file or workbook before it is unpacked; and an exception's message cut to one line for
a DocumentError's reason.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from index.errors import DocumentError

# Encrypted Word files and old .doc files are OLE compound files, not zip archives.
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
_OFFICE_FOLDERS = (
    ("word/", "a Word document"),
    ("xl/", "an Excel workbook"),
    ("ppt/", "a PowerPoint presentation"),
)
# A Word file's parts are read into memory whole: a larger total is refused (a zip bomb).
MAX_UNPACKED_BYTES = 256 * 2**20
# What a parser of a damaged file raises besides its own errors: a missing attribute read as
# None, a number that is not one, nesting deeper than Python's stack.
MALFORMED: tuple[type[Exception], ...] = (
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    ArithmeticError,
    RecursionError,
)


def office_kind(data: bytes) -> str:
    """What a zip archive holds, judged by its parts' names: "an Excel workbook", …"""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return "a damaged zip archive"
    for folder, kind in _OFFICE_FOLDERS:
        if any(name.startswith(folder) for name in names):
            return kind
    return "a zip archive"


def check_unpacked_size(path: Path, data: bytes) -> None:
    """Refuse a zip whose parts would unpack to more than MAX_UNPACKED_BYTES (a zip bomb):
    reading a part never gives more than its declared size, so the declared sizes decide."""
    kind = f"{path.suffix.lower()} file"  # a Word document or a workbook
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as exc:
        problem = one_line(exc)
        if data.startswith(ZIP_SIGNATURE):  # a zip's index is at its end: a cut file loses it
            problem = f"the zip archive is damaged or cut short: {problem}"
        raise DocumentError(path.name, f"not a readable {kind} ({problem})") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise DocumentError(
            path.name,
            f"not a readable {kind} (it would unpack to {unpacked / 2**20:,.0f} MiB, "
            f"too large; the limit is {MAX_UNPACKED_BYTES // 2**20} MiB)",
        )


def one_line(exc: BaseException, limit: int = 160) -> str:
    """An exception's message on one line, at most `limit` characters (its type if empty)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
