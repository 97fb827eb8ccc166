"""An admin's corrections of a document's title, kind and date, kept in its folder's catalog.

A document's metadata comes from the catalog of the folder it is in (`corpus/catalog.toml`,
and `catalog.toml` in the uploads folder for documents added in the web app), else from the
file itself (`index.documents`). A correction made in the Documents tab is written into that
catalog as the document's entry (the rest of the catalog is left as it is), so it holds for
every later index run and the next `procurebot index` reads it the same way; the re-index
that follows changes only metadata, nothing is embedded again (`index.indexing`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from bot.settings import Settings
from index.documents import CATALOG_NAME, KINDS, read_catalog, write_catalog_entry
from index.entries import StoredDocument
from index.errors import CatalogError
from index.indexing import IndexReport
from index.loaders import SUPPORTED_SUFFIXES
from index.location import ChromaServer, StoreLocation

# What the Documents tab shows, named here so that the UI reaches the index only through bot/.
__all__ = [
    "KINDS",
    "SUPPORTED_SUFFIXES",
    "DocumentDetails",
    "IndexReport",
    "StoredDocument",
    "save_details",
    "shared_index",
]

MAX_TITLE = 200
_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")  # ASCII digits only


@dataclass(frozen=True)
class DocumentDetails:
    title: str
    kind: str
    date: str  # YYYY[-MM[-DD]], or "" for undated


def checked(details: DocumentDetails) -> DocumentDetails:
    """The details as they will be kept (title on one line), or CatalogError saying what to
    change."""
    title = " ".join(details.title.split())
    if not title:
        raise CatalogError("The title is empty: give the document a title.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in title):
        raise CatalogError("The title holds control or invisible characters: type it again.")
    if len(title) > MAX_TITLE:
        raise CatalogError(f"The title is {len(title)} characters long; keep it to {MAX_TITLE}.")
    if details.kind not in KINDS:
        raise CatalogError(f"Unknown kind {details.kind!r}: use one of {', '.join(KINDS)}.")
    written = details.date.strip()
    match = _DATE.fullmatch(written)
    if written and (not match or not _real(*match.groups())):
        raise CatalogError(
            f"The date {written!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD "
            "(e.g. 2026-10-15), or leave it empty."
        )
    return DocumentDetails(title, details.kind, written)


def save_details(
    settings: Settings, record: StoredDocument, details: DocumentDetails, who: str, today: date
) -> None:
    """Write the checked details as the document's entry in its folder's catalog."""
    details = checked(details)
    top, _, relative = record.source.partition("/")
    folders = {settings.corpus_dir.name: settings.corpus_dir}
    folders.setdefault(settings.uploads_dir.name, settings.uploads_dir)
    folder = folders.get(top)
    if folder is None or not relative:
        raise CatalogError(f"{record.source} is in no folder procurebot indexes.")
    path = folder / CATALOG_NAME
    entry = dict(read_catalog(path).get(relative, {}))
    entry.update(title=details.title, kind=details.kind, language=record.language or "en")
    if details.date == (record.date or ""):  # the date kept: so is how it was found
        if record.date:
            entry["date"] = record.date
            entry["date_basis"] = record.date_basis or entry.get("date_basis", "")
    elif details.date:
        entry["date"] = details.date
        entry["date_basis"] = f"set by {who} in the Documents tab on {today.isoformat()}"
    else:
        entry.pop("date", None)
        entry.pop("date_basis", None)
    if not entry.get("date_basis"):
        entry.pop("date_basis", None)
    write_catalog_entry(path, relative, entry)


def _real(year: str, month: str | None, day: str | None) -> bool:
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return False
    return True


__all__ = ["KINDS", "DocumentDetails", "checked", "save_details"]


def shared_index(location: StoreLocation) -> str:
    """Where the index shared with other copies of the app is ("on the Chroma server at
    http://chroma:8000"), or "" when the index is a folder of this app's own."""
    return location.where if isinstance(location, ChromaServer) else ""
