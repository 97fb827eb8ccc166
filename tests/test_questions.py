from __future__ import annotations

import pytest

from bot.answering.questions import clean_question
from bot.errors import QuestionError


@pytest.mark.parametrize("raw", ["", "   ", "\n\t\r", "\x00\x01\x1b", "\u200b\u202e", "\udcff"])
def test_nothing_askable_is_an_error(raw: str) -> None:
    with pytest.raises(QuestionError, match="empty"):
        clean_question(raw, 2000)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("What  does\tit\ncost?", "What does it cost?"),
        ("Is it\x00 deprecated?\x07", "Is it deprecated?"),
        ("Prix \u202eà l'envers", "Prix à l'envers"),
        ("¿Cuánto cuesta? 💶", "¿Cuánto cuesta? 💶"),
        ("مرحبا Mistral", "مرحبا Mistral"),
    ],
)
def test_control_characters_are_removed_and_space_folded(raw: str, expected: str) -> None:
    assert clean_question(raw, 2000).text == expected


def test_removed_characters_are_noticed() -> None:
    assert "removed" in clean_question("a\x00b", 2000).notices[0]
    assert clean_question("plain", 2000).notices == ()


def test_an_over_long_question_is_cut_at_a_word_with_a_notice() -> None:
    question = clean_question("price " * 1000, 2000)
    assert len(question.text) <= 2000
    assert question.text.endswith("price")
    assert "2,000" in question.notices[0]
