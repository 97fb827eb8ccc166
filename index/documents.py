"""The corpus: its files, read as documents with the metadata a citation shows.

Metadata comes from `catalog.toml` in the corpus folder; a file the catalog does not list
gets metadata derived from the file itself: its title from its front matter or first heading
or line, its language guessed from its words, kind "other", and its own date (`own_date`):
the front matter's, else a "Date:" / "Last updated" / "As of" line near its top, else the
PDF's or Word file's properties, and only as a last resort the newest date its text mentions
(then `date_basis` says the date is guessed). An addendum dated 2026-10-15 whose term runs to
2027-10-31 is dated 2026-10-15.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from index.errors import CatalogError, DocumentError
from index.language import guess_language
from index.loaders import Pages, embedded_date, extracted, is_supported, load

CATALOG_NAME = "catalog.toml"
KINDS = ("vendor-docs", "model-directory", "news", "community", "other")
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
    `file_stamp` when they were."""
    relative = path.relative_to(corpus_dir).as_posix()
    data = _read_bytes(path, relative, path.stat().st_size) if data is None else data
    loaded = load(path, data)
    text = loaded.text
    source = source_of(path, corpus_dir)
    sha256 = hashlib.sha256(data).hexdigest()
    entry = catalog.get(relative)
    if entry is not None:
        return Document(
            source=source,
            title=entry["title"],
            kind=entry["kind"],
            date=entry.get("date"),
            date_basis=entry.get("date_basis", "from the catalog"),
            language=entry.get("language", "en"),
            sha256=sha256,
            text=text,
            catalogued=True,
            extracted=extracted(path),
            stamp=stamp,
            pages=loaded.pages,
            catalog_key=entry_key(entry),
            description=_short(entry.get("description", ""), DESCRIPTION_CHARS)
            or own_description(text),
        )
    language = guess_language(text)
    written, basis = own_date(text, day_first=language not in ("en", ""))
    if written is None:
        written, basis = embedded_date(path, data)
    if written is None:
        written = newest_date(text)
        basis = GUESSED if written else ""
    return Document(
        source=source,
        title=derive_title(text, path),
        kind="other",
        date=written,
        date_basis=basis,
        language=language,
        sha256=sha256,
        text=text,
        catalogued=False,
        extracted=extracted(path),
        stamp=stamp,
        pages=loaded.pages,
        description=own_description(text),
    )


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


GUESSED = "guessed from the text: the newest date it mentions"
# Front-matter keys that date the document itself, the last revision first.
_DATE_KEYS = (
    "last_updated",
    "last-updated",
    "updated",
    "lastmod",
    "last_modified",
    "modified",
    "ms.date",
    "date",
    "published",
    "pubdate",
)
# A line near the top that dates the document: "Date: 15 October 2026", "**Last updated:**
# 2026-01-05", "As of March 2026", "Stand: 01.10.2026", "Mis à jour le 3 mars 2026".
_DATE_LINE = re.compile(
    r"^[\s>*_#|-]*(?:"
    r"(?:date|last updated|last update|updated|last modified|last revised|revised|"
    r"effective date|published|issued|version date|dated|datum|stand|mise à jour|fecha)"
    r"\s*[*_]*\s*[:|][\s*_|]*"  # a label: "Date:", "**Last updated:**", "| Date |"
    r"|(?:as of|dated|updated on|last updated on|last updated|last modified|mis à jour le|"
    r"en date du|stand vom)\s+"
    r")(.{4,60})",
    re.IGNORECASE,
)
DATE_LINES = 40  # the lines at the top of a document where its own date is written
DESCRIPTION_CHARS = 300  # the longest description kept


