"""Split a document into chunks that know their exact character span in the document's text.

LangChain's recursive splitter cuts at the strongest boundary that keeps a chunk under the
size: a Markdown heading, a blank line, a line, a sentence, a clause, a word. Each chunk also
carries the nearest heading above it, which is embedded with it so that a chunk such as
"Output: $2 per million tokens" is found under "Pricing Information".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.documents import Document
from index.sentences import SPLITTER_SIGNATURE

CHUNK_SIZE = 800
CHUNK_OVERLAP = 120
SEPARATORS = ["\n# ", "\n## ", "\n### ", "\n#### ", "\n\n", "\n", ". ", "; ", ", ", " ", ""]
# Changes whenever chunk boundaries would change, so that the index re-chunks every document.
CHUNKER_SIGNATURE = (
    f"recursive-v1/{CHUNK_SIZE}/{CHUNK_OVERLAP}/{'|'.join(SEPARATORS)}/{SPLITTER_SIGNATURE}"
)

_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: `document.text[start:end] == text`."""

    id: str
    source: str
    index: int
    start: int
    end: int
    text: str
    heading: str
    title: str
    kind: str
    date: str | None
    language: str
    sha256: str
    n_chunks: int

    def embedding_text(self) -> str:
        """What is embedded and keyword-indexed: the title and heading give the chunk context."""
        context = self.title if not self.heading else f"{self.title} — {self.heading}"
        return f"{context}\n{self.text}"


def document_key(document: Document) -> str:
    """Identifies one version of one document under one chunker and sentence splitter."""
    raw = f"{document.source}\0{document.sha256}\0{CHUNKER_SIGNATURE}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def chunk_document(document: Document) -> list[Chunk]:
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE,
        chunk_overlap=CHUNK_OVERLAP,
        separators=SEPARATORS,
        keep_separator="start",
        strip_whitespace=True,
    )
    pieces = [piece for piece in splitter.split_text(document.text) if piece.strip()]
    spans = locate(document.text, pieces)
    headings = _headings(document.text)
    key = document_key(document)
    return [
        Chunk(
            id=f"{key}:{i}",
            source=document.source,
            index=i,
            start=start,
            end=start + len(piece),
            text=piece,
            heading=_heading_at(headings, start, piece),
            title=document.title,
            kind=document.kind,
            date=document.date,
            language=document.language,
            sha256=document.sha256,
            n_chunks=len(pieces),
        )
        for i, (piece, start) in enumerate(zip(pieces, spans, strict=True))
    ]


def locate(text: str, pieces: list[str]) -> list[int]:
    """The start of each piece in `text`, in order; pieces may overlap but never go backwards."""
    starts: list[int] = []
    cursor = 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:
            start = text.find(piece)
        if start < 0:
            raise ValueError(f"chunk not found verbatim in its document: {piece[:60]!r}")
        starts.append(start)
        cursor = start + 1
    return starts


def _headings(text: str) -> list[tuple[int, str]]:
    return [(match.start(), match.group(1).strip()) for match in _HEADING.finditer(text)]


def _heading_at(headings: list[tuple[int, str]], start: int, piece: str) -> str:
    """The nearest heading at or above the chunk, unless the chunk begins with it."""
    above = [title for position, title in headings if position <= start]
    if not above:
        return ""
    return "" if piece.lstrip("# ").startswith(above[-1]) else above[-1]
