"""Dates written in a document's text: its own date, and any date it mentions.

`own_date` is the date a document gives itself: its front matter's, else a "Date:" /
"Last updated" / "As of" line near its top. `parse_date` reads the date forms such lines and
front matter use (ISO, "15 October 2026" and its French, German, Spanish, Italian and Dutch
forms, "10/15/2026", "15.10.2026"); `newest_date` and `first_date` find the dates a text
mentions. An addendum dated 2026-10-15 whose term runs to 2027-10-31 is dated 2026-10-15.
"""

from __future__ import annotations

import re
from datetime import date

from index.front_matter import front_matter, outside_code, short

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
    lines = [line for line in outside_code(text.splitlines()[taken:]) if line.strip()]
    for line in lines[:DATE_LINES]:
        match = _DATE_LINE.match(line)
        written = parse_date(match.group(1), day_first) if match else None
        if written and written <= latest:
            return written, f"the line “{short(line.strip())}”"
    return None, ""


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
