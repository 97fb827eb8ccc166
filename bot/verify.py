"""Verify a generated citation: is its quote really in the passage it cites, and where?

Models copy quotes with small differences: runs of white space, typographic quotes and
dashes, an ellipsis or quotation marks around the quote. Both texts are compared after
normalising those; the span found is mapped back to the passage's own characters, so the
recorded quote is the source's exact text.
"""

from __future__ import annotations

_EQUIVALENT = str.maketrans(
    {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "}
)
_TRIM = " \t\n\"'“”‘’«».…"
MIN_QUOTE_CHARS = 8


def _normalised(text: str) -> tuple[str, list[int]]:
    """The text with equivalents folded and white space collapsed, and each char's origin."""
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text.translate(_EQUIVALENT)):
        if ch.isspace():
            if chars and chars[-1] == " ":
                continue
            ch = " "
        chars.append(ch)
        origin.append(index)
    return "".join(chars), origin


def locate(quote: str, passage: str) -> tuple[int, int] | None:
    """The span of `quote` in `passage` (start, end), or None when it is not there."""
    wanted, _ = _normalised(quote.strip(_TRIM).removesuffix("...").strip(_TRIM))
    wanted = wanted.strip()
    if len(wanted) < MIN_QUOTE_CHARS:
        return None
    haystack, origin = _normalised(passage)
    found = haystack.find(wanted)
    if found < 0:
        found = haystack.lower().find(wanted.lower())
    if found < 0:
        return None
    return origin[found], origin[found + len(wanted) - 1] + 1
