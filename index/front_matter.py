"""What the top of a document says about it: its front matter, title and description.

The YAML front matter block ("---" … "---") is read by PyYAML, its values as written; a
document's title is its front matter's, else its first heading or line that is not markup;
its description the front matter's `description:` (else `summary:`). A document's own date,
also read from its top, is `index.dates.own_date`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import yaml

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


def own_description(text: str) -> str:
    """The front matter's `description:` (else `summary:`), at most DESCRIPTION_CHARS long;
    "" when there is none."""
    values = front_matter(text)[0]
    found = values.get("description") or values.get("summary") or ""
    return short(found, DESCRIPTION_CHARS)


def derive_title(text: str, path: Path) -> str:
    """The front matter's `title:`, else the first heading or line after it that is not
    markup (an MDX import, a component tag, a comment), else the name."""
    values, taken = front_matter(text)
    if values.get("title"):
        return short(values["title"])
    for line in outside_code(text.splitlines()[taken:]):
        line = line.strip().lstrip("\ufeff").lstrip("#").strip()
        if line and not _NOT_A_TITLE.match(line):
            return short(line)
    return path.stem


_NOT_A_TITLE = re.compile(r"(?:import|export)\s|<|\{[%{]|\[!|:::")


def short(title: str, most: int = 120) -> str:
    """`title` cut to at most `most` characters, with "…" where it was cut."""
    return title if len(title) <= most else title[: most - 3].rstrip() + "…"


def outside_code(lines: list[str]) -> Iterator[str]:
    """The lines outside fenced code blocks (``` or ~~~), fences left out."""
    fenced = False
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            yield line
