"""An answer's own structure, apart from what it quotes: one reading that the chat, the
Markdown and DOCX exports and the questionnaire sheets all render.

An answer's text mixes the answerer's structure — list items ("- "), nesting, bold labels and
results ("= **USD 40.00**"), citation markers ("[2]") — with quotes from the documents. Quotes
must stay inert (a document's "**Output:**" or "$$" is shown as written), while the structure
should render as structure. `lines` reads the text line by line: each citation's quote found
in a line is taken out first as QUOTE spans, then the rest is read for "**bold**" and "[n]"
markers; everything else is plain TEXT. The renderers escape every span's text, so nothing of
a document or a model can become markup — except that a quote's own "**bold**" (a Markdown
source's label, "**Output:** $2") is shown bold rather than with its asterisks: the quote's
characters stay as written in the citation (its sources block, the sources panel, exports).

    >>> [s.style for s in lines("- **Input:** 2 EUR [1]", {})[0].spans]
    ['bold', 'text', 'marker']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.answering.answers import Answer

TEXT, BOLD, CODE, QUOTE, MARKER = "text", "bold", "code", "quote", "marker"
MIN_QUOTE = 8  # characters: a shorter quote ("yes") is too likely to match our own words

_ITEM = re.compile(r"^(?P<indent> *)- +")  # the answerers' list items, nested by two spaces
_STRONG = re.compile(r"\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*")
_INLINE = re.compile(
    r"\*\*(?P<bold>[^*\n]+?)\*\*|`(?P<code>[^`\n]+)`|\[(?P<n>\d{1,3})\](?![(:]|\[(?!\d{1,3}\]))"
)


CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A citation marker, never a link: not followed by "(", ":" or a "[" other than a marker's.
_MARKER = re.compile(r"(\[\d{1,3}\])(?![(:]|\[(?!\d{1,3}\]))")
_PUNCTUATION = re.compile(r"([\\`*_\[\]|~$])")  # "$": math in GitHub and some viewers
# What GFM renderers (the chat's, GitHub's) turn into links by themselves: "https://…",
# "www.…" and "name@host"; a backslash before their ":", "." or "@" shows the same text.
_AUTOLINK = re.compile(
    r"(?i)(\b(?:https?|ftp))(:)(?=//)|(\bwww)(\.)(?=\w)|([\w.+-])(@)(?=[\w-]+\.\w)"
)
_BLOCK_START = re.compile(r"^(\s*)([#+=-])")  # heading, list item, setext underline
_ORDERED_ITEM = re.compile(r"^(\s*\d{1,9})([.)])(?=\s|$)")


def escape_lines(text: str) -> list[str]:
    """Each line of `text`, shown as itself in Markdown: no HTML, no links, no emphasis, no
    block markup; `[n]` citation markers stay as they are."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [_line_start(_inline(line)).rstrip() for line in lines]


def escape(text: str) -> str:
    """`text` shown as itself, each of its lines kept by a hard line break."""
    return "  \n".join(escape_lines(text))


@dataclass(frozen=True)
class Span:
    text: str
    style: str  # TEXT, BOLD, CODE (an id), QUOTE (verbatim from a document) or MARKER (a number)
    strong: bool = False  # a quote's own "**bold**", shown bold without its asterisks


@dataclass(frozen=True)
class Line:
    """One line of an answer: a list item (`bullet`, `depth` 0 for the outermost list) or
    plain; no spans for an empty line."""

    spans: tuple[Span, ...]
    depth: int = 0
    bullet: bool = False


def answer_lines(answer: Answer) -> list[Line]:
    """The answer's text as lines, with its citations' quotes found in them."""
    return lines(answer.answer, {c.n: c.quote for c in answer.citations})


def as_markdown(answer: Answer) -> str:
    """The answer's text as Markdown: its structure rendered, its quotes and words inert."""
    return markdown(answer_lines(answer), opinions_of(answer))


def as_plain_text(answer: Answer) -> str:
    """The answer's text without markup characters (a spreadsheet cell, a Word paragraph)."""
    return plain_text(answer_lines(answer), opinions_of(answer))


