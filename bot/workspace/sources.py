"""A citation shown in its passage: the text around the quoted span, read from its document.

The document is read again from its file, and its SHA-256 compared with the one the citation
recorded: when they match, the span is exact and the words around it are the document's own;
when the file changed or is gone, the quote is shown as it was saved, with a warning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.answering.answers import Citation
from index.errors import DocumentError
from index.loaders import load_text

CONTEXT_CHARS = 500  # shown on each side of the quote, cut at a line or word boundary


@dataclass(frozen=True)
class SourceView:
    """What the sources panel shows for one citation: `before + quote + after` is verbatim."""

    citation: Citation
    before: str
    quote: str
    after: str
    changed: bool  # the document was re-indexed with other content since the answer
    missing: bool  # the document is no longer in the index

    @property
    def warning(self) -> str:
        if self.missing:
            return (
                "This document is no longer in the index; the quote is shown as it was saved "
                "with the answer."
            )
        if self.changed:
            return (
                "This document has changed since the answer was given (its SHA-256 differs); "
                "the quote is shown as it was saved with the answer."
            )
        return ""


def source_view(
    folders: Mapping[str, Path], citation: Citation, context: int = CONTEXT_CHARS
) -> SourceView:
    """`folders` maps a source's first part ("corpus", "uploads") to the folder it names."""
    top, _, rest = citation.source.partition("/")
    folder = folders.get(top)
    path = folder / rest if folder is not None and rest else None
    try:
        data = path.read_bytes() if path is not None and path.is_file() else None
    except OSError:
        data = None
    if data is None or path is None:
        return SourceView(citation, "", citation.quote, "", changed=False, missing=True)
    if hashlib.sha256(data).hexdigest() != citation.sha256:
        return SourceView(citation, "", citation.quote, "", changed=True, missing=False)
    try:
        text = load_text(path, data)
    except DocumentError:
        return SourceView(citation, "", citation.quote, "", changed=True, missing=False)
    if text[citation.start : citation.end] != citation.quote:  # spans were verified: not expected
        return SourceView(citation, "", citation.quote, "", changed=True, missing=False)
    low, high = max(0, citation.start - context), min(len(text), citation.end + context)
    before, after = text[low : citation.start], text[citation.end : high]
    before = _trim_start(before) if low > 0 else before
    after = _trim_end(after) if high < len(text) else after
    return SourceView(citation, before, citation.quote, after, changed=False, missing=False)


def _trim_start(text: str) -> str:
    """Drop a partial first line or word, so the context starts at a boundary."""
    newline = text.find("\n", 0, len(text) // 2)
    cut = newline + 1 if newline >= 0 else text.find(" ") + 1
    return text[cut:] if 0 < cut < len(text) else text


def _trim_end(text: str) -> str:
    cut = text.rfind("\n")
    if cut < len(text) // 2:
        cut = text.rfind(" ")
    return text[:cut] if cut > 0 else text
