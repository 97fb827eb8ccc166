"""A questionnaire's rows answered in order, each kept in a journal as soon as it is answered
(when one is given), and the one-line summary of a run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.errors import QuestionError
from bot.questionnaires.types import AnsweredRow, Questionnaire

if TYPE_CHECKING:
    from bot.answering.answers import Answer
    from bot.questionnaires.journal import Journal

logger = logging.getLogger(__name__)


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def answer_questionnaire(
    questionnaire: Questionnaire,
    ask: Callable[[str], Answer],
    progress: Callable[[int, int], None] | None = None,
    journal: Journal | None = None,
) -> list[AnsweredRow]:
    """Ask every row's question in order; a question `ask` rejects is recorded in its row.

    With a journal, rows it already holds are not asked again and each new one is added to it
    as soon as it is answered.
    """
    answered: list[AnsweredRow] = []
    total = len(questionnaire.rows)
    for index, row in enumerate(questionnaire.rows):
        item = journal.done.get(index) if journal is not None else None
        if item is None:
            item = _answer_row(row, row[questionnaire.question_column], ask)
            if journal is not None:
                journal.record(index, item)
        answered.append(item)
        if progress is not None:
            progress(index + 1, total)
    logger.info("questionnaire: %s", summary_line(answered))
    return answered


def _answer_row(row: tuple[str, ...], question: str, ask: Callable[[str], Answer]) -> AnsweredRow:
    if not question.strip():
        return AnsweredRow(row, question, None)
    try:
        return AnsweredRow(row, question, ask(question))
    except QuestionError as exc:
        return AnsweredRow(row, question, None, str(exc))


def summary_line(answered: Sequence[AnsweredRow]) -> str:
    """`Answered 20 questions: 18 with sources, 2 not answered by the documents, 0 errors.`"""
    answers = [item.answer for item in answered if item.answer is not None]
    grounded = sum(answer.grounded for answer in answers)
    skipped = sum(item.skipped for item in answered)
    errors = sum(bool(item.error) for item in answered)
    line = (
        f"Answered {_count(len(answered) - skipped, 'question')}: {grounded} with sources, "
        f"{len(answers) - grounded} not answered by the documents, {_count(errors, 'error')}."
    )
    return line + (f" {_count(skipped, 'row')} without a question skipped." if skipped else "")
