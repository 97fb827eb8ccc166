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


# Where a question asks a second thing: "…, and which model…", "…? When…", "; what…".
_ASKING = (
    r"(?:what|which|when|where|who|whom|whose|why|how|is|are|was|were|does|do|did|can|could|"
    r"will|would|should|shall|may|must|has|have|had)"
)
_PREPOSITION = r"(?:(?:on|from|in|at|by|for|to|with|until|till|since|under|through|into)\s+)?"
_PART_BREAK = re.compile(
    rf"\?\s+|;\s+|,?\s+(?:and|or|but)\s+(?={_PREPOSITION}{_ASKING}\b)"
    rf"|,\s+(?={_PREPOSITION}{_ASKING}\b)",
    re.IGNORECASE,
)
_CONDITION = re.compile(
    r"^(?:if|once|when|whenever|because|since|as|although|while|after|before|unless|in case)\b"
    r"(?![^,]*\?)",
    re.IGNORECASE,
)
_ASKS = re.compile(rf"^(?:(?:and|or|but|then)\s+)?{_PREPOSITION}{_ASKING}\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z¿¡])")
MIN_PART_WORDS = 3


def question_parts(question: str) -> list[str]:
    """The things a question asks, each readable alone: the scene it sets (its sentences that
    do not ask) followed by one of the clauses that ask. "We run X. When does it retire, and
    what replaces it?" -> ["We run X. When does it retire", "We run X. what replaces it?"].
    A question asking one thing is one part."""
    sentences = _SENTENCE_END.split(question.strip())
    scene = " ".join(s for s in sentences if not s.rstrip().endswith("?"))
    asking = " ".join(s for s in sentences if s.rstrip().endswith("?"))
    if not asking:
        return [question]
    clauses = [c.strip(" ,;") for c in _PART_BREAK.split(asking) if c and c.strip(" ,;?")]
    parts: list[str] = []
    for index, clause in enumerate(clauses):  # a clause that does not ask ("If X") sets the scene
        first_asks = index == 0 and not _CONDITION.match(clause)
        if (first_asks or _ASKS.match(clause)) and len(clause.split()) >= MIN_PART_WORDS:
            parts.append(clause)
        elif not parts:
            scene = f"{scene} {clause},".strip()
        else:
            parts[-1] = f"{parts[-1]}, {clause}"
    if len(parts) < 2:
        return [question]
    return [f"{scene} {part}".strip() for part in parts]
