"""The quotable sentences of a document, with exact spans, found once at index time.

A sentence is a line of the document, cut further where a sentence ends. List bullets,
numbering and heading marks are left out of the span, questions (FAQ headings) and bare
titles are not quotable, and an over-long sentence is cut at a word so that a quote stays
readable. Each sentence remembers the heading above it: "Output: $2 per million tokens"
means something only under "Pricing Information" of a Medium 3 page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.documents import Document

SPLITTER_SIGNATURE = "sentences-v3"
MIN_SENTENCE_CHARS = 12
MAX_QUOTE_CHARS = 400

# A line ends where str.splitlines ends one: LF, CR, and the other Unicode line breaks.
_LINE = re.compile(r"[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9\"“(\[$*])")
_LEADER = re.compile(r"^(?:[-*•>|]\s+|\d{1,2}[.)]\s+|#{1,6}\s+)+")
_HEADING_LINE = re.compile(r"^#{1,6}\s+(.+)$")


@dataclass(frozen=True)
class Sentence:
    """`document.text[start:end]`, a quotable sentence, and the heading above it."""

    start: int
    end: int
    heading: str

    def context(self, title: str) -> str:
        """The title and heading that are embedded with the sentence."""
        return f"{title} — {self.heading}" if self.heading else title


def split_sentences(document: Document) -> list[Sentence]:
    sentences: list[Sentence] = []
    heading = ""
    for line in _LINE.finditer(document.text):
        heading_match = _HEADING_LINE.match(line.group())
        if heading_match:
            heading = heading_match.group(1).strip()
            continue
        for begin, end in _sentence_spans(line.group()):
            if _quotable(line.group()[begin:end]):
                start = line.start() + begin
                sentences.append(Sentence(start, line.start() + end, heading))
    return sentences


def embedding_text(sentence: Sentence, document_text: str, title: str) -> str:
    return f"{sentence.context(title)}: {document_text[sentence.start : sentence.end]}"


def _sentence_spans(line: str) -> list[tuple[int, int]]:
    bounds = [0]
    for match in _SENTENCE_END.finditer(line):
        bounds.extend((match.start(), match.end()))
    bounds.append(len(line))
    spans = []
    for begin, end in zip(bounds[::2], bounds[1::2], strict=True):
        begin += len(line[begin:end]) - len(line[begin:end].lstrip())
        leader = _LEADER.match(line, begin, end)
        if leader:
            begin = leader.end()
        end = _trimmed_end(line, begin, end)
        if end - begin > MAX_QUOTE_CHARS:
            end = _trimmed_end(line, begin, begin + _cut_at_word(line[begin:end], MAX_QUOTE_CHARS))
        if end > begin:
            spans.append((begin, end))
    return spans


def _trimmed_end(line: str, begin: int, end: int) -> int:
    """`end` moved back over white space (a CR too) and table bars."""
    while end > begin and (line[end - 1].isspace() or line[end - 1] == "|"):
        end -= 1
    return end


def _cut_at_word(text: str, limit: int) -> int:
    cut = text[:limit]
    return cut.rindex(" ") if " " in cut[limit // 2 :] else limit


def _quotable(text: str) -> bool:
    """A claim: not a question, not a bare title, long enough, with letters."""
    if len(text) < MIN_SENTENCE_CHARS or not any(ch.isalpha() for ch in text):
        return False
    if text.rstrip().endswith("?"):
        return False
    has_value = any(ch.isdigit() for ch in text) or ":" in text or "|" in text
    ends_like_a_sentence = text.rstrip('"”’)').endswith((".", "!"))
    return len(text.split()) > 6 or has_value or ends_like_a_sentence
