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


def _lowered(text: str) -> str:
    """Lower case, character by character, keeping the length: a character whose lower case
    is longer ("İ" is "i" and a combining dot) is kept, so positions still map back."""
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def locate(quote: str, passage: str) -> tuple[int, int] | None:
    """The span of `quote` in `passage` (start, end), or None when it is not there.

    The quote, without marks and an ellipsis around it, and passage[start:end] are the same
    text once quotes and dashes are folded, white space collapsed and, when the exact text is
    not there, case ignored (tests/test_properties.py states it precisely).
    """
    wanted, _ = _normalised(quote.strip(_TRIM).removesuffix("...").strip(_TRIM))
    wanted = wanted.strip()
    if len(wanted) < MIN_QUOTE_CHARS:
        return None
    haystack, origin = _normalised(passage)
    found = haystack.find(wanted)
    if found < 0:
        found = _lowered(haystack).find(_lowered(wanted))
    if found < 0:
        return None
    return origin[found], origin[found + len(wanted) - 1] + 1