def front_matter(text: str) -> tuple[dict[str, str], int]:
    """The top-level values of a YAML front matter block ("---" … "---") at the top, as text
    on one line, keys in lower case, and how many lines the block takes (0 when there is
    none). Read by PyYAML (quoted, folded ">-" and literal "|" values); a block that is not
    valid YAML is read line by line (`key: value`)."""
    lines = text.splitlines()
    if not lines or lines[0].strip().lstrip("\ufeff") != "---":  # a byte-order mark may lead
        return {}, 0
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), 0)
    block = lines[1:end]
    try:  # BaseLoader: every value as written ("2026-02-30" stays text, "no" is not False)
        parsed = yaml.load("\n".join(block), Loader=yaml.BaseLoader)
    except (yaml.YAMLError, RecursionError):
        parsed = None
    values: dict[str, str] = {}
    if isinstance(parsed, dict):
        for key, value in parsed.items():
            if isinstance(value, str):
                values.setdefault(str(key).strip().lower(), " ".join(value.split()))
        return values, end + 1 if end else 0
    for line in block:
        key, colon, value = line.partition(":")
        if colon and key.strip() and not key.startswith((" ", "\t", "-")):
            values.setdefault(key.strip().lower(), value.strip().strip("'\""))
    return values, end + 1 if end else 0


def own_date(
    text: str, day_first: bool = False, today: date | None = None
) -> tuple[str | None, str]:
    """The date a document gives itself, as ISO 8601, with where it was read: its front
    matter (`_DATE_KEYS`), else the first "Date:"-like line (`_DATE_LINE`) among its first
    DATE_LINES lines outside code blocks; (None, "") when it gives none. A date after `today`
    (the machine's date) is a term or a plan ("As of 31 December 2027, this agreement
    expires"), not the document's own. `day_first` reads "03/04/2026" as 3 April (for a
    document not in English)."""
    latest = (today or date.today()).isoformat()
    values, taken = front_matter(text)
    for key in _DATE_KEYS:
        written = parse_date(values.get(key, ""))
        if written and written <= latest:
            return written, f"front matter ({key})"
    lines = [line for line in _outside_code(text.splitlines()[taken:]) if line.strip()]
    for line in lines[:DATE_LINES]:
        match = _DATE_LINE.match(line)
        written = parse_date(match.group(1), day_first) if match else None
        if written and written <= latest:
            return written, f"the line “{_short(line.strip())}”"
    return None, ""


def own_description(text: str) -> str:
    """The front matter's `description:` (else `summary:`), at most DESCRIPTION_CHARS long;
    "" when there is none."""
    values = front_matter(text)[0]
    found = values.get("description") or values.get("summary") or ""
    return _short(found, DESCRIPTION_CHARS)


def _outside_code(lines: list[str]) -> Iterator[str]:
    fenced = False
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            yield line


_SLASHED = re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2((?:19|20)\d\d)\b")
_YEAR_FIRST = re.compile(r"\b((?:19|20)\d\d)([/.-])(\d{1,2})\2(\d{1,2})\b")  # 2026/3/4
_MONTH_YEAR = re.compile(r"\b([^\W\d_]{3,9})\.? ((?:19|20)\d\d)\b")


def parse_date(value: str, day_first: bool = False) -> str | None:
    """The first date written in `value`, as ISO 8601 (a month alone as "2026-03"): ISO dates
    (with a time or not, "2026/3/4" too), "October 15, 2026", "15 October 2026" (and the month
    names of French, German, Spanish, Italian and Dutch), "10/15/2026" (month first, as US front
    matter writes it, unless `day_first` or the first number cannot be a month), "15.10.2026"
    (day first)."""
    value = re.sub(r"(\d)T(\d)", r"\1 \2", value)  # "2026-01-05T10:00:00Z"
    found = [(start, day.isoformat()) for start, day in _dates(value)]
    for written in _YEAR_FIRST.finditer(value):
        year, _, month, day = written.groups()
        found += [(written.start(), x.isoformat()) for x in _valid(int(year), int(month), int(day))]
    for slashed in _SLASHED.finditer(value):
        first, mark, second, year = slashed.groups()
        month_first = mark == "/" and int(first) <= 12 and not day_first
        day, month = (second, first) if month_first else (first, second)
        found += [(slashed.start(), x.isoformat()) for x in _valid(int(year), int(month), int(day))]
    for month_year in _MONTH_YEAR.finditer(value):
        if month_year.group(1).lower() in _MONTHS:
            month = _MONTHS[month_year.group(1).lower()]
            found.append((month_year.start(), f"{month_year.group(2)}-{month:02d}"))
    return min(found)[1] if found else None  # the date written first


