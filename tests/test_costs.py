from __future__ import annotations

import pytest

from bot.answering.engine import Engine
from bot.answering.facts.costs import volumes


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "10 million input and 2 million output tokens a month on Medium 3",
            {"input": 10_000_000, "output": 2_000_000},
        ),
        ("120M input tokens and 25M output tokens", {"input": 120_000_000, "output": 25_000_000}),
        (
            "one million input tokens plus one million output tokens",
            {"input": 1_000_000, "output": 1_000_000},
        ),
        (
            "500 millions de tokens en entrée et 100 millions en sortie",
            {"input": 500_000_000, "output": 100_000_000},
        ),
        ("1,5 Mio. Eingabe-Tokens", {}),  # not a form we read: no guess
        ("What is the Mistral Medium 3 input price?", {}),  # a version is not a volume
        ("2500 input tokens", {"input": 2500}),
        ("How much do Mistral Medium 3 input tokens cost?", {}),
    ],
)
def test_volumes(question: str, expected: dict[str, int]) -> None:
    assert volumes(question, frozenset({"medium"})) == expected  # a family the corpus names


def test_the_cost_example_computes_usd_8_with_its_formula(engine: Engine) -> None:
    answer = engine.ask(
        "What would 10 million input and 2 million output tokens a month cost on Medium 3?"
    )
    assert answer.grounded
    assert "10,000,000 tokens / 1,000,000 × USD 0.40 [" in answer.answer
    assert "2,000,000 tokens / 1,000,000 × USD 2.00 [" in answer.answer
    assert "USD 4.00 + USD 4.00 = **USD 8.00**" in answer.answer
    cited = {c.quote for c in answer.citations}
    assert "**Input:** $0.4 per million tokens" in cited
    assert not any("$8.10" in quote or "$2.75" in quote for quote in cited), "wrong version"


def test_no_estimate_without_a_price_for_each_direction(engine: Engine) -> None:
    answer = engine.ask("Estimate the cost of 20M input and 20M output tokens on Mistral Small 4.")
    assert not answer.grounded and answer.citations == ()


def test_each_direction_gets_its_own_price_from_a_combined_sentence(engine: Engine) -> None:
    answer = engine.ask(
        "We expect 120M input tokens and 25M output tokens a month on Medium 3.1. "
        "What is the monthly bill at list price?"
    )
    assert "120,000,000 tokens / 1,000,000 × USD 0.40 [" in answer.answer
    assert "25,000,000 tokens / 1,000,000 × USD 2.00 [" in answer.answer
    assert "**USD 98.00**" in answer.answer
