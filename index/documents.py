"""The corpus: its files, read as documents with the metadata a citation shows.

Metadata comes from `catalog.toml` in the corpus folder (`index.catalog`); a file the catalog
does not list gets metadata derived from the file itself: its title from its front matter or
first heading or line (`index.front_matter`), its language guessed from its words, kind
"other", and its own date (`index.dates.own_date`): the front matter's, else a "Date:" /
"Last updated" / "As of" line near its top, else the PDF's or Word file's properties, and
only as a last resort the newest date its text mentions (then `date_basis` says the date is
guessed). An addendum dated 2026-10-15 whose term runs to 2027-10-31 is dated 2026-10-15.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from index.catalog import (
    CATALOG_NAME,
    KINDS,
    entry_key,
    read_catalog,
    write_catalog_entry,
)
from index.dates import GUESSED, first_date, newest_date, own_date
from index.errors import CatalogError, DocumentError
from index.front_matter import DESCRIPTION_CHARS, derive_title, own_description, short
from index.language import guess_language
from index.loaders import Loaded, Pages, embedded_date, extracted, is_supported, load

# The catalog's names and `first_date` are imported from here by bot/ too.
__all__ = [
    "CATALOG_NAME",
    "KINDS",
    "CatalogError",
    "CorpusScan",
    "Document",
    "Indexed",
    "file_stamp",
    "first_date",
    "read_catalog",
    "read_document",
    "scan_corpus",
    "source_of",
    "write_catalog_entry",
]

MAX_FILE_BYTES = 20 * 1024 * 1024
RECENT_NS = 2 * 10**9  # a file changed more recently than this has no stamp yet


@dataclass(frozen=True)
class Document:
    """One source document, as indexed and cited."""

    source: str  # path relative to the corpus folder's parent, e.g. "corpus/004_….txt"
    title: str
    kind: str
    date: str | None  # ISO 8601, as precise as the text allows ("2025-05")
    date_basis: str
    language: str
    sha256: str  # of the file's bytes
    text: str
    catalogued: bool
    extracted: bool  # spans refer to text extracted from the file (HTML, PDF, DOCX)
    stamp: str = ""  # the file's `file_stamp` when read
    pages: Pages = ()  # a PDF's pages: where each starts in `text` (`index.loaders.page_at`)
    catalog_key: str = ""  # `entry_key` of the catalog entry its metadata comes from
    description: str = ""  # what it says it is about: the catalog's or front matter's

    @property
    def label(self) -> tuple[str, str, str | None, str, str, str]:
        """What is shown of it besides the quote: changing it needs no re-embedding."""
        return (self.title, self.kind, self.date, self.date_basis, self.language, self.description)


@dataclass(frozen=True)
class Indexed:
    """What the index holds of a file: the SHA-256 of its bytes, its stamp when read, and the
    catalog entry its metadata came from (`entry_key`)."""

    sha256: str
    stamp: str = ""
    catalog_key: str = ""


@dataclass(frozen=True)
class CorpusScan:
    """The readable documents of a corpus folder, the files that could not be read, and the
    files left unread because they hold the version already indexed."""

    documents: tuple[Document, ...]
    problems: tuple[DocumentError, ...] = field(default=())
    unchanged: tuple[str, ...] = field(default=())  # sources
    # (source, stamp) of unchanged files whose stamp is not the one recorded
    restamped: tuple[tuple[str, str], ...] = field(default=())


def scan_corpus(corpus_dir: Path, indexed: Mapping[str, Indexed] | None = None) -> CorpusScan:
    """Read every supported file below `corpus_dir` (hidden files and the catalog excepted).

    `indexed` says, by source, what the index holds: a file whose stamp (`file_stamp`) is the
    one recorded is not opened, and a file whose bytes have the SHA-256 recorded is not read
    as a document (finding its title, dates and language costs far more than the hash), so
    that a scan for changes costs little more than listing the folder.
    """
    if not corpus_dir.is_dir():
        raise CatalogError(f"The corpus folder {corpus_dir} does not exist.")
    indexed = indexed or {}
    catalog = read_catalog(corpus_dir / CATALOG_NAME)
    documents: list[Document] = []
    problems: list[DocumentError] = []
    unchanged: list[str] = []
    restamped: list[tuple[str, str]] = []
    for name, relative, stat in _corpus_files(str(corpus_dir)):
        source = f"{corpus_dir.name}/{relative}"
        known = indexed.get(source)
        if known is not None and known.catalog_key != entry_key(catalog.get(relative)):
            known = None  # its catalog entry changed: read it again (its text needs no embedding)
        stamp = file_stamp(stat)
        if known is not None and stamp and stamp == known.stamp:
            unchanged.append(source)
            continue
        try:
            path = Path(name)
            data = _read_bytes(path, relative, stat.st_size)
            if known is not None and known.sha256 == hashlib.sha256(data).hexdigest():
                unchanged.append(source)
                if stamp != known.stamp:
                    restamped.append((source, stamp))
            else:
                documents.append(read_document(path, corpus_dir, catalog, data, stamp))
        except DocumentError as exc:
            problems.append(DocumentError(source, exc.reason))
    return CorpusScan(tuple(documents), tuple(problems), tuple(unchanged), tuple(restamped))


def file_stamp(stat: os.stat_result) -> str:
    """What changes whenever a file's bytes do: its size, modification and change times and
    inode (as git compares files to its index). "" for a file changed in the last
    RECENT_NS: a write within the file system's clock tick after it is read would leave the
    same stamp, so such a file is hashed again next time."""
    if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) < RECENT_NS:
        return ""
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


def source_of(path: Path, corpus_dir: Path) -> str:
    """A file's identity: its path relative to the corpus folder's parent, with '/'."""
    return (Path(corpus_dir.name) / path.relative_to(corpus_dir)).as_posix()


def _read_bytes(path: Path, relative: str, size: int) -> bytes:
    if size > MAX_FILE_BYTES:
        raise DocumentError(relative, f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB")
    return path.read_bytes()


def read_document(
    path: Path,
    corpus_dir: Path,
    catalog: dict[str, dict[str, str]],
    data: bytes | None = None,
    stamp: str = "",
) -> Document:
    """One file as a document; `data` is its bytes when already read, `stamp` its
    `file_stamp` when they were. Its metadata is its catalog entry's, else its own."""
    relative = path.relative_to(corpus_dir).as_posix()
    data = _read_bytes(path, relative, path.stat().st_size) if data is None else data
    loaded = load(path, data)
    entry = catalog.get(relative)
    if entry is not None:
        return _catalogued(path, corpus_dir, data, loaded, stamp, entry)
    return _uncatalogued(path, corpus_dir, data, loaded, stamp)


