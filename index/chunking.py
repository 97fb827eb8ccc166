"""Split a document into chunks that know their exact character span in the document's text.

The recursive splitter (LangChain's algorithm, worked on spans of the text rather than on
copies of it) cuts at the strongest boundary that keeps a chunk under the size: a Markdown
heading, a blank line, a line, a sentence, a clause, a word. Working on spans, a chunk's
position is known, not searched for, so a passage repeated in a document is cited where it
is. Each chunk also carries the nearest heading above it, which is embedded with it so that
a chunk such as "Output: $2 per million tokens" is found under "Pricing Information".
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections import deque
from dataclasses import dataclass

from index.documents import Document
from index.sentences import SPLITTER_SIGNATURE

CHUNK_SIZE = 800
CHUNK_OVERLAP = 120
SEPARATORS = ["\n# ", "\n## ", "\n### ", "\n#### ", "\n\n", "\n", ". ", "; ", ", ", " ", ""]
# Changes whenever chunk boundaries would change, so that the index re-chunks every document.
CHUNKER_SIGNATURE = (
    f"recursive-v3/{CHUNK_SIZE}/{CHUNK_OVERLAP}/{'|'.join(SEPARATORS)}/{SPLITTER_SIGNATURE}"
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
    return version_key(document.source, document.sha256)


@functools.lru_cache(maxsize=1 << 16)  # asked for every stored document at every scan
def version_key(source: str, sha256: str) -> str:
    """The key of the version of `source` whose bytes have this SHA-256."""
    raw = f"{source}\0{sha256}\0{CHUNKER_SIGNATURE}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def chunk_document(document: Document) -> list[Chunk]:
    text = document.text
    spans = _without_contained(_split(text, 0, len(text), SEPARATORS))
    headings = _headings(text)
    key = document_key(document)
    return [
        Chunk(
            id=f"{key}:{i}",
            source=document.source,
            index=i,
            start=start,
            end=end,
            text=text[start:end],
            heading=_heading_at(headings, start, text[start:end]),
            title=document.title,
            kind=document.kind,
            date=document.date,
            language=document.language,
            sha256=document.sha256,
            n_chunks=len(spans),
        )
        for i, (start, end) in enumerate(spans)
    ]


Span = tuple[int, int]


def _split(text: str, start: int, end: int, separators: list[str]) -> list[Span]:
    """The chunks of text[start:end], cut at the first separator it contains, each piece too
    long for a chunk cut again at the separators after that one."""
    separator, weaker = "", []
    for i, candidate in enumerate(separators):
        if not candidate or text.find(candidate, start, end) >= 0:
            separator, weaker = candidate, separators[i + 1 :]
            break
    chunks: list[Span] = []
    short: list[Span] = []
    for piece in _pieces(text, start, end, separator):
        if piece[1] - piece[0] < CHUNK_SIZE:
            short.append(piece)
            continue
        chunks += _merge(text, short)
        short = []
        chunks += _split(text, *piece, weaker) if weaker else _stripped(text, [piece])
    return chunks + _merge(text, short)


def _pieces(text: str, start: int, end: int, separator: str) -> list[Span]:
    """text[start:end] cut before each occurrence of `separator` (each character when "")."""
    if not separator:
        return [(i, i + 1) for i in range(start, end)]
    cuts = [start]
    found = text.find(separator, start, end)
    while found >= 0:
        cuts.append(found)
        found = text.find(separator, found + len(separator), end)
    cuts.append(end)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _merge(text: str, pieces: list[Span]) -> list[Span]:
    """Consecutive pieces joined into chunks of at most CHUNK_SIZE characters, each chunk
    beginning with up to CHUNK_OVERLAP characters of the one before."""
    chunks: list[Span] = []
    current: deque[Span] = deque()
    total = 0
    for piece in pieces:
        size = piece[1] - piece[0]
        if current and total + size > CHUNK_SIZE:
            chunks.append((current[0][0], current[-1][1]))
            while total > CHUNK_OVERLAP or (total and total + size > CHUNK_SIZE):
                first = current.popleft()
                total -= first[1] - first[0]
        current.append(piece)
        total += size
    if current:
        chunks.append((current[0][0], current[-1][1]))
    return _stripped(text, chunks)


def _stripped(text: str, spans: list[Span]) -> list[Span]:
    """The spans without their leading and trailing white space; blank ones dropped."""
    kept = []
    for start, end in spans:
        piece = text[start:end]
        if piece.strip():
            kept.append((start + len(piece) - len(piece.lstrip()), start + len(piece.rstrip())))
    return kept


def _without_contained(spans: list[Span]) -> list[Span]:
    """The spans without any that lies inside its neighbour. Stripping white space can leave
    a chunk wholly inside the one before it: a tail of only white space after a chunk's
    overlap is stripped back to that overlap. Such a chunk adds nothing and is dropped."""
    kept: list[Span] = []
    for start, end in spans:
        if kept and end <= kept[-1][1]:
            continue
        while kept and start <= kept[-1][0]:
            kept.pop()
        kept.append((start, end))
    return kept


def _headings(text: str) -> list[tuple[int, str]]:
    return [(match.start(), match.group(1).strip()) for match in _HEADING.finditer(text)]


def _heading_at(headings: list[tuple[int, str]], start: int, piece: str) -> str:
    """The nearest heading at or above the chunk, unless the chunk begins with it."""
    above = [title for position, title in headings if position <= start]
    if not above:
        return ""
    return "" if piece.lstrip("# ").startswith(above[-1]) else above[-1]
