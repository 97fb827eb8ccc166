from __future__ import annotations

from datetime import date

from bot.answering.engine import Engine

QUESTION = "Is mistral-medium-2312 still available?"


def test_a_retired_model_cannot_be_called_today(engine: Engine) -> None:
    answer = engine.ask(QUESTION)
    assert "retired on 2025-06-16" in answer.answer
    assert "can no longer be called" in answer.answer
    assert "`mistral-medium-latest`" in answer.answer and "`mistral-medium-2505`" in answer.answer


def test_the_status_follows_today(engine: Engine) -> None:
    settings = engine.settings.model_copy(update={"today": date(2025, 1, 15)})
    past = Engine(settings, engine.store, engine.embedder)
    answer = past.ask(QUESTION)
    assert "Status as of 2025-01-15: deprecated since 2024-11-30" in answer.answer
    assert "Planned: retired on 2025-06-16" in answer.answer
    assert "can no longer be called" not in answer.answer


def test_the_status_is_written_in_the_question_language(engine: Engine) -> None:
    answer = engine.ask("Ist mistral-medium-2312 noch verfügbar?")
    assert "am 2025-06-16 abgeschaltet" in answer.answer
    assert "kann nicht mehr aufgerufen werden" in answer.answer
