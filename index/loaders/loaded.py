"""What every loader gives: a file's text in one shape, and where a paged file's pages start.

The shape is the one `index.sentences` reads: headings as `#` lines, list items as `- ` lines,
table rows as `| a | b |` lines (a separator row under a header row), other blocks as
paragraphs between blank lines.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

Pages = tuple[tuple[int, int], ...]  # (offset where a page's text starts, its 1-based number)


@dataclass(frozen=True)
class Loaded:
    """A file's text, and for a paged file (PDF) where each page's text starts in it."""

    text: str
    pages: Pages = ()


def page_at(pages: Pages, offset: int) -> int | None:
    """The 1-based page that holds `offset` of the text; None for a file without pages."""
    at = bisect.bisect_right([start for start, _ in pages], offset) - 1
    return pages[at][1] if at >= 0 else None


def joined(lines: list[str]) -> str:
    """Lines as text: runs of blank lines become one, none at either end."""
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept)