def derive_title(text: str, path: Path) -> str:
    """The front matter's `title:`, else the first heading or line after it that is not
    markup (an MDX import, a component tag, a comment), else the name."""
    values, taken = front_matter(text)
    if values.get("title"):
        return _short(values["title"])
    for line in _outside_code(text.splitlines()[taken:]):
        line = line.strip().lstrip("\ufeff").lstrip("#").strip()
        if line and not _NOT_A_TITLE.match(line):
            return _short(line)
    return path.stem


_NOT_A_TITLE = re.compile(r"(?:import|export)\s|<|\{[%{]|\[!|:::")


def _short(title: str, most: int = 120) -> str:
    return title if len(title) <= most else title[: most - 3].rstrip() + "…"


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            # English, then French, German, Spanish, Italian and Dutch names
            ("january", "jan", "janvier", "januar", "enero", "gennaio", "januari"),
            ("february", "feb", "février", "fevrier", "februar", "febrero", "febbraio", "februari"),
            ("march", "mar", "mars", "märz", "marz", "marzo", "maart"),
            ("april", "apr", "avril", "abril", "aprile"),
            ("may", "mai", "mayo", "maggio", "mei"),
            ("june", "jun", "juin", "juni", "junio", "giugno"),
            ("july", "jul", "juillet", "juli", "julio", "luglio"),
            ("august", "aug", "août", "aout", "agosto", "augustus"),
            ("september", "sep", "sept", "septembre", "septiembre", "settembre"),
            ("october", "oct", "octobre", "oktober", "okt", "octubre", "ottobre"),
            ("november", "nov", "novembre", "noviembre"),
            ("december", "dec", "décembre", "decembre", "dezember", "dez", "diciembre", "dicembre"),
        ],
        start=1,
    )
    for name in names
}
_ISO_DATE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
# "March 3, 2026", "March 3rd 2026"; "3 March 2026", "3rd March 2026", "15. März 2026",
# "3 de marzo de 2026"
_MONTH_DAY_YEAR = re.compile(r"\b([^\W\d_]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? ((?:19|20)\d\d)\b")
_DAY_MONTH_YEAR = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th|\.)? (?:de )?([^\W\d_]{3,9})\.?,? (?:de )?((?:19|20)\d\d)\b"
)


def newest_date(text: str) -> str | None:
    """The newest valid calendar date written in the text, as ISO 8601."""
    found = [written for _, written in _dates(text)]
    return max(found).isoformat() if found else None


def first_date(text: str) -> str | None:
    """The first valid calendar date written in the text, as ISO 8601."""
    found = _dates(text)
    return min(found)[1].isoformat() if found else None


def _dates(text: str) -> list[tuple[int, date]]:
    """Every valid calendar date written in the text, with where it starts."""
    found: list[tuple[int, date]] = []
    for match in _ISO_DATE.finditer(text):
        y, m, d = match.groups()
        found.extend((match.start(), day) for day in _valid(int(y), int(m), int(d)))
    for match in _MONTH_DAY_YEAR.finditer(text):
        month, d, y = match.groups()
        if month.lower() in _MONTHS:
            found.extend((match.start(), x) for x in _valid(int(y), _MONTHS[month.lower()], int(d)))
    for match in _DAY_MONTH_YEAR.finditer(text):
        d, month, y = match.groups()
        if month.lower() in _MONTHS:
            found.extend((match.start(), x) for x in _valid(int(y), _MONTHS[month.lower()], int(d)))
    return found


def _valid(year: int, month: int, day: int) -> list[date]:
    try:
        return [date(year, month, day)]
    except ValueError:
        return []
