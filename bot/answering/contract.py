"""The contract every answerer keeps, and how one says it could not answer.

An answerer turns what retrieval found into a cited Answer (`answer`), or yields the answer's
text as it is written and then the Answer (`stream`). The extractive answerer always answers;
one that depends on a service (the Mistral API) raises Unavailable with a reason a person can
read, and the engine (`bot.answering.engine`) answers offline instead, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Protocol

from bot.answering.answers import Answer
from bot.answering.retrieval import Retrieval


class Unavailable(Exception):
    """The answerer's service failed; `reason` completes "Offline extractive answer: …"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Answerer(Protocol):
    name: str  # "extractive" | "mistral": the backend recorded with every answer
    model: str  # what answered, e.g. "extractive (multilingual-e5-small-q4)"

    def answer(self, retrieval: Retrieval, today: date) -> Answer:
        """The cited answer; Unavailable when the answerer's service failed."""
        ...

    def stream(self, retrieval: Retrieval, today: date) -> Iterator[str | Answer]:
        """The answer's text as it grows, then the Answer; Unavailable as for `answer`."""
        ...
