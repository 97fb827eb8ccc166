"""Documents added and removed in the web app, kept in the data folder's uploads/ folder.

A file is read as a document before it is kept: one that is unsupported, broken, empty or too
large is refused with a one-line reason and nothing changes. Kept files are written under a
name made only of safe characters, atomically, so the index never sees half a file. Only
uploaded documents can be removed here; the shipped corpus is managed in its folder.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from index.errors import DocumentError
from index.loaders import SUPPORTED_SUFFIXES, load_text

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
MAX_NAME = 100


@dataclass(frozen=True)
class UploadResult:
    added: tuple[str, ...]  # sources now in uploads/, e.g. "uploads/price-list.pdf"
    replaced: tuple[str, ...]  # of those, the ones that replaced a file of the same name
    refused: tuple[tuple[str, str], ...]  # (file name, reason)


def safe_name(name: str) -> str:
    """The last part of a name a browser sent, with only safe characters left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("-", stem).strip(" .-")[: MAX_NAME - len(suffix) - 1] or "document"
    suffix = _UNSAFE.sub("", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def add_uploads(uploads_dir: Path, files: list[tuple[str, Path]], max_bytes: int) -> UploadResult:
    """Keep each (name shown to the user, temporary path) that reads as a document."""
    added: list[str] = []
    replaced: list[str] = []
    refused: list[tuple[str, str]] = []
    for shown, path in files:
        name = safe_name(shown)
        try:
            data = _checked(name, path, max_bytes)
        except DocumentError as exc:
            refused.append((shown, exc.reason))
            continue
        target = uploads_dir / name
        existed = target.exists()
        try:
            _write_atomically(target, data)
        except OSError as exc:  # a full disk, a folder of that name: the upload is not kept
            reason = exc.strerror or type(exc).__name__
            refused.append((shown, f"the file cannot be saved in {uploads_dir.name}/ ({reason})"))
            continue
        if existed:
            replaced.append(f"{uploads_dir.name}/{name}")
        added.append(f"{uploads_dir.name}/{name}")
    return UploadResult(tuple(added), tuple(replaced), tuple(refused))


def _checked(name: str, path: Path, max_bytes: int) -> bytes:
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise DocumentError(name, f"unsupported file type {suffix or '(none)'}; use one of {kinds}")
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # a folder, a device, a pipe: nothing to keep
            raise DocumentError(name, "the upload is not a regular file")
        if status.st_size > max_bytes:
            size, limit = status.st_size / 2**20, max_bytes // 2**20
            raise DocumentError(name, f"the file is {size:.1f} MiB; the limit is {limit} MiB")
        with path.open("rb") as upload:
            data = upload.read(max_bytes + 1)  # never more, even if the file grows meanwhile
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DocumentError(name, f"the upload cannot be read ({reason})") from exc
    if len(data) > max_bytes:
        raise DocumentError(name, f"the file is larger than the limit of {max_bytes // 2**20} MiB")
    load_text(Path(name), data)  # raises DocumentError with the reason
    return data


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_upload(uploads_dir: Path, source: str) -> None:
    """Delete an uploaded document's file; the caller re-indexes."""
    prefix = f"{uploads_dir.name}/"
    if not source.startswith(prefix):
        raise DocumentError(
            source,
            "only documents added in the web app can be removed here; the shipped corpus is "
            "managed in its folder",
        )
    path = uploads_dir / safe_name(source[len(prefix) :])
    if path.resolve().parent != uploads_dir.resolve() or not path.is_file():
        raise DocumentError(source, "there is no such uploaded document")
    path.unlink()
