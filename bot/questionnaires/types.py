"""What the questionnaire modules share: a questionnaire read, a row answered, their errors.

QuestionnaireError        the file cannot be read as a questionnaire (the person fixes the file)
QuestionnaireOutputError  the answers or the progress journal cannot be written where asked
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import ProcurebotError

if TYPE_CHECKING:
    from bot.answering.answers import Answer


class QuestionnaireError(ProcurebotError):
    """The file is not a questionnaire procurebot can read: wrong type, empty, broken, too big."""


class QuestionnaireOutputError(ProcurebotError):
    """The answered questionnaire or its report cannot be written to the path asked for."""


@dataclass(frozen=True)
class Questionnaire:
    columns: tuple[str, ...]  # the header row
    rows: tuple[tuple[str, ...], ...]  # cell text, each row as long as `columns`
    question_column: int
    name: str = ""  # the file's name, as the person knows it
    sha256: str = ""  # of the file's bytes: a journal resumes only the very same file
    notices: tuple[str, ...] = ()  # how the file was read, when the person should know


@dataclass(frozen=True)
class AnsweredRow:
    """One row with its answer; `answer` is None when the row was skipped or failed (`error`)."""

    row: tuple[str, ...]
    question: str
    answer: Answer | None
    error: str = ""

    @property
    def skipped(self) -> bool:
        return not self.question.strip()