def _catalogued(
    path: Path, corpus_dir: Path, data: bytes, loaded: Loaded, stamp: str, entry: dict[str, str]
) -> Document:
    """A document whose metadata comes from its catalog entry."""
    return Document(
        source=source_of(path, corpus_dir),
        title=entry["title"],
        kind=entry["kind"],
        date=entry.get("date"),
        date_basis=entry.get("date_basis", "from the catalog"),
        language=entry.get("language", "en"),
        sha256=hashlib.sha256(data).hexdigest(),
        text=loaded.text,
        catalogued=True,
        extracted=extracted(path),
        stamp=stamp,
        pages=loaded.pages,
        catalog_key=entry_key(entry),
        description=short(entry.get("description", ""), DESCRIPTION_CHARS)
        or own_description(loaded.text),
    )


def _uncatalogued(
    path: Path, corpus_dir: Path, data: bytes, loaded: Loaded, stamp: str
) -> Document:
    """A document the catalog does not list: its metadata derived from the file itself."""
    text = loaded.text
    language = guess_language(text)
    written, basis = _own_date(path, data, text, language)
    return Document(
        source=source_of(path, corpus_dir),
        title=derive_title(text, path),
        kind="other",
        date=written,
        date_basis=basis,
        language=language,
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
        catalogued=False,
        extracted=extracted(path),
        stamp=stamp,
        pages=loaded.pages,
        description=own_description(text),
    )


def _own_date(path: Path, data: bytes, text: str, language: str) -> tuple[str | None, str]:
    """The date a file gives itself, with its basis: written in its text, else in its
    properties (PDF, Word, workbook), else guessed: the newest date its text mentions."""
    written, basis = own_date(text, day_first=language not in ("en", ""))
    if written is None:
        written, basis = embedded_date(path, data)
    if written is None:
        written = newest_date(text)
        basis = GUESSED if written else ""
    return written, basis


def _corpus_files(folder: str, prefix: str = "") -> Iterator[tuple[str, str, os.stat_result]]:
    """The supported regular files below the folder, in path order, each with its path, its
    path relative to the folder (with '/') and its `lstat`. Names starting with '.' or '_'
    are left out with all below them, as are symbolic links, the catalog and folders that
    cannot be listed. Plain strings: a Path per file would cost more than its stat."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except PermissionError:
        return
    for entry in entries:
        name = entry.name
        if name.startswith((".", "_")) or entry.is_symlink():
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _corpus_files(entry.path, f"{prefix}{name}/")
        elif entry.is_file(follow_symlinks=False) and name != CATALOG_NAME and is_supported(name):
            yield entry.path, prefix + name, entry.stat(follow_symlinks=False)
