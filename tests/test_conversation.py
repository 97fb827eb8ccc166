from __future__ import annotations

import pytest

from bot.answering.engine import Engine
from bot.answering.followups import standalone

PRICE = "What does Mistral Medium 3 cost per million output tokens?"


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("And for 3.1?", [PRICE], "What does Mistral Medium 3.1 cost per million output tokens?"),
        (
            "What about Mistral Large 3?",
            [PRICE],
            "What does Mistral Large 3 cost per million output tokens?",
        ),
        (
            "Und 3.1?",
            ["Was kostet Mistral Medium 3 pro Million Ausgabe-Tokens?"],
            "Was kostet Mistral Medium 3.1 pro Million Ausgabe-Tokens?",
        ),
        (
            "Is it multimodal?",
            ["Tell me about Mistral Medium 3."],
            "Tell me about Mistral Medium 3. Is it multimodal?",
        ),
        (
            "Which clouds offer Mistral Medium 3.1?",
            [PRICE],
            "Which clouds offer Mistral Medium 3.1?",
        ),
        ("And for 3.1?", [], "And for 3.1?"),
        ("Et pour Medium 3.1 ?", [PRICE], PRICE.replace("Medium 3", "Medium 3.1")),
        ("E per il Large 3?", [PRICE], PRICE.replace("Medium", "Large")),
        (
            "What about the context window of Large 2?",
            [PRICE],
            "the context window of Large 2?",
        ),
        (
            "And 3.1?",
            ["And for output?", PRICE],
            "What does Mistral Medium 3.1 cost per million output tokens?",
        ),
    ],
)
def test_standalone(question: str, history: list[str], expected: str) -> None:
    known = frozenset({"medium", "large"})  # the product families the corpus names
    assert standalone(question, history, known) == expected


def test_a_follow_up_is_answered_with_its_rewritten_query(engine: Engine) -> None:
    answer = engine.ask("And for 3.1?", ["Which clouds offer Mistral Medium 3?"])
    assert answer.question == "And for 3.1?"
    assert answer.rewritten_query == "Which clouds offer Mistral Medium 3.1?"
    assert answer.grounded and any("Bedrock" in c.quote for c in answer.citations)


def test_a_connector_is_a_word_of_its_own() -> None:
    previous = ["What does Medium 3 cost?"]
    known = frozenset({"medium"})
    assert standalone("e.g. for 100 users on two sites?", previous, known).startswith("e.g.")
    assert standalone("E il prezzo?", previous, known) == "What does Medium 3 cost? il prezzo?"