def lines(text: str, quotes: Mapping[int, str]) -> list[Line]:
    """`text` read as lines; `quotes` maps citation numbers to their verbatim quotes."""
    found = sorted({q for q in quotes.values() if len(q.strip()) >= MIN_QUOTE}, key=len)[::-1]
    read: list[Line] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not raw.strip():
            read.append(Line(()))
            continue
        item = _ITEM.match(raw)
        if item:
            body = raw[item.end() :].rstrip()
            read.append(Line(_spans(body, found), len(item.group("indent")) // 2, bullet=True))
        else:
            read.append(Line(_spans(raw.strip(), found)))
    return read


def _spans(body: str, quotes: list[str]) -> tuple[Span, ...]:
    taken: list[tuple[int, int]] = []
    for quote in quotes:  # longest first: a quote inside a longer one is that one's
        start = body.find(quote)
        while start >= 0:
            end = start + len(quote)
            if all(end <= a or start >= b for a, b in taken):
                taken.append((start, end))
            start = body.find(quote, end)
    spans: list[Span] = []
    at = 0
    for start, end in sorted(taken):
        # The answerer's bold around a whole quote ("**Total: 40 EUR** [1]") is its own.
        wrapped = body[max(at, start - 2) : start] == "**" and body[end : end + 2] == "**"
        spans += _own(body[at : start - 2 if wrapped else start])
        quoted = _quoted(body[start:end])
        spans += [Span(q.text, QUOTE, strong=True) for q in quoted] if wrapped else quoted
        at = end + 2 if wrapped else end
    spans += _own(body[at:])
    return tuple(spans)


def _quoted(quote: str) -> list[Span]:
    """A quote as QUOTE spans, its own "**bold**" runs marked strong."""
    return _split(quote, _STRONG, QUOTE, lambda found: Span(found.group(1), QUOTE, strong=True))


def _own(text: str) -> list[Span]:
    """The answerer's own words: bold runs, `code` (model ids), markers, the rest plain."""
    return _split(text, _INLINE, TEXT, _own_span)


def _own_span(found: re.Match[str]) -> Span:
    if found.group("bold") is not None:
        return Span(found.group("bold"), BOLD)
    if found.group("code") is not None:
        return Span(found.group("code"), CODE)
    return Span(found.group("n"), MARKER)


def _split(
    text: str, pattern: re.Pattern[str], style: str, span: Callable[[re.Match[str]], Span]
) -> list[Span]:
    """`text` as the spans `span` makes of `pattern`'s matches, with `style` spans between."""
    spans: list[Span] = []
    at = 0
    for found in pattern.finditer(text):
        if found.start() > at:
            spans.append(Span(text[at : found.start()], style))
        spans.append(span(found))
        at = found.end()
    if at < len(text):
        spans.append(Span(text[at:], style))
    return spans


def markdown(answer_lines: list[Line], opinions: frozenset[int] = frozenset()) -> str:
    """The lines as Markdown: list items nested as they were, bold as bold, each span's text
    escaped; a marker of a citation in `opinions` is followed by "(opinion)". Plain lines in a
    row stay lines (hard breaks)."""
    out: list[str] = []
    depth = -1  # of the list item before, -1 outside a list
    for i, line in enumerate(answer_lines):
        body = _body(line, opinions)
        following = answer_lines[i + 1] if i + 1 < len(answer_lines) else Line(())
        if not line.spans:
            out.append("")
            depth = -1
        elif line.bullet:
            depth = min(line.depth, depth + 1)  # an item nests at most one level deeper
            out.append("  " * depth + f"- {body}")
        else:
            if depth >= 0:  # a plain line after a list item ends the list, not continues it
                out.append("")
            depth = -1
            out.append(body + ("  " if following.spans and not following.bullet else ""))
    return "\n".join(out).strip("\n")


def _markdown_span(span: Span, opinions: frozenset[int]) -> str:
    if span.style == MARKER:
        return f"[{span.text}]" + (" (*opinion*)" if int(span.text) in opinions else "")
    if span.style == CODE:
        return code_span(span.text)
    text = _inline(span.text)
    if (span.style == BOLD or span.strong) and text.strip():
        return f"**{text.strip()}**"
    return text


def code_span(text: str) -> str:
    """A code span no backtick in `text` can close early (code spans show text as written)."""
    text = " ".join(CONTROL_CHARS.sub("", text).split())
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(text: str) -> str:
    """Text inside a line shown as itself (`escape_lines` less the line-start rules, which
    `_line_start` applies once the line is assembled), its spaces kept."""
    text = CONTROL_CHARS.sub("", text).replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    pieces = _MARKER.split(text)
    text = "".join(p if i % 2 else _PUNCTUATION.sub(r"\\\1", p) for i, p in enumerate(pieces))
    return _AUTOLINK.sub(lambda m: "\\".join(g for g in m.groups() if g is not None), text)


def _body(line: Line, opinions: frozenset[int]) -> str:
    return _line_start("".join(_markdown_span(span, opinions) for span in line.spans))


def _line_start(text: str) -> str:
    """A line that would start a heading, a list item or a setext underline, shown as text."""
    return _ORDERED_ITEM.sub(r"\1\\\2", _BLOCK_START.sub(r"\1\\\2", text))


def plain_text(answer_lines: list[Line], opinions: frozenset[int] = frozenset()) -> str:
    """The lines as plain text (a spreadsheet cell): "•" bullets, no markup characters."""
    out = []
    for line in answer_lines:
        text = "".join(span_text(span, opinions) for span in line.spans)
        out.append("  " * line.depth + "• " + text if line.bullet else text)
    return "\n".join(out).strip("\n")


def span_text(span: Span, opinions: frozenset[int] = frozenset()) -> str:
    """A span as plain text: a marker as "[n]", "(opinion)" after an opinion's."""
    if span.style != MARKER:
        return span.text
    return f"[{span.text}]" + (" (opinion)" if int(span.text) in opinions else "")


def opinions_of(answer: Answer) -> frozenset[int]:
    """The numbers of the citations that quote opinion (community posts), not fact."""
    return frozenset(c.n for c in answer.citations if c.opinion)


__all__ = [
    "BOLD",
    "CODE",
    "CONTROL_CHARS",
    "MARKER",
    "QUOTE",
    "TEXT",
    "Line",
    "Span",
    "answer_lines",
    "as_markdown",
    "as_plain_text",
    "code_span",
    "escape",
    "escape_lines",
    "lines",
    "markdown",
    "opinions_of",
    "plain_text",
    "span_text",
]
