"""The corpus's catalog (`catalog.toml`): the title, kind, date and language of its files.

An entry is a TOML table `[documents."<file name>"]` with a title and a kind (one of KINDS),
and optionally a date (YYYY[-MM[-DD]]), its basis, a language and a description. Entries are
checked as they are read, and one entry can be written without disturbing the rest of the
file (`write_catalog_entry`, used by the Documents tab). `entry_key` identifies an entry's
content, so a document whose entry changed gets its metadata again without re-embedding.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from index.errors import CatalogError

CATALOG_NAME = "catalog.toml"
KINDS = ("vendor-docs", "model-directory", "news", "community", "other")


def entry_key(entry: Mapping[str, str] | None) -> str:
    """Identifies a catalog entry's content ("" for no entry): a document whose entry changed
    gets its metadata again, without re-embedding."""
    if entry is None:
        return ""
    canonical = "\n".join(f"{key}={value}" for key, value in sorted(entry.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def write_catalog_entry(path: Path, name: str, entry: Mapping[str, str]) -> None:
    """Set the entry of file `name` in the catalog at `path` (created if absent), leaving the
    rest of the file as it is (comments included); written atomically. The entry must pass
    the catalog's checks (CatalogError otherwise)."""
    _checked_entry(path, name, dict(entry))
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    header = f"[documents.{_toml_string(name)}]"
    block = "\n".join([header, *(f"{k} = {_toml_string(v)}" for k, v in entry.items())]) + "\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _entry_name(line) == name), None)
    if start is None:
        text = text + ("\n" if text and not text.endswith("\n\n") else "") + block
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
            len(lines),
        )
        while end > start + 1 and (
            not lines[end - 1].strip() or lines[end - 1].lstrip()[:1] == "#"
        ):
            end -= 1  # the blank lines and comments before the next entry belong to it
        text = "".join([*lines[:start], block, *lines[end:]])
    read_catalog_text(path, text)  # never write a catalog that would not read back
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


_ENTRY_HEADER = re.compile(
    r"""^\s*\[\s*documents\s*\.\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*\]\s*(?:#.*)?$"""
)


def _entry_name(line: str) -> str | None:
    """The file name a catalog line heads an entry of, in any of TOML's key forms."""
    match = _ENTRY_HEADER.match(line)
    if not match:
        return None
    quoted, literal, bare = match.groups()
    if quoted is not None:
        try:
            return str(json.loads(f'"{quoted}"'))
        except ValueError:
            return None
    return literal if literal is not None else bare


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)


def read_catalog(path: Path) -> dict[str, dict[str, str]]:
    """The catalog's entries by file name; an absent catalog is an empty one."""
    if not path.exists():
        return {}
    try:
        return read_catalog_text(path, path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path} is not valid TOML: {exc}") from exc


def read_catalog_text(path: Path, text: str) -> dict[str, dict[str, str]]:
    """The entries of a catalog's text (`path` names it in errors)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path} is not valid TOML: {exc}") from exc
    entries = raw.get("documents", {})
    if not isinstance(entries, dict):
        raise CatalogError(f"{path}: [documents] must be a table of file names")
    return {name: _checked_entry(path, name, entry) for name, entry in entries.items()}


def _checked_entry(path: Path, name: str, entry: object) -> dict[str, str]:
    if not isinstance(entry, dict) or not isinstance(entry.get("title"), str):
        raise CatalogError(f"{path}: the entry for {name!r} needs a title")
    if entry.get("kind") not in KINDS:
        raise CatalogError(f"{path}: {name!r} has kind {entry.get('kind')!r}; use one of {KINDS}")
    values = {key: str(value) for key, value in entry.items()}
    if "date" in values and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", values["date"]):
        raise CatalogError(f"{path}: {name!r} has date {values['date']!r}; use YYYY[-MM[-DD]]")
    return values
