"""Clean what a person typed into a question that can be asked.

Control characters (NUL, escapes, bidirectional overrides) are removed, runs of white space
fold to one space, and an over-long question is cut at a word boundary with a notice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.errors import QuestionError

# Unicode categories removed: control, format (zero-width, bidi overrides), surrogates,
# private use, unassigned.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACE = re.compile(r"\s+")
# Longer input is refused outright rather than cleaned and cut (it is not a question).
MAX_INPUT_CHARS = 1_000_000


@dataclass(frozen=True)
class Question:
    text: str
    notices: tuple[str, ...] = ()


def clean_question(raw: str, max_chars: int) -> Question:
    """The question to ask, or QuestionError when nothing askable is left."""
    if not isinstance(raw, str):
        raise QuestionError("The question must be text.")
    if len(raw) > MAX_INPUT_CHARS:
        raise QuestionError(
            f"The question is {len(raw):,} characters long; procurebot takes up to "
            f"{MAX_INPUT_CHARS:,} (and answers on the first {max_chars:,})."
        )
    notices: list[str] = []
    kept = "".join(
        " " if ch in "\t\n\r\v\f" else ch
        for ch in raw
        if ch in "\t\n\r\v\f" or unicodedata.category(ch) not in _REMOVED_CATEGORIES
    )
    removed = len(raw) - len(kept)
    text = _SPACE.sub(" ", kept).strip()
    if removed and text:
        notices.append(f"{removed} invisible or control character(s) were removed.")
    if not text:
        raise QuestionError("The question is empty: type a question about the documents.")
    if len(text) > max_chars:
        cut = text[:max_chars]
        if " " in cut[max_chars // 2 :]:
            cut = cut[: cut.rindex(" ")]
        notices.append(
            f"The question was {len(text):,} characters long; only its first {len(cut):,} "
            f"were used (the limit is {max_chars:,})."
        )
        text = cut.rstrip()
    return Question(text, tuple(notices))
