"""Prose cut into quotable sentences, each with its exact span in the document's text.

A paragraph's lines are cut into sentences by pysbd (a maintained rule-based segmenter that
knows abbreviations such as "e.g.", "z. B.", "approx."), and where it cut after an
abbreviation it did not know the pieces are joined again. In a hard-wrapped document the
lines of a wrapped sentence are read as one run, so a quote may span its line breaks
(verbatim, as the file has them). A sentence longer than MAX_QUOTE_CHARS is cut at a word,
and only claims are quotable (`quotable`): not questions, not bare titles.
"""

from __future__ import annotations

import functools
import re

MIN_SENTENCE_CHARS = 12
MAX_QUOTE_CHARS = 600  # a sentence or list item
# A line is hard-wrapped (continues on the next) when the next starts in lower case, or when
# it ends in no punctuation and is as long as wrapped lines are: a shorter line is a title
# or label, a longer one was not wrapped.
MIN_WRAP_WIDTH, WRAP_WIDTH = 50, 100

TERMINAL = re.compile(r"[.!?:;]['\"”’)*_`]*\s*$")  # a line that ends a sentence or clause
_SHORT_ABBREVIATION = re.compile(r"(?:^|[\s(.])(?:[A-Za-z]|[A-Z][a-z])\.\s*$")
_ABBREVIATION_END = re.compile(r"\b[a-z]{3,6}\.\s*$")
_ENDS_LIKE_A_SENTENCE = re.compile(r"[.!]['\"”’)*_`]*$")


def sentence_spans(
    text: str, spans: list[tuple[int, int]], wrapped: bool, language: str
) -> list[tuple[int, int]]:
    """The quotable sentences of consecutive lines (`spans` of `text`): lines that are
    hard-wrapped (`wrapped`: the document's prose is) are read together, and each run is cut
    into sentences by pysbd for the document's `language`."""
    found: list[tuple[int, int]] = []
    for run in _runs(text, spans, wrapped):
        begin, finish = run[0][0], run[-1][1]
        flat = text[begin:finish]
        for gap_start, gap_end in zip(
            (e for _, e in run[:-1]), (s for s, _ in run[1:]), strict=True
        ):
            flat = flat[: gap_start - begin] + " " * (gap_end - gap_start) + flat[gap_end - begin :]
        for s, e in _segments(flat, language):
            s, e = trimmed(text, begin + s, begin + e)
            for piece in _cut(text, s, e):
                if quotable(text[piece[0] : piece[1]]):
                    found.append(piece)
    return found


@functools.lru_cache(maxsize=16)
def _segmenter(language: str) -> object:
    import pysbd
    from pysbd.languages import LANGUAGE_CODES

    code = language if language in LANGUAGE_CODES else "en"
    return pysbd.Segmenter(language=code, clean=False, char_span=True)


def _segments(flat: str, language: str) -> list[tuple[int, int]]:
    """pysbd's sentences of `flat`, joined again where pysbd cut after an abbreviation it did
    not know: a one- or two-letter word ("z. B.", "Dr."), or a short lower-case word followed
    by a lower-case word or a number ("approx. 5 GB")."""
    spans: list[tuple[int, int]] = []
    for segment in _segmenter(language).segment(flat):  # type: ignore[attr-defined]
        start, end = int(segment.start), int(segment.end)
        if spans and _abbreviated(flat[spans[-1][0] : spans[-1][1]], flat[start:end]):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans or [(0, len(flat))]


def _abbreviated(before: str, after: str) -> bool:
    if _SHORT_ABBREVIATION.search(before) and len(before.split()) > 1:  # "No." alone is a reply
        return True
    first = after.lstrip()[:1]
    return bool(_ABBREVIATION_END.search(before)) and (first.islower() or first.isdigit())


def _runs(text: str, spans: list[tuple[int, int]], wrapped: bool) -> list[list[tuple[int, int]]]:
    """Lines grouped into runs read as one: in a hard-wrapped document a line continues into
    the next (`_continues`); elsewhere every line is its own run."""
    runs: list[list[tuple[int, int]]] = []
    for span in spans:
        if (
            runs
            and wrapped
            and _continues(text[runs[-1][-1][0] : runs[-1][-1][1]], text[span[0] : span[1]])
        ):
            runs[-1].append(span)
        else:
            runs.append([span])
    return runs


def _continues(line: str, following: str) -> bool:
    if following[:1].islower():
        return True
    if TERMINAL.search(line):
        return False
    return MIN_WRAP_WIDTH <= len(line) <= WRAP_WIDTH


def trimmed(text: str, begin: int, end: int) -> tuple[int, int]:
    """The span `text[begin:end]` without white space at either end."""
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    return begin, end


def _cut(text: str, begin: int, end: int) -> list[tuple[int, int]]:
    """An over-long sentence as pieces of at most MAX_QUOTE_CHARS, cut at words."""
    pieces = []
    while end - begin > MAX_QUOTE_CHARS:
        window = text[begin : begin + MAX_QUOTE_CHARS]
        cut = window.rindex(" ") if " " in window[MAX_QUOTE_CHARS // 2 :] else MAX_QUOTE_CHARS
        pieces.append(trimmed(text, begin, begin + cut))
        begin = trimmed(text, begin + cut, end)[0]
    pieces.append((begin, end))
    return [p for p in pieces if p[1] > p[0]]


def quotable(text: str, item: bool = False) -> bool:
    """A claim: not a question, not a bare title, long enough, with letters. A list item
    stands under its lead-in, so a short one ("Azure CLI") is quotable too."""
    if len(text) < (3 if item else MIN_SENTENCE_CHARS) or not any(ch.isalpha() for ch in text):
        return False
    if text.rstrip().endswith("?"):
        return False
    if item:
        return True
    has_value = any(ch.isdigit() for ch in text) or ":" in text or "|" in text
    return len(text.split()) > 6 or has_value or bool(_ENDS_LIKE_A_SENTENCE.search(text))
