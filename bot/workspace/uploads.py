"""Documents added and removed in the web app, kept in the data folder's uploads/ folder.

A file is read as a document before it is kept: one that is unsupported, broken, empty or too
large is refused with a one-line reason and nothing changes. Kept files are written atomically,
so the index never sees half a file, under their own name in any script ("価格表.md" stays
"価格表.md"), normalised (NFC: a name typed on macOS and on Windows is one name) and made safe
(`safe_name`). Two uploads with different names never share a file: a name that had to be
changed to be safe gets a short hash of the name as given. The same name uploaded again is a
new version of that document and replaces it (reported); the same bytes as a kept upload are
recognised and reported, not kept twice. Only uploaded documents can be removed here; the
shipped corpus is managed in its folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from index.documents import CATALOG_NAME
from index.errors import DocumentError
from index.loaders import SUPPORTED_SUFFIXES, load_text

_UNSAFE = re.compile(r"[^\w.() -]+")  # \w: letters and digits of any script, and "_"
MAX_NAME_BYTES = 200  # of UTF-8: file systems allow 255 bytes, not characters
NAME_HASH = 6  # hex digits of the name's hash added when making it safe changed it


@dataclass(frozen=True)
class UploadResult:
    added: tuple[str, ...]  # sources now in uploads/, e.g. "uploads/price-list.pdf"
    replaced: tuple[str, ...]  # of those, the ones that replaced a file of the same name
    refused: tuple[tuple[str, str], ...]  # (file name, reason)
    duplicates: tuple[tuple[str, str], ...] = ()  # (file name, the kept upload of its bytes)


def safe_name(name: str) -> str:
    """The last part of a name a browser sent, NFC-normalised, with only letters and digits
    of any script and `._ -()` left, at most MAX_NAME_BYTES of UTF-8, not hidden (no leading
    "." or "_": the corpus scan leaves such files out). When that changed the name, a hash of
    the name as sent is added, so that two names never become one ("a?.md" and "a*.md"); a
    safe name is its own safe name."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    clean_suffix = _UNSAFE.sub("", suffix)
    kept = re.sub(r"^[\s._-]+|[\s.-]+$", "", _UNSAFE.sub("-", stem))  # "_x" is never indexed
    ending = f".{clean_suffix.lower()}" if clean_suffix else ""
    tag = f"-{hashlib.sha256(base.encode()).hexdigest()[:NAME_HASH]}"
    # Any change ("report.MD", "a.md.", "_x.md") could make it another upload's name.
    changed = not kept or f"{kept}{ending}" != base
    if len(f"{kept}{ending}".encode()) > MAX_NAME_BYTES:
        changed = True
    if not changed:
        return f"{kept}{ending}"
    kept = kept or "document"
    while len(f"{kept}{tag}{ending}".encode()) > MAX_NAME_BYTES:
        kept = kept[:-1]
    return f"{kept}{tag}{ending}"


def add_uploads(uploads_dir: Path, files: list[tuple[str, Path]], max_bytes: int) -> UploadResult:
    """Keep each (name shown to the user, temporary path) that reads as a document."""
    added: list[str] = []
    replaced: list[str] = []
    refused: list[tuple[str, str]] = []
    duplicates: list[tuple[str, str]] = []
    kept = _kept_hashes(uploads_dir)
    for shown, path in files:
        name = safe_name(shown)
        try:
            data = _checked(name, path, max_bytes)
        except DocumentError as exc:
            refused.append((shown, exc.reason))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in kept:
            duplicates.append((shown, f"{uploads_dir.name}/{kept[digest]}"))
            continue
        target = uploads_dir / name
        existed = target.exists()
        try:
            _write_atomically(target, data)
        except OSError as exc:  # a full disk, a folder of that name: the upload is not kept
            reason = exc.strerror or type(exc).__name__
            refused.append((shown, f"the file cannot be saved in {uploads_dir.name}/ ({reason})"))
            continue
        kept = {key: value for key, value in kept.items() if value != name} | {digest: name}
        if existed:
            replaced.append(f"{uploads_dir.name}/{name}")
        added.append(f"{uploads_dir.name}/{name}")
    return UploadResult(tuple(added), tuple(replaced), tuple(refused), tuple(duplicates))


def _kept_hashes(uploads_dir: Path) -> dict[str, str]:
    """The SHA-256 of each kept upload's bytes, and its name (uploads are few and small)."""
    if not uploads_dir.is_dir():
        return {}
    kept: dict[str, str] = {}
    for path in sorted(uploads_dir.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            try:
                kept.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), path.name)
            except OSError:
                continue  # unreadable: it cannot be compared, and the index reports it
    return kept


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
    path = uploads_dir / source[len(prefix) :]  # as indexed: a folder inside uploads/ too
    inside = path.resolve().is_relative_to(uploads_dir.resolve())
    if not inside or path.name == CATALOG_NAME or not path.is_file():
        raise DocumentError(source, "there is no such uploaded document")
    path.unlink()
